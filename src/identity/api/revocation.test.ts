import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let n = 0;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
});
after(() => cloud.close());

/** A fresh user with member on a fresh project, and a token of theirs seen valid by both validators. */
async function subject(): Promise<{ user: UserRef; project: string; token: string }> {
  n++;
  const project = await ks.createProject(admin, `rv-project-${n}`);
  const user = await ks.createUser(admin, `rv-user-${n}`, { [project]: ['member'] });
  const token = (await ks.passwordToken(user, project)).token;
  assert.ok(await ks.valid(admin, token));
  await cloud.nimbus.identity!.validator.validate(token); // warms the in-process cache other services use
  return { user, project, token };
}

/** Invalid for Keystone's API and for the in-process validator of the other services (cache included). */
async function assertRevoked(token: string): Promise<void> {
  assert.equal(await ks.valid(admin, token), false, 'GET /v3/auth/tokens says 404');
  await assert.rejects(cloud.nimbus.identity!.validator.validate(token), (e: { status: number }) => e.status === 401, 'services see 401');
}

test('DELETE /v3/auth/tokens revokes that token only', async () => {
  const s = await subject();
  const other = (await ks.passwordToken(s.user, s.project)).token;
  assert.equal((await ks.call('DELETE', '/v3/auth/tokens', { token: s.token, headers: { 'x-subject-token': s.token } })).status, 204);
  await assertRevoked(s.token);
  assert.ok(await ks.valid(admin, other));
});

test('disabling a user revokes their tokens; enabling again does not bring them back', async () => {
  const s = await subject();
  await ks.call('PATCH', `/v3/users/${s.user.id}`, { token: admin, body: { user: { enabled: false } } });
  await assertRevoked(s.token);
  await ks.call('PATCH', `/v3/users/${s.user.id}`, { token: admin, body: { user: { enabled: true } } });
  await assertRevoked(s.token);
  assert.equal((await ks.passwordToken(s.user, s.project)).status, 201);
});

test('deleting a user revokes their tokens', async () => {
  const s = await subject();
  assert.equal((await ks.call('DELETE', `/v3/users/${s.user.id}`, { token: admin })).status, 204);
  await assertRevoked(s.token);
});

test('a password change (by the user or by an admin) revokes tokens', async () => {
  const s = await subject();
  const r = await ks.call('POST', `/v3/users/${s.user.id}/password`, { body: { user: { original_password: s.user.password, password: 'N3w-secret!' } } });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  await assertRevoked(s.token);
  const s2 = await subject();
  await ks.call('PATCH', `/v3/users/${s2.user.id}`, { token: admin, body: { user: { password: 'Adm1n-set!' } } });
  await assertRevoked(s2.token);
});

test('disabling the project or the domain revokes tokens scoped there', async () => {
  const s = await subject();
  const unscoped = (await ks.passwordToken(s.user)).token;
  await ks.call('PATCH', `/v3/projects/${s.project}`, { token: admin, body: { project: { enabled: false } } });
  await assertRevoked(s.token);
  assert.ok(await ks.valid(admin, unscoped), 'an unscoped token of the same user stays valid');

  const d = await ks.call('POST', '/v3/domains', { token: admin, body: { domain: { name: 'rv-domain' } } });
  const domainId = d.body['domain'].id;
  const p = await ks.call('POST', '/v3/projects', { token: admin, body: { project: { name: 'rv-dp', domain_id: domainId } } });
  const u = await ks.call('POST', '/v3/users', { token: admin, body: { user: { name: 'rv-du', domain_id: domainId, password: 'pw-Secret1' } } });
  await ks.call('PUT', `/v3/projects/${p.body['project'].id}/users/${u.body['user'].id}/roles/${await ks.roleId(admin, 'member')}`, { token: admin });
  const tok = (await ks.passwordToken({ id: u.body['user'].id, password: 'pw-Secret1' }, p.body['project'].id)).token;
  assert.ok(await ks.valid(admin, tok));
  await ks.call('PATCH', `/v3/domains/${domainId}`, { token: admin, body: { domain: { enabled: false } } });
  await assertRevoked(tok);
});

test('removing the role assignment revokes tokens scoped to that project', async () => {
  const s = await subject();
  const member = await ks.roleId(admin, 'member');
  assert.equal((await ks.call('DELETE', `/v3/projects/${s.project}/users/${s.user.id}/roles/${member}`, { token: admin })).status, 204);
  await assertRevoked(s.token);
  assert.equal((await ks.passwordToken(s.user, s.project)).status, 401, 'and no new token can be scoped there');
});

test('removing a user from a group that carried the role revokes', async () => {
  n++;
  const project = await ks.createProject(admin, `rv-gp-${n}`);
  const user = await ks.createUser(admin, `rv-gu-${n}`);
  const g = await ks.call('POST', '/v3/groups', { token: admin, body: { group: { name: `rv-g-${n}` } } });
  const gid = g.body['group'].id;
  await ks.call('PUT', `/v3/groups/${gid}/users/${user.id}`, { token: admin });
  await ks.call('PUT', `/v3/projects/${project}/groups/${gid}/roles/${await ks.roleId(admin, 'member')}`, { token: admin });
  const token = (await ks.passwordToken(user, project)).token;
  assert.ok(await ks.valid(admin, token));
  await ks.call('DELETE', `/v3/groups/${gid}/users/${user.id}`, { token: admin });
  await assertRevoked(token);
});

test('a revocation survives a restart (events are persisted)', async () => {
  const s = await subject();
  await ks.call('DELETE', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': s.token } });
  // A second identity over the same database and keys is what a restarted (or another) process sees.
  const { createIdentity } = await import('../service/identity.js');
  const { createInProcessBus } = await import('../../core/bus/in-process-bus.js');
  const { createLog } = await import('../../core/log.js');
  const fresh = await createIdentity({ database: cloud.nimbus.database, config: cloud.config, log: createLog({ level: 'silent' }), bus: createInProcessBus() });
  try {
    await assert.rejects(fresh.validator.validate(s.token), (e: { status: number }) => e.status === 401);
    const live = (await ks.passwordToken(s.user, s.project)).token;
    assert.equal((await fresh.validator.validate(live)).userId, s.user.id);
  } finally {
    await fresh.close();
  }
});
