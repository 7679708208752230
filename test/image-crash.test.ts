import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageCall, passwordToken, waitFor } from './support/image-http.js';
import { startNimbusProcess, type NimbusProcess } from './support/nimbus-process.js';
import type { TestCloud } from './support/cloud.js';
import { freePort } from './support/ports.js';

const MiB = 1024 * 1024;
const OCTET = { 'content-type': 'application/octet-stream' };
const UUID = /^[0-9a-f-]{36}$/;

const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/**
 * Starts a chunked upload that sends `mib` MiB slowly and never finishes by
 * itself; resolves once `afterMiB` have been written. The process gets killed meanwhile.
 */
async function hangingUpload(url: string, token: string, afterMiB: number): Promise<void> {
  const req = request(url, { method: 'PUT', headers: { 'x-auth-token': token, ...OCTET } });
  req.on('error', () => undefined);
  req.on('response', (res) => res.resume());
  const block = randomBytes(MiB);
  for (let i = 0; i < afterMiB; i++) if (!req.write(block)) await new Promise((r) => req.once('drain', r));
  // Keep the request open (no end()): the server is killed while it waits for more.
  const keepGoing = setInterval(() => {
    if (!req.destroyed) req.write(block.subarray(0, 4096));
    else clearInterval(keepGoing);
  }, 50);
  req.on('close', () => clearInterval(keepGoing));
}

test('killing nimbus mid-transfer leaves defined states and no orphan data', { timeout: 240_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-crash-'));
  const ports = { identity: await freePort(), image: await freePort() };
  const start = () =>
    startNimbusProcess({ dataDir, ports, services: ['identity', 'image'], env: { NIMBUS_IDENTITY__PASSWORD_HASH__SCRYPT_N: '1024' } });
  let nimbus: NimbusProcess = await start();
  t.after(async () => {
    await nimbus.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });
  // Enough of a TestCloud for the HTTP helpers.
  const cloud = { url: (svc: string, path = '') => `http://127.0.0.1:${ports[svc as keyof typeof ports]}${path}` } as unknown as TestCloud;
  const kill9 = () => nimbus.stop('SIGKILL');
  const store = join(dataDir, 'images');
  const login = async () => (await passwordToken(nimbus.authUrl, 'admin', nimbus.adminPassword, 'admin')).token;
  let token = await login();
  const call = (method: string, path: string, options: Parameters<typeof imageCall>[4] = {}) => imageCall(cloud, token, method, path, options);
  const create = async (name: string) => (await call('POST', '/v2/images', { body: { name, disk_format: 'raw', container_format: 'bare' } })).json()['id'] as string;
  const show = async (id: string) => (await call('GET', `/v2/images/${id}`)).json();
  const restart = async () => {
    nimbus = await start();
    token = await login();
  };

  // One finished image must survive every crash intact.
  const keep = await create('survivor');
  const keepData = randomBytes(3 * MiB + 17);
  assert.equal((await call('PUT', `/v2/images/${keep}/file`, { body: keepData, headers: OCTET })).status, 204);
  const keepMd5 = createHash('md5').update(keepData).digest('hex');

  await t.test('kill -9 during an upload', async () => {
    const id = await create('interrupted-upload');
    await hangingUpload(cloud.url('image', `/v2/images/${id}/file`), token, 24);
    assert.equal((await show(id))['status'], 'saving');
    await waitFor('partial data on disk', async () => (ls(join(store, '.partial')).length ? true : undefined));
    await kill9();
    assert.ok(ls(join(store, '.partial')).length > 0, 'the crash left a partial file (the test exercises the cleanup)');

    await restart();
    const after = await show(id);
    assert.equal(after['status'], 'queued', 'an interrupted upload is queued again, never stuck in saving');
    assert.equal(after['size'], null);
    assert.equal(after['checksum'], null);
    assert.deepEqual(ls(join(store, '.partial')), [], 'partial data removed');
    assert.ok(!ls(store).includes(id));
    // The image can be uploaded again.
    const data = randomBytes(MiB);
    assert.equal((await call('PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET })).status, 204);
    assert.equal((await show(id))['status'], 'active');
  });

  await t.test('kill -9 while staging', async () => {
    const id = await create('interrupted-stage');
    await hangingUpload(cloud.url('image', `/v2/images/${id}/stage`), token, 8);
    assert.equal((await show(id))['status'], 'uploading');
    await kill9();
    await restart();
    const after = await show(id);
    assert.equal(after['status'], 'queued');
    assert.deepEqual(ls(join(store, 'staging')).filter((n) => UUID.test(n)), []);
    assert.deepEqual(ls(join(store, 'staging', '.partial')), []);
  });

  await t.test('kill -9 during an import', async (st) => {
    const id = await create('interrupted-import');
    const data = randomBytes(8 * MiB);
    const big = (async function* () {
      for (let i = 0; i < 16; i++) yield data; // 128 MiB: the import takes a while
    })();
    assert.equal((await call('PUT', `/v2/images/${id}/stage`, { body: big, headers: OCTET })).status, 204);
    assert.equal((await call('POST', `/v2/images/${id}/import`, { body: { method: { name: 'glance-direct' } } })).status, 202);
    await waitFor('the import to start', async () => ((await show(id))['status'] === 'importing' || ls(join(store, '.partial')).length ? true : undefined), 10_000);
    await kill9();
    await restart();
    const after = await show(id);
    // Either the import finished before the kill, or it is undone: nothing in between.
    assert.ok(['queued', 'active'].includes(after['status']), after['status']);
    st.diagnostic(`image after the crash: ${after['status']}`);
    const tasks = (await call('GET', `/v2/images/${id}/tasks`)).json()['tasks'] as Array<{ status: string }>;
    assert.ok(tasks.every((x) => x.status === 'success' || x.status === 'failure'), JSON.stringify(tasks));
    assert.equal(after['os_glance_import_task'], undefined, 'the import lock is released');
    if (after['status'] === 'queued') {
      assert.equal(after['size'], null);
      assert.ok(!ls(store).includes(id));
      assert.deepEqual(ls(join(store, 'staging')).filter((n) => UUID.test(n)), []);
    } else {
      assert.equal(after['size'], 128 * MiB);
    }
    assert.deepEqual(ls(join(store, '.partial')), []);
  });

  await t.test('finished images are intact and no file lacks an image', async () => {
    const s = await show(keep);
    assert.equal(s['status'], 'active');
    assert.equal(s['checksum'], keepMd5);
    const file = await call('GET', `/v2/images/${keep}/file`);
    assert.ok(file.body.equals(keepData));
    const images = (await call('GET', '/v2/images')).json()['images'] as Array<{ id: string; status: string }>;
    const active = new Set(images.filter((i) => i.status === 'active').map((i) => i.id));
    assert.deepEqual(ls(store).filter((n) => UUID.test(n) && !active.has(n)), []);
  });
});
