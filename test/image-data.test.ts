import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCloud } from './support/cloud.js';
import { imageCall, newProjectUser, waitFor, type TestUser } from './support/image-http.js';

const OCTET = { 'content-type': 'application/octet-stream' };

test('image data: upload forms, checksums, ranges, virtual size', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const user: TestUser = await newProjectUser(cloud, 'data');
  const call = (method: string, path: string, options: Parameters<typeof imageCall>[4] = {}) => imageCall(cloud, user.token, method, path, options);
  const create = async (disk = 'raw') => (await call('POST', '/v2/images', { body: { name: 'd', disk_format: disk, container_format: 'bare' } })).json()['id'] as string;
  const show = async (id: string) => (await call('GET', `/v2/images/${id}`)).json();

  await t.test('no data yet: 204 with an empty body', async () => {
    const id = await create();
    const r = await call('GET', `/v2/images/${id}/file`);
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
  });

  await t.test('chunked upload, checksums, Content-MD5 and ranges', async () => {
    const id = await create();
    const data = randomBytes(200_000);
    const chunked = (async function* () {
      for (let i = 0; i < data.length; i += 7_777) yield data.subarray(i, i + 7_777);
    })();
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: chunked, headers: OCTET })).status, 204);
    const s = await show(id);
    const md5 = createHash('md5').update(data).digest('hex');
    assert.equal(s['status'], 'active', 'active as soon as the upload returns');
    assert.equal(s['size'], data.length);
    assert.equal(s['virtual_size'], data.length, 'raw: virtual size is the size');
    assert.equal(s['checksum'], md5);
    assert.equal(s['os_hash_algo'], 'sha512');
    assert.equal(s['os_hash_value'], createHash('sha512').update(data).digest('hex'));

    const full = await call('GET', `/v2/images/${id}/file`);
    assert.equal(full.status, 200);
    assert.equal(full.headers['content-md5'], md5);
    assert.equal(full.headers['content-type'], 'application/octet-stream');
    assert.equal(Number(full.headers['content-length']), data.length);
    assert.ok(full.body.equals(data));

    const ranges: Array<[Record<string, string>, number, number]> = [
      [{ range: 'bytes=0-99' }, 0, 99],
      [{ range: 'bytes=199990-' }, 199_990, 199_999],
      [{ range: 'bytes=-10' }, 199_990, 199_999],
      [{ range: 'bytes=100-999999' }, 100, 199_999],
      [{ 'content-range': 'bytes 10-19/200000' }, 10, 19],
    ];
    for (const [headers, start, end] of ranges) {
      const r = await call('GET', `/v2/images/${id}/file`, { headers });
      assert.equal(r.status, 206, JSON.stringify(headers));
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${data.length}`);
      assert.ok(r.body.equals(data.subarray(start, end + 1)));
    }
    for (const range of ['bytes=200000-', 'bytes=5-1', 'bytes=-0', 'items=0-1']) {
      assert.equal((await call('GET', `/v2/images/${id}/file`, { headers: { range } })).status, 416, range);
    }
  });

  await t.test('a PATCH during an upload changes only what it names', async () => {
    const id = await create();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const data = randomBytes(512 * 1024);
    const slow = (async function* () {
      yield data.subarray(0, 1024);
      await gate;
      yield data.subarray(1024);
    })();
    const upload = call('PUT', `/v2/images/${id}/file`, { body: slow, headers: OCTET });
    const patch = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
    // Wait until the upload holds the image (status saving), then patch it.
    for (let i = 0; i < 100 && (await show(id))['status'] !== 'saving'; i++) await new Promise((r) => setTimeout(r, 20));
    const r = await call('PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/name', value: 'renamed' }, { op: 'add', path: '/k', value: 'v' }], headers: patch });
    assert.equal(r.status, 200);
    assert.equal(r.json()['status'], 'saving');
    const formats = await call('PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/disk_format', value: 'qcow2' }], headers: patch });
    assert.equal(formats.status, 403, 'formats are fixed once data arrives');
    release();
    assert.equal((await upload).status, 204);
    const s = await show(id);
    assert.equal(s['status'], 'active', 'the PATCH did not put back a stale status');
    assert.equal(s['name'], 'renamed');
    assert.equal(s['k'], 'v');
    assert.equal(s['checksum'], createHash('md5').update(data).digest('hex'));
  });

  await t.test('an empty upload is a valid image', async () => {
    const id = await create();
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: Buffer.alloc(0), headers: OCTET })).status, 204);
    const s = await show(id);
    assert.equal(s['status'], 'active');
    assert.equal(s['size'], 0);
    assert.equal(s['checksum'], 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(s['virtual_size'], null);
  });

  await t.test('virtual size from qcow2, vmdk and vhd headers', { skip: !existsSync('/usr/bin/qemu-img') && 'qemu-img not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-vsize-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const [disk, qemuFormat, size] of [['qcow2', 'qcow2', 96], ['vmdk', 'vmdk', 48], ['vhd', 'vpc', 40]] as const) {
      const file = join(dir, `x.${disk}`);
      execFileSync('qemu-img', ['create', '-f', qemuFormat, file, `${size}M`], { stdio: 'ignore' });
      const id = await create(disk);
      assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: readFileSync(file), headers: OCTET })).status, 204);
      const vs = (await show(id))['virtual_size'] as number;
      // VHD rounds the size to its disk geometry.
      if (disk === 'vhd') assert.ok(Math.abs(vs - size * 1024 * 1024) < 1024 * 1024, `${disk}: ${vs}`);
      else assert.equal(vs, size * 1024 * 1024, disk);
    }
  });
});

test('checksums computed in the background when configured', async (t) => {
  const cloud = await startTestCloud({ image: { checksums: 'background' } });
  t.after(() => cloud.close());
  const user = await newProjectUser(cloud, 'bg');
  const call = (method: string, path: string, options: Parameters<typeof imageCall>[4] = {}) => imageCall(cloud, user.token, method, path, options);
  const id = (await call('POST', '/v2/images', { body: { name: 'bg', disk_format: 'raw', container_format: 'bare' } })).json()['id'] as string;
  const data = randomBytes(3 * 1024 * 1024);
  assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET })).status, 204);
  assert.equal((await call('GET', `/v2/images/${id}`)).json()['status'], 'active', 'active at once');
  const done = await waitFor('the checksums', async () => {
    const s = (await call('GET', `/v2/images/${id}`)).json();
    return s['checksum'] ? s : undefined;
  });
  assert.equal(done['checksum'], createHash('md5').update(data).digest('hex'));
  assert.equal(done['os_hash_algo'], 'sha512');
  assert.equal(done['os_hash_value'], createHash('sha512').update(data).digest('hex'));
});
