import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { imageCall, newProjectUser, waitFor, type TestUser } from './support/image-http.js';

const MiB = 1024 * 1024;
const PATCH21 = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
const PATCH20 = { 'content-type': 'application/openstack-images-v2.0-json-patch' };
const OCTET = { 'content-type': 'application/octet-stream' };

/** A qcow2 v3 header (what qemu-img writes), optionally naming a backing file or an external data file. */
function qcow2(options: { backing?: string; dataFile?: boolean; size?: number } = {}): Buffer {
  const b = Buffer.alloc(64 * 1024);
  b.writeUInt32BE(0x514649fb, 0);
  b.writeUInt32BE(3, 4);
  b.writeUInt32BE(16, 20); // cluster bits
  b.writeBigUInt64BE(BigInt(options.size ?? 64 * MiB), 24);
  b.writeUInt32BE(104, 100); // header length
  if (options.backing) {
    b.writeBigUInt64BE(512n, 8);
    b.writeUInt32BE(options.backing.length, 16);
    b.write(options.backing, 512, 'latin1');
  }
  if (options.dataFile) b.writeBigUInt64BE(4n, 72);
  return b;
}

/** Files in the stores: committed image files, partial writes and staged data. */
function storeFiles(cloud: TestCloud): string[] {
  const base = join(cloud.config.dataDir, 'images');
  const list = (d: string) => (existsSync(d) ? readdirSync(d).filter((n) => !n.startsWith('.') && n !== 'staging') : []);
  return [...list(base), ...list(join(base, '.partial')).map((n) => `.partial/${n}`), ...list(join(base, 'staging')).map((n) => `staging/${n}`), ...list(join(base, 'staging', '.partial'))];
}

