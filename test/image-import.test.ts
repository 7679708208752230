import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { startTestCloud } from './support/cloud.js';
import { adminUser, imageCall, newProjectUser, waitFor, type TestUser } from './support/image-http.js';

const OCTET = { 'content-type': 'application/octet-stream' };

test('interoperable import with two file stores', async (t) => {
  // A loopback web server stands in for the Internet (web-download may reach 127.0.0.1 only because the config says so).
  const payload = randomBytes(700 * 1024);
  const web = createServer((req, res) => {
    if (req.url === '/image.raw') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(payload);
    else if (req.url === '/moved') res.writeHead(302, { location: '/image.raw' }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const webPort = (web.address() as { port: number }).port;
  const cloud = await startTestCloud({
    image: {
      stores: [{ id: 'fast', description: 'first' }, { id: 'cheap' }],
      webDownload: { allowedHosts: ['127.0.0.1'], allowedPorts: [] },
    },
  });
  t.after(async () => {
    await cloud.close();
    web.close();
  });
  const admin = await adminUser(cloud);
  const user = await newProjectUser(cloud, 'importer');
  const call = (u: TestUser, method: string, path: string, options: Parameters<typeof imageCall>[4] = {}) => imageCall(cloud, u.token, method, path, options);
  const create = async (u: TestUser) => {
    const r = await call(u, 'POST', '/v2/images', { body: { name: 'imp', disk_format: 'raw', container_format: 'bare' } });
    assert.equal(r.status, 201);
    return r.json()['id'] as string;
  };
  const show = async (id: string, u: TestUser = user) => (await call(u, 'GET', `/v2/images/${id}`)).json();
  const settled = (id: string, u: TestUser = user) =>
    waitFor('the import to settle', async () => {
      const s = await show(id, u);
      return s['os_glance_import_task'] === undefined && s['status'] !== 'importing' ? s : undefined;
    });
  const md5 = createHash('md5').update(payload).digest('hex');
  const storeFile = (store: string, id: string) => join(cloud.config.dataDir, 'images', store, id);

  await t.test('stores and import methods are advertised', async () => {
    const stores = (await call(user, 'GET', '/v2/info/stores')).json()['stores'];
    assert.deepEqual(stores, [{ id: 'fast', description: 'first', default: 'true' }, { id: 'cheap', description: '' }]);
    const methods = (await call(user, 'GET', '/v2/info/import')).json()['import-methods']['value'];
    assert.deepEqual(methods, ['glance-direct', 'web-download', 'copy-image']);
    const created = await call(user, 'POST', '/v2/images', { body: { name: 'h' } });
    assert.equal(created.headers['openstack-image-import-methods'], 'glance-direct,web-download,copy-image');
    assert.equal(created.headers['openstack-image-store-ids'], 'fast,cheap');
  });

  await t.test('web-download from an http URL (following a redirect)', async () => {
    const id = await create(user);
    const r = await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}/moved` } } });
    assert.equal(r.status, 202, r.body.toString());
    const s = await settled(id);
    assert.equal(s['status'], 'active');
    assert.equal(s['checksum'], md5);
    assert.equal(s['size'], payload.length);
    assert.equal(s['stores'], 'fast');
    assert.equal(s['os_glance_failed_import'], '');
    const tasks = (await call(user, 'GET', `/v2/images/${id}/tasks`)).json()['tasks'];
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].status, 'success');
    assert.equal(tasks[0].request_id, r.headers['x-openstack-request-id']);
    assert.ok((await call(user, 'GET', `/v2/images/${id}/file`)).body.equals(payload));
  });

  await t.test('web-download refusals and failures', async () => {
    const id = await create(user);
    for (const uri of ['ftp://127.0.0.1/x', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/x', 'file:///etc/passwd', 'http://user:pw@127.0.0.1/x']) {
      const r = await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'web-download', uri } } });
      assert.equal(r.status, 400, `${uri}: ${r.status}`);
      assert.match(r.json()['message'], /does not pass filtering/);
    }
    // A name is checked after resolution, by the task: localhost is loopback and not allowed by name.
    const r = await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'web-download', uri: `http://localhost:${webPort}/image.raw` } } });
    assert.equal(r.status, 202);
    let s = await settled(id);
    assert.equal(s['status'], 'queued');
    assert.equal(s['os_glance_failed_import'], 'fast');
    // A 404 fails the task the same way; the image stays queued and usable.
    assert.equal((await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'web-download', uri: `http://127.0.0.1:${webPort}/missing` } } })).status, 202);
    s = await settled(id);
    assert.equal(s['status'], 'queued');
    const tasks = (await call(user, 'GET', `/v2/images/${id}/tasks`)).json()['tasks'] as Array<{ status: string; message: string }>;
    assert.deepEqual(tasks.map((x) => x.status), ['failure', 'failure']);
    assert.match(tasks[1]!.message, /404/);
  });

  await t.test('glance-direct to chosen stores', async () => {
    const id = await create(user);
    assert.equal((await call(user, 'PUT', `/v2/images/${id}/stage`, { body: payload, headers: OCTET })).status, 204);
    const staged = await show(id);
    assert.equal(staged['status'], 'uploading');
    assert.equal(staged['size'], payload.length);
    assert.equal((await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'glance-direct' }, stores: ['bogus'] } })).status, 409);
    assert.equal((await call(user, 'POST', `/v2/images/${id}/import`, { body: { method: { name: 'glance-direct' }, stores: ['cheap'] } })).status, 202);
    const s = await settled(id);
    assert.equal(s['status'], 'active');
    assert.equal(s['stores'], 'cheap');
    assert.ok(existsSync(storeFile('cheap', id)));
    assert.ok(!existsSync(storeFile('fast', id)));
  });

  await t.test('copy-image (admin) to every store, then delete one copy', async () => {
    const id = await create(user);
    assert.equal((await call(user, 'PUT', `/v2/images/${id}/file`, { body: payload, headers: OCTET })).status, 204);
    assert.equal((await show(id))['stores'], 'fast');
    const body = { method: { name: 'copy-image' }, all_stores: true, all_stores_must_succeed: false };
    assert.equal((await call(user, 'POST', `/v2/images/${id}/import`, { body })).status, 403, 'copy-image is for admins');
    assert.equal((await call(admin, 'POST', `/v2/images/${id}/import`, { body })).status, 202);
    const s = await waitFor('the copy', async () => {
      const x = await show(id);
      return x['os_glance_importing_to_stores'] === '' && x['os_glance_import_task'] === undefined ? x : undefined;
    });
    assert.equal(s['stores'], 'cheap,fast');
    assert.equal(s['os_glance_failed_import'], '');
    assert.equal(s['status'], 'active');
    assert.ok(existsSync(storeFile('cheap', id)) && existsSync(storeFile('fast', id)));
    assert.equal((await call(user, 'DELETE', `/v2/stores/cheap/${id}`)).status, 403);
    assert.equal((await call(admin, 'DELETE', `/v2/stores/cheap/${id}`)).status, 204);
    assert.equal((await show(id))['stores'], 'fast');
    assert.equal((await call(admin, 'DELETE', `/v2/stores/fast/${id}`)).status, 403, 'not the last copy');
    assert.ok(!existsSync(storeFile('cheap', id)));
    // Deleting the image removes every copy.
    assert.equal((await call(user, 'DELETE', `/v2/images/${id}`)).status, 204);
    assert.ok(!existsSync(storeFile('fast', id)));
  });

  await t.test('an upload can name its store', async () => {
    const id = await create(user);
    assert.equal((await call(user, 'PUT', `/v2/images/${id}/file`, { body: payload, headers: { ...OCTET, 'x-image-meta-store': 'cheap' } })).status, 204);
    assert.equal((await show(id))['stores'], 'cheap');
    const other = await create(user);
    assert.equal((await call(user, 'PUT', `/v2/images/${other}/file`, { body: payload, headers: { ...OCTET, 'x-image-meta-store': 'nope' } })).status, 400);
    assert.equal((await show(other))['status'], 'queued');
    const usage = (await call(user, 'GET', '/v2/info/usage')).json()['usage'];
    assert.ok(usage['image_count_total']['usage'] >= 2);
  });

  await t.test('import request validation', async () => {
    const id = await create(user);
    const cases: Array<[unknown, number]> = [
      [{}, 400],
      [{ method: {} }, 400],
      [{ method: { name: 'bogus' } }, 400],
      [{ method: { name: 'glance-direct' }, all_stores: 'yes' }, 400],
      [{ method: { name: 'glance-direct' } }, 409],
      [{ method: { name: 'copy-image' } }, 403],
    ];
    for (const [body, status] of cases) {
      const r = await call(user, 'POST', `/v2/images/${id}/import`, { body });
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.body.toString()}`);
    }
    assert.equal((await show(id))['status'], 'queued');
  });
});
