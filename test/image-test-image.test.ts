import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud } from './support/cloud.js';
import { adminUser, imageCall, newProjectUser, waitFor } from './support/image-http.js';

test('the first start imports the test image as public cirros, once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-testimg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'test-image.qcow2');
  if (existsSync('/usr/bin/qemu-img')) execFileSync('qemu-img', ['create', '-f', 'qcow2', file, '32M'], { stdio: 'ignore' });
  else {
    const b = Buffer.alloc(512);
    b.writeUInt32BE(0x514649fb, 0);
    b.writeUInt32BE(3, 4);
    b.writeBigUInt64BE(32n * 1024n * 1024n, 24);
    writeFileSync(file, b);
  }
  const cloud = await startTestCloud({ image: { testImagePath: file } });
  t.after(() => cloud.close());
  const admin = await adminUser(cloud);
  const user = await newProjectUser(cloud, 'viewer');
  const cirros = await waitFor('the test image', async () => {
    const list = (await imageCall(cloud, user.token, 'GET', '/v2/images?name=cirros')).json()['images'] as Array<Record<string, any>>;
    return list.find((i) => i['status'] === 'active');
  });
  assert.equal(cirros['visibility'], 'public');
  assert.equal(cirros['disk_format'], 'qcow2');
  assert.equal(cirros['owner'], admin.projectId);
  assert.equal(cirros['virtual_size'], 32 * 1024 * 1024);
  assert.equal(cirros['checksum'], createHash('md5').update(readFileSync(file)).digest('hex'));
  assert.ok(existsSync(join(cloud.config.dataDir, 'images', '.test-image-imported')), 'remembered, so it is imported only once');
});
