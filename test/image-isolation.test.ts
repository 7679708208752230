import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestCloud } from './support/cloud.js';
import { adminUser, imageCall, newProjectUser, type TestUser } from './support/image-http.js';

const PATCH = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
const OCTET = { 'content-type': 'application/octet-stream' };

test('tenant isolation of images', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const [alice, bob, carol] = await Promise.all([newProjectUser(cloud, 'alice'), newProjectUser(cloud, 'bob'), newProjectUser(cloud, 'carol')]);
  const admin = await adminUser(cloud);
  const call = (u: TestUser, method: string, path: string, options: Parameters<typeof imageCall>[4] = {}) => imageCall(cloud, u.token, method, path, options);
  const data = randomBytes(64 * 1024);

  async function imageWithData(owner: TestUser, extra: Record<string, unknown> = {}): Promise<string> {
    const r = await call(owner, 'POST', '/v2/images', { body: { name: `img-${randomBytes(3).toString('hex')}`, disk_format: 'raw', container_format: 'bare', ...extra } });
    assert.equal(r.status, 201, r.body.toString());
    const id = r.json()['id'] as string;
    assert.equal((await call(owner, 'PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET })).status, 204);
    return id;
  }
  const listIds = async (u: TestUser, query = '') => ((await call(u, 'GET', `/v2/images${query}`)).json()['images'] as Array<{ id: string }>).map((i) => i.id);

  await t.test('a private image is invisible, undownloadable and unmodifiable to another project', async () => {
    const id = await imageWithData(alice, { visibility: 'private' });
    assert.equal((await call(alice, 'GET', `/v2/images/${id}`)).status, 200);
    assert.ok((await listIds(alice)).includes(id));

    for (const q of ['', '?visibility=private', '?visibility=all', '?member_status=all&visibility=shared', `?id=${id}`]) {
      assert.ok(!(await listIds(bob, q)).includes(id), `not listed for another project (${q})`);
    }
    const attempts: Array<[string, string, Parameters<typeof imageCall>[4]]> = [
      ['GET', `/v2/images/${id}`, {}],
      ['GET', `/v2/images/${id}/file`, {}],
      ['GET', `/v2/images/${id}/members`, {}],
      ['GET', `/v2/images/${id}/tasks`, {}],
      ['PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/name', value: 'mine' }], headers: PATCH }],
      ['DELETE', `/v2/images/${id}`, {}],
      ['PUT', `/v2/images/${id}/file`, { body: data, headers: OCTET }],
      ['PUT', `/v2/images/${id}/tags/mine`, {}],
      ['POST', `/v2/images/${id}/actions/deactivate`, {}],
      ['POST', `/v2/images/${id}/members`, { body: { member: bob.projectId } }],
      ['POST', `/v2/images/${id}/import`, { body: { method: { name: 'glance-direct' } } }],
    ];
    for (const [method, path, options] of attempts) {
      const r = await call(bob, method, path, options);
      assert.equal(r.status, 404, `${method} ${path} by another project: ${r.status} ${r.body.toString()}`);
    }
    const after = (await call(alice, 'GET', `/v2/images/${id}`)).json();
    assert.equal(after['status'], 'active');
    assert.equal(after['name'].startsWith('img-'), true, 'unchanged');
    assert.deepEqual(after['tags'], []);
    const file = await call(alice, 'GET', `/v2/images/${id}/file`);
    assert.ok(file.body.equals(data), 'data unchanged');
    // The admin sees everything.
    assert.equal((await call(admin, 'GET', `/v2/images/${id}`)).status, 200);
  });

  await t.test('nobody adds members to, or accepts for, an image they do not own', async () => {
    const id = await imageWithData(alice); // shared by default
    const r = await call(bob, 'POST', `/v2/images/${id}/members`, { body: { member: bob.projectId } });
    assert.equal(r.status, 404, 'an image bob cannot see');
    assert.equal((await call(alice, 'POST', `/v2/images/${id}/members`, { body: { member: bob.projectId } })).status, 200);
    // Now visible to bob (pending), yet still not his to share or change.
    assert.equal((await call(bob, 'GET', `/v2/images/${id}`)).status, 200);
    assert.equal((await call(bob, 'POST', `/v2/images/${id}/members`, { body: { member: carol.projectId } })).status, 403);
    assert.equal((await call(bob, 'PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/name', value: 'x' }], headers: PATCH })).status, 403);
    assert.equal((await call(bob, 'DELETE', `/v2/images/${id}`)).status, 403);
    assert.equal((await call(bob, 'DELETE', `/v2/images/${id}/members/${bob.projectId}`)).status, 403);
    // The owner cannot accept on the member's behalf; the member cannot answer for someone else.
    assert.equal((await call(alice, 'PUT', `/v2/images/${id}/members/${bob.projectId}`, { body: { status: 'accepted' } })).status, 403);
    assert.equal((await call(bob, 'PUT', `/v2/images/${id}/members/${carol.projectId}`, { body: { status: 'accepted' } })).status, 404);
    // Carol, not a member, sees nothing.
    assert.equal((await call(carol, 'GET', `/v2/images/${id}`)).status, 404);
    assert.equal((await call(carol, 'GET', `/v2/images/${id}/file`)).status, 404);
    // A member sees only its own membership.
    const members = (await call(bob, 'GET', `/v2/images/${id}/members`)).json()['members'] as Array<{ member_id: string }>;
    assert.deepEqual(members.map((m) => m.member_id), [bob.projectId]);
  });

  await t.test('a shared image is listed only for accepted members', async () => {
    const id = await imageWithData(alice, { visibility: 'shared' });
    for (const u of [bob, carol]) assert.equal((await call(alice, 'POST', `/v2/images/${id}/members`, { body: { member: u.projectId } })).status, 200);
    assert.ok(!(await listIds(bob)).includes(id), 'pending: not listed');
    assert.ok((await listIds(bob, '?visibility=shared&member_status=pending')).includes(id));
    assert.equal((await call(bob, 'PUT', `/v2/images/${id}/members/${bob.projectId}`, { body: { status: 'accepted' } })).status, 200);
    assert.equal((await call(carol, 'PUT', `/v2/images/${id}/members/${carol.projectId}`, { body: { status: 'rejected' } })).status, 200);
    assert.ok((await listIds(bob)).includes(id), 'accepted: listed');
    assert.ok(!(await listIds(carol)).includes(id), 'rejected: not listed');
    assert.ok((await call(bob, 'GET', `/v2/images/${id}/file`)).body.equals(data), 'an accepted member downloads');
    // Changing the visibility away from shared takes the membership's effect away.
    assert.equal((await call(alice, 'PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/visibility', value: 'private' }], headers: PATCH })).status, 200);
    assert.equal((await call(bob, 'GET', `/v2/images/${id}`)).status, 404);
    assert.ok(!(await listIds(bob)).includes(id));
    // Removing the member takes it away as well.
    await call(alice, 'PATCH', `/v2/images/${id}`, { body: [{ op: 'replace', path: '/visibility', value: 'shared' }], headers: PATCH });
    assert.equal((await call(alice, 'DELETE', `/v2/images/${id}/members/${bob.projectId}`)).status, 204);
    assert.equal((await call(bob, 'GET', `/v2/images/${id}`)).status, 404);
  });

  await t.test('public and community images: readable by all, changeable by the owner only', async () => {
    const pub = await imageWithData(admin, { visibility: 'public' });
    assert.equal((await call(bob, 'GET', `/v2/images/${pub}/file`)).status, 200);
    assert.ok((await listIds(bob)).includes(pub));
    assert.equal((await call(bob, 'PATCH', `/v2/images/${pub}`, { body: [{ op: 'add', path: '/x', value: 'y' }], headers: PATCH })).status, 403);
    assert.equal((await call(bob, 'DELETE', `/v2/images/${pub}`)).status, 403);
    assert.equal((await call(bob, 'POST', `/v2/images/${pub}/actions/deactivate`)).status, 403);

    const com = await imageWithData(alice, { visibility: 'community' });
    assert.equal((await call(bob, 'GET', `/v2/images/${com}`)).status, 200);
    assert.ok(!(await listIds(bob)).includes(com), 'community images are not in the default list');
    assert.ok((await listIds(bob, '?visibility=community')).includes(com));
    assert.ok((await listIds(alice)).includes(com), 'but the owner sees its own');

    // Only admins publish; nobody creates images for someone else's project.
    assert.equal((await call(bob, 'POST', '/v2/images', { body: { name: 'p', visibility: 'public' } })).status, 403);
    assert.equal((await call(bob, 'POST', '/v2/images', { body: { name: 'p', owner: alice.projectId } })).status, 403);
    const own = await imageWithData(bob);
    assert.equal((await call(bob, 'PATCH', `/v2/images/${own}`, { body: [{ op: 'replace', path: '/owner', value: alice.projectId }], headers: PATCH })).status, 403);
  });

  await t.test('a deactivated image is downloadable by admins only', async () => {
    const id = await imageWithData(alice);
    assert.equal((await call(alice, 'POST', `/v2/images/${id}/actions/deactivate`)).status, 204);
    assert.equal((await call(alice, 'GET', `/v2/images/${id}/file`)).status, 403);
    assert.equal((await call(admin, 'GET', `/v2/images/${id}/file`)).status, 200);
    assert.equal((await call(alice, 'POST', `/v2/images/${id}/actions/reactivate`)).status, 204);
    assert.equal((await call(alice, 'GET', `/v2/images/${id}/file`)).status, 200);
  });
});