test('bad input gets the right 4xx and leaves nothing behind', async (t) => {
  const cloud = await startTestCloud({
    image: { imageSizeCapBytes: 4 * MiB, uploadIdleTimeoutSeconds: 2, quotas: { imageSizeTotalMiB: 6, imageCountTotal: 50, imageStageTotalMiB: 3 } },
  });
  t.after(() => cloud.close());
  const user = await newProjectUser(cloud, 'bad');
  const call = (method: string, path: string, options: Parameters<typeof imageCall>[4] = {}, u: TestUser = user) =>
    imageCall(cloud, u.token, method, path, options);
  const create = async (body: Record<string, unknown> = { disk_format: 'raw', container_format: 'bare' }, u: TestUser = user) => {
    const r = await call('POST', '/v2/images', { body: { name: 'bad-input', ...body } }, u);
    assert.equal(r.status, 201, r.body.toString());
    return r.json()['id'] as string;
  };
  const show = async (id: string) => (await call('GET', `/v2/images/${id}`)).json();
  const count = async () => ((await call('GET', '/v2/images?limit=1000')).json()['images'] as unknown[]).length;

  await t.test('JSON patch: media type, paths, operations', async () => {
    const id = await create();
    const before = await show(id);
    const cases: Array<[Record<string, string>, unknown, number]> = [
      [{ 'content-type': 'application/json' }, [{ op: 'replace', path: '/name', value: 'x' }], 415],
      [{ 'content-type': 'text/plain' }, [{ op: 'replace', path: '/name', value: 'x' }], 415],
      [PATCH21, { op: 'replace', path: '/name', value: 'x' }, 400],
      [PATCH21, [{ op: 'move', path: '/name', value: 'x' }], 400],
      [PATCH21, [{ path: '/name', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: 'name', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: '/a/b', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: '/a//b', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: '/name/', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: '/na~2me', value: 'x' }], 400],
      [PATCH21, [{ op: 'replace', path: '/name' }], 400],
      [PATCH21, [{ op: 'add', path: '/x', value: 1 }], 400],
      [PATCH21, [{ op: 'replace', path: '/min_ram', value: -1 }], 400],
      [PATCH21, [{ op: 'replace', path: '/disk_format', value: 'bogus' }], 400],
      [PATCH21, [{ op: 'replace', path: '/visibility', value: 'everyone' }], 400],
      [PATCH20, [{ add: '/x', replace: '/y', value: 'v' }], 400],
      [PATCH20, [{ add: '/name', value: 'v' }], 409],
      [PATCH21, [{ op: 'replace', path: '/nope', value: 'v' }], 409],
      [PATCH21, [{ op: 'remove', path: '/nope' }], 409],
      [PATCH21, [{ op: 'remove', path: '/name' }], 403],
      [PATCH21, [{ op: 'replace', path: '/status', value: 'active' }], 403],
      [PATCH21, [{ op: 'replace', path: '/id', value: 'x' }], 403],
      [PATCH21, [{ op: 'add', path: '/os_glance_foo', value: 'bar' }], 403],
      [PATCH20, [{ add: '/os_glance_foo', value: 'bar' }], 403],
      [PATCH21, [{ op: 'add', path: '/deleted', value: 'x' }], 403],
      [PATCH21, [{ op: 'add', path: '/locations/-', value: { url: 'file:///etc/passwd', metadata: {} } }], 403],
      // A later bad change voids the earlier good ones: changes apply together or not at all.
      [PATCH21, [{ op: 'replace', path: '/name', value: 'changed' }, { op: 'replace', path: '/status', value: 'x' }], 403],
      [PATCH21, [{ op: 'replace', path: '/name', value: 'changed' }, { op: 'remove', path: '/missing' }], 409],
    ];
    for (const [headers, body, status] of cases) {
      const r = await call('PATCH', `/v2/images/${id}`, { body: Buffer.from(JSON.stringify(body)), headers });
      assert.equal(r.status, status, `${JSON.stringify(body)} as ${headers['content-type']}: ${r.status} ${r.body.toString()}`);
      assert.match(String(r.headers['content-type']), /application\/json/);
      if (status === 415) assert.match(String(r.headers['accept-patch']), /openstack-images-v2\.1-json-patch/);
    }
    const malformed = await call('PATCH', `/v2/images/${id}`, { body: Buffer.from('[{'), headers: PATCH21 });
    assert.equal(malformed.status, 400);
    assert.deepEqual(await show(id), before, 'nothing changed');
  });

  await t.test('create: bogus formats, reserved and read-only attributes create nothing', async () => {
    const n = await count();
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ disk_format: 'wrong' }, 400],
      [{ container_format: 'wrong' }, 400],
      [{ visibility: 'world' }, 400],
      [{ protected: 'yes' }, 400],
      [{ min_disk: -1 }, 400],
      [{ custom: 42 }, 400],
      [{ ramdisk_id: 'not-a-uuid' }, 400],
      [{ id: 'not-a-uuid' }, 400],
      [{ name: 'x'.repeat(256) }, 400],
      [{ tags: ['x'.repeat(256)] }, 400],
      [{ os_glance_foo: 'bar' }, 403],
      [{ location: 'file:///etc/passwd' }, 403],
      [{ locations: [] }, 403],
      [{ deleted: 'x' }, 403],
      [{ status: 'active' }, 403],
      [{ checksum: 'x' }, 403],
      [{ size: 1 }, 403],
      [{ self: 'x' }, 403],
    ];
    for (const [body, status] of cases) {
      const r = await call('POST', '/v2/images', { body: { name: 'bogus', ...body } });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 60)}: ${r.status} ${r.body.toString()}`);
    }
    assert.equal((await call('POST', '/v2/images', { body: Buffer.from('{nope'), headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal(await count(), n, 'no image was created');
  });

  await t.test('upload: content type, formats, state', async () => {
    const id = await create();
    const data = randomBytes(1024);
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data, headers: { 'content-type': 'application/json' } })).status, 415);
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data })).status, 415, 'no content type');
    const noFormats = await create({});
    assert.equal((await call('PUT', `/v2/images/${noFormats}/file`, { body: data, headers: OCTET })).status, 400);
    assert.equal((await show(id))['status'], 'queued');
    assert.equal((await show(noFormats))['status'], 'queued');
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET })).status, 204);
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET })).status, 409, 'no second upload');
    assert.equal((await call('PUT', `/v2/images/${id}/stage`, { body: data, headers: OCTET })).status, 409);
    assert.equal((await call('DELETE', `/v2/images/${id}`)).status, 204);
    assert.equal((await call('DELETE', `/v2/images/${noFormats}`)).status, 204);
  });

  await t.test('unsafe or mislabelled disk images are refused', async () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['qcow2', qcow2({ backing: '/etc/shadow' }), /backing file/],
      ['raw', qcow2({ backing: '/etc/shadow' }), /backing file/],
      ['qcow2', qcow2({ dataFile: true }), /external data file/],
      ['raw', qcow2(), /qcow2 image, but disk_format is raw/],
      ['vmdk', Buffer.from('# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/shadow" 0\n'), /external extents/],
    ];
    if (existsSync('/usr/bin/qemu-img')) {
      const dir = mkdtempSync(join(tmpdir(), 'nimbus-bad-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      execFileSync('qemu-img', ['create', '-f', 'qcow2', join(dir, 'base.qcow2'), '16M'], { stdio: 'ignore' });
      execFileSync('qemu-img', ['create', '-f', 'qcow2', '-b', join(dir, 'base.qcow2'), '-F', 'qcow2', join(dir, 'child.qcow2')], { stdio: 'ignore' });
      cases.push(['qcow2', readFileSync(join(dir, 'child.qcow2')), /backing file/]);
    }
    for (const [diskFormat, data, message] of cases) {
      const id = await create({ disk_format: diskFormat, container_format: 'bare' });
      const r = await call('PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET });
      assert.equal(r.status, 400, `${diskFormat}: ${r.body.toString()}`);
      assert.match(r.json()['message'], message);
      const after = await show(id);
      assert.equal(after['status'], 'queued');
      assert.equal(after['size'], null);
      // The same through import: the task fails and the image goes back to queued.
      const imp = await create({ disk_format: diskFormat, container_format: 'bare' });
      assert.equal((await call('PUT', `/v2/images/${imp}/stage`, { body: data, headers: OCTET })).status, 204);
      assert.equal((await call('POST', `/v2/images/${imp}/import`, { body: { method: { name: 'glance-direct' } } })).status, 202);
      const failed = await waitFor('the import to fail', async () => {
        const tasks = (await call('GET', `/v2/images/${imp}/tasks`)).json()['tasks'] as Array<{ status: string; message: string }>;
        return tasks[0]?.status === 'failure' ? tasks[0] : undefined;
      });
      assert.match(failed.message, message);
      assert.equal((await show(imp))['status'], 'queued');
    }
    // Random bytes labelled qcow2 are not recognisably anything: accepted, as Glance does (Tempest relies on it).
    const random = await create({ disk_format: 'qcow2', container_format: 'bare' });
    assert.equal((await call('PUT', `/v2/images/${random}/file`, { body: randomBytes(1024), headers: OCTET })).status, 204);
    assert.equal((await show(random))['virtual_size'], null);
    assert.equal((await call('DELETE', `/v2/images/${random}`)).status, 204);
  });

  await t.test('oversized uploads: image_size_cap and the size quota', async () => {
    const id = await create();
    const r = await call('PUT', `/v2/images/${id}/file`, { body: chunks(5 * MiB), headers: OCTET });
    assert.equal(r.status, 413, r.body.toString());
    assert.equal((await show(id))['status'], 'queued');
    // 6 MiB per project: 3 MiB fits, the next 4 MiB does not (refused while streaming).
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: chunks(3 * MiB), headers: OCTET })).status, 204);
    const second = await create();
    const over = await call('PUT', `/v2/images/${second}/file`, { body: chunks(4 * MiB), headers: OCTET });
    assert.equal(over.status, 413, over.body.toString());
    assert.match(over.json()['message'], /image_size_total/);
    assert.equal((await show(second))['status'], 'queued');
    // Staging has its own limit (3 MiB).
    const staged = await create();
    assert.equal((await call('PUT', `/v2/images/${staged}/stage`, { body: chunks(4 * MiB), headers: OCTET })).status, 413);
    assert.equal((await show(staged))['status'], 'queued');
    for (const i of [id, second, staged]) assert.equal((await call('DELETE', `/v2/images/${i}`)).status, 204);
  });

  await t.test('a truncated upload leaves the image queued and no data', async () => {
    const id = await create();
    const status = await truncatedUpload(cloud, user.token, `/v2/images/${id}/file`, 2 * MiB, 256 * 1024);
    assert.ok(status === undefined || status >= 400, `no success for a truncated body (${status})`);
    const after = await waitFor('the image to leave saving', async () => {
      const s = await show(id);
      return s['status'] === 'saving' ? undefined : s;
    });
    assert.equal(after['status'], 'queued');
    assert.equal(after['size'], null);
    // Chunked body cut short the same way, into the staging area.
    const staged = await create();
    await truncatedUpload(cloud, user.token, `/v2/images/${staged}/stage`, undefined, 256 * 1024);
    const s2 = await waitFor('the image to leave uploading', async () => {
      const s = await show(staged);
      return s['status'] === 'uploading' ? undefined : s;
    });
    assert.equal(s2['status'], 'queued');
  });

  await t.test('a stalled upload is abandoned, not left in saving', async () => {
    const id = await create();
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    const stalled = (async function* () {
      yield randomBytes(64 * 1024);
      await never; // the client stops sending but keeps the connection
    })();
    const r = await call('PUT', `/v2/images/${id}/file`, { body: stalled, headers: OCTET });
    release();
    assert.equal(r.status, 400, r.body.toString());
    assert.match(r.json()['message'], /stopped arriving/);
    assert.equal((await show(id))['status'], 'queued');
  });

  await t.test('quota on the number of images', async () => {
    const other = await newProjectUser(cloud, 'counted');
    const small = await startTestCloud({ image: { quotas: { imageCountTotal: 2 } } });
    try {
      const u = await newProjectUser(small, 'few');
      for (let i = 0; i < 2; i++) assert.equal((await imageCall(small, u.token, 'POST', '/v2/images', { body: { name: `n${i}` } })).status, 201);
      const r = await imageCall(small, u.token, 'POST', '/v2/images', { body: { name: 'n3' } });
      assert.equal(r.status, 413);
      assert.match(r.json()['message'], /image_count_total/);
    } finally {
      await small.close();
    }
    assert.ok(other.projectId);
  });

  await t.test('nothing is left behind in the stores', async () => {
    const images = (await call('GET', '/v2/images?limit=1000')).json()['images'] as Array<{ id: string; status: string }>;
    const active = new Set(images.filter((i) => i.status === 'active').map((i) => i.id));
    const files = storeFiles(cloud);
    assert.deepEqual(files.filter((f) => !active.has(f)), [], 'only active images have files');
  });
});

/** Bytes in 64 KiB chunks (sent chunked). */
async function* chunks(total: number): AsyncGenerator<Buffer> {
  const block = randomBytes(64 * 1024);
  for (let sent = 0; sent < total; sent += block.length) yield block.subarray(0, Math.min(block.length, total - sent));
}

/** Sends `sent` bytes of a body announced as `declared` bytes (or chunked), then cuts the connection. */
function truncatedUpload(cloud: TestCloud, token: string, path: string, declared: number | undefined, sent: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'x-auth-token': token, 'content-type': 'application/octet-stream' };
    if (declared !== undefined) headers['content-length'] = String(declared);
    const req = request(new URL(cloud.url('image', path)), { method: 'PUT', headers });
    let status: number | undefined;
    req.on('response', (res) => {
      status = res.statusCode;
      res.resume();
    });
    req.on('error', () => resolve(status));
    req.on('close', () => resolve(status));
    req.write(randomBytes(sent), () => setTimeout(() => req.destroy(), 200));
  });
}
