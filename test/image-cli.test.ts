import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud } from './support/cloud.js';
import { haveOpenstackCli, openstack, openstackJson, openstackOk } from './support/openstack-cli.js';
import { newProjectUser, waitFor } from './support/image-http.js';

const haveQemuImg = existsSync('/usr/bin/qemu-img');
type Image = Record<string, any>;

test('image service with the real openstack CLI', { skip: !haveOpenstackCli && 'python3-openstackclient not installed' }, async (t) => {
  const cloud = await startTestCloud();
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-image-cli-'));
  t.after(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = cloud.env;
  const demo = await newProjectUser(cloud, 'demo');

  // A real qcow2 when qemu-img is there (always with an explicit format), else raw bytes.
  const diskFile = join(dir, 'cirros.img');
  let diskFormat = 'raw';
  if (haveQemuImg) {
    execFileSync('qemu-img', ['create', '-f', 'qcow2', diskFile, '64M'], { stdio: 'ignore' });
    diskFormat = 'qcow2';
  } else {
    writeFileSync(diskFile, randomBytes(256 * 1024));
  }
  const bytes = readFileSync(diskFile);
  const md5 = createHash('md5').update(bytes).digest('hex');

  await t.test('image create --file --public, list, show', async () => {
    const created = await openstackJson<Image>(admin, [
      'image', 'create', 'cirros', '--file', diskFile, '--disk-format', diskFormat, '--container-format', 'bare', '--public',
    ]);
    assert.equal(created['name'], 'cirros');
    assert.equal(created['visibility'], 'public');
    const list = await openstackJson<Image[]>(admin, ['image', 'list']);
    assert.ok(list.some((i) => i['Name'] === 'cirros' && i['Status'] === 'active'), JSON.stringify(list));
    const shown = await openstackJson<Image>(admin, ['image', 'show', 'cirros']);
    assert.equal(shown['status'], 'active');
    assert.equal(shown['size'], bytes.length);
    assert.equal(shown['checksum'], md5);
    assert.equal(shown['properties']['os_hash_algo'], 'sha512');
    assert.equal(shown['properties']['os_hash_value'], createHash('sha512').update(bytes).digest('hex'));
    if (diskFormat === 'qcow2') assert.equal(shown['virtual_size'], 64 * 1024 * 1024);
  });

  await t.test('image save --file returns the same bytes', async () => {
    const out = join(dir, 'saved.img');
    await openstackOk(admin, ['image', 'save', '--file', out, 'cirros']);
    assert.ok(readFileSync(out).equals(bytes));
  });

  await t.test('image set --property k=v', async () => {
    await openstackOk(admin, ['image', 'set', '--property', 'hw_disk_bus=virtio', '--property', 'os_distro=cirros', 'cirros']);
    const shown = await openstackJson<Image>(admin, ['image', 'show', 'cirros']);
    assert.equal(shown['properties']['hw_disk_bus'], 'virtio');
    assert.equal(shown['properties']['os_distro'], 'cirros');
    assert.equal(shown['status'], 'active');
  });

  await t.test('image add project + image set --accept', async () => {
    const shared = await openstackJson<Image>(admin, [
      'image', 'create', 'shared-img', '--file', diskFile, '--disk-format', diskFormat, '--container-format', 'bare', '--shared',
    ]);
    const id = shared['id'] as string;
    const member = await openstackJson<Image>(admin, ['image', 'add', 'project', id, demo.projectId]);
    assert.equal(member['status'], 'pending');
    let names = (await openstackJson<Image[]>(demo.env, ['image', 'list'])).map((i) => i['Name']);
    assert.ok(!names.includes('shared-img'), 'pending images are not in the member list');
    await openstackOk(demo.env, ['image', 'set', '--accept', id]);
    names = (await openstackJson<Image[]>(demo.env, ['image', 'list'])).map((i) => i['Name']);
    assert.ok(names.includes('shared-img'), 'accepted images are listed');
  });

  await t.test('image create --import (glance-direct)', async () => {
    const raw = randomBytes(300 * 1024);
    const file = join(dir, 'import.raw');
    writeFileSync(file, raw);
    const created = await openstackJson<Image>(admin, [
      'image', 'create', 'imported', '--import', '--file', file, '--disk-format', 'raw', '--container-format', 'bare',
    ]);
    const id = created['id'] as string;
    const shown = await waitFor('the import to finish', async () => {
      const s = await openstackJson<Image>(admin, ['image', 'show', id]);
      return s['status'] === 'active' ? s : undefined;
    });
    assert.equal(shown['size'], raw.length);
    assert.equal(shown['checksum'], createHash('md5').update(raw).digest('hex'));
  });

  await t.test('image delete', async () => {
    await openstackOk(admin, ['image', 'delete', 'cirros']);
    const r = await openstack(admin, ['image', 'show', 'cirros']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No Image found|Could not find|not found/i);
  });
});
