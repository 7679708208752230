import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let projectId: string;
let alice: UserRef;
let aliceToken: string;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
  projectId = await ks.createProject(admin, 'ac-project');
  alice = await ks.createUser(admin, 'ac-alice', { [projectId]: ['member'] });
  aliceToken = (await ks.passwordToken(alice, projectId)).token;
});
after(() => cloud.close());

const create = (token: string, userId: string, body: Record<string, unknown>) =>
  ks.call('POST', `/v3/users/${userId}/application_credentials`, { token, body: { application_credential: body } });
const appCredAuth = (cred: Record<string, unknown>) =>
  ks.issue({ identity: { methods: ['application_credential'], application_credential: cred } });

test('create, read once, list, authenticate by id and by name', async () => {
  const r = await create(aliceToken, alice.id, { name: 'ci', description: 'for CI' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const ac = r.body['application_credential'];
  assert.equal(ac.project_id, projectId);
  assert.equal(typeof ac.secret, 'string');
  assert.deepEqual(ac.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader'], 'defaults to the token roles, implied ones included');

  const shown = await ks.call('GET', `/v3/users/${alice.id}/application_credentials/${ac.id}`, { token: aliceToken });
  assert.equal(shown.status, 200);
  assert.equal(shown.body['application_credential'].secret, undefined, 'the secret is only shown at creation');
  const listed = await ks.call('GET', `/v3/users/${alice.id}/application_credentials?name=ci`, { token: aliceToken });
  assert.deepEqual(listed.body['application_credentials'].map((x: { id: string }) => x.id), [ac.id]);

  const byId = await appCredAuth({ id: ac.id, secret: ac.secret });
  assert.equal(byId.status, 201, JSON.stringify(byId.body));
  assert.equal(byId.body['token'].project.id, projectId);
  assert.deepEqual(byId.body['token'].methods, ['application_credential']);
  assert.equal(byId.body['token'].application_credential.id, ac.id);
  const byName = await appCredAuth({ name: 'ci', user: { name: alice.name, domain: { id: 'default' } }, secret: ac.secret });
  assert.equal(byName.status, 201);
  assert.equal((await appCredAuth({ id: ac.id, secret: 'wrong' })).status, 401);
  assert.equal((await appCredAuth({ id: 'nope', secret: 'x' })).status, 401);

  const dup = await create(aliceToken, alice.id, { name: 'ci' });
  assert.equal(dup.status, 409, 'names are unique per user');
});

test('roles are limited to the token roles; an app credential token carries only its roles', async () => {
  const memberId = await ks.roleId(admin, 'member');
  const adminRole = await ks.roleId(admin, 'admin');
  assert.equal((await create(aliceToken, alice.id, { name: 'escalate', roles: [{ id: adminRole }] })).status, 400);
  const r = await create(aliceToken, alice.id, { name: 'reader-only', roles: [{ name: 'reader' }] });
  assert.equal(r.status, 201);
  const tok = await appCredAuth({ id: r.body['application_credential'].id, secret: r.body['application_credential'].secret });
  assert.deepEqual(tok.body['token'].roles.map((x: { name: string }) => x.name), ['reader']);
  assert.ok(!tok.body['token'].roles.some((x: { id: string }) => x.id === memberId));
});

test('only the owner creates; others cannot see or delete them', async () => {
  const bob = await ks.createUser(admin, 'ac-bob', { [projectId]: ['member'] });
  const bobToken = (await ks.passwordToken(bob, projectId)).token;
  const r = await create(aliceToken, alice.id, { name: 'private' });
  const id = r.body['application_credential'].id;
  assert.equal((await create(bobToken, alice.id, { name: 'x' })).status, 403);
  assert.equal((await create(admin, alice.id, { name: 'x' })).status, 403, 'not even admin creates for someone else');
  assert.equal((await ks.call('GET', `/v3/users/${alice.id}/application_credentials`, { token: bobToken })).status, 403);
  assert.equal((await ks.call('GET', `/v3/users/${alice.id}/application_credentials/${id}`, { token: bobToken })).status, 403);
  assert.equal((await ks.call('DELETE', `/v3/users/${alice.id}/application_credentials/${id}`, { token: bobToken })).status, 403);
  assert.equal((await ks.call('GET', `/v3/users/${bob.id}/application_credentials/${id}`, { token: bobToken })).status, 404, 'not found under another user');
});

test('a restricted app credential cannot make more app credentials; an unrestricted one can', async () => {
  const restricted = (await create(aliceToken, alice.id, { name: 'restricted' })).body['application_credential'];
  const rTok = (await appCredAuth({ id: restricted.id, secret: restricted.secret })).token;
  assert.equal((await create(rTok, alice.id, { name: 'child' })).status, 403);
  const open = (await create(aliceToken, alice.id, { name: 'open', unrestricted: true })).body['application_credential'];
  const oTok = (await appCredAuth({ id: open.id, secret: open.secret })).token;
  assert.equal((await create(oTok, alice.id, { name: 'child' })).status, 201);
  // App-credential tokens cannot be rescoped either.
  const rescope = await ks.issue({ identity: { methods: ['token'], token: { id: rTok } } }, projectId);
  assert.equal(rescope.status, 401);
});

test('deleting an app credential, or the role it relies on, revokes its tokens', async () => {
  const ac = (await create(aliceToken, alice.id, { name: 'short-lived' })).body['application_credential'];
  const tok = (await appCredAuth({ id: ac.id, secret: ac.secret })).token;
  assert.ok(await ks.valid(admin, tok));
  assert.equal((await ks.call('DELETE', `/v3/users/${alice.id}/application_credentials/${ac.id}`, { token: aliceToken })).status, 204);
  assert.equal(await ks.valid(admin, tok), false);
  assert.equal((await appCredAuth({ id: ac.id, secret: ac.secret })).status, 401);

  const carol = await ks.createUser(admin, 'ac-carol', { [projectId]: ['member'] });
  const carolToken = (await ks.passwordToken(carol, projectId)).token;
  const ac2 = (await create(carolToken, carol.id, { name: 'c' })).body['application_credential'];
  const tok2 = (await appCredAuth({ id: ac2.id, secret: ac2.secret })).token;
  const member = await ks.roleId(admin, 'member');
  assert.equal((await ks.call('DELETE', `/v3/projects/${projectId}/users/${carol.id}/roles/${member}`, { token: admin })).status, 204);
  assert.equal(await ks.valid(admin, tok2), false);
  assert.equal((await ks.call('GET', `/v3/users/${carol.id}/application_credentials/${ac2.id}`, { token: admin })).status, 404, 'Keystone deletes it with the assignment');
});

test('expiry: in the past is refused, an expired credential cannot authenticate', async () => {
  assert.equal((await create(aliceToken, alice.id, { name: 'past', expires_at: '2001-01-01T00:00:00Z' })).status, 400);
  assert.equal((await create(aliceToken, alice.id, { name: 'bad', expires_at: 'tomorrow' })).status, 400);
  const future = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '123');
  const r = await create(aliceToken, alice.id, { name: 'expiring', expires_at: future });
  assert.equal(r.status, 201);
  assert.match(r.body['application_credential'].expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/, 'microseconds kept, as Keystone');
  const ac = r.body['application_credential'];
  const tok = await appCredAuth({ id: ac.id, secret: ac.secret });
  assert.ok(Date.parse(tok.body['token'].expires_at) <= Date.parse(`${future.slice(0, 23)}Z`) + 1, 'a token never outlives its credential');
  // Age it in the database rather than sleeping.
  await cloud.nimbus.database.db.updateTable('ks_app_credential' as never).set({ expires_at: '2001-01-01T00:00:00.000000Z' } as never).where('id' as never, '=', ac.id as never).execute();
  cloud.nimbus.identity!.changed();
  assert.equal((await appCredAuth({ id: ac.id, secret: ac.secret })).status, 401);
  assert.equal(await ks.valid(admin, tok.token), false);
});

test('access rules: stored, reused, shown in the token, protected while in use', async () => {
  const rules = [{ service: 'compute', path: '/v2.1/servers/*/ips', method: 'GET' }];
  const a = await create(aliceToken, alice.id, { name: 'ar1', access_rules: rules });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  const rule = a.body['application_credential'].access_rules[0];
  assert.deepEqual({ service: rule.service, path: rule.path, method: rule.method }, rules[0]);
  const b = await create(aliceToken, alice.id, { name: 'ar2', access_rules: rules });
  assert.equal(b.body['application_credential'].access_rules[0].id, rule.id, 'an identical rule is reused');
  const c = await create(aliceToken, alice.id, { name: 'ar3', access_rules: [{ id: rule.id }] });
  assert.equal(c.status, 201);
  assert.equal((await create(aliceToken, alice.id, { name: 'ar4', access_rules: [{ service: 'compute', path: 'no-slash', method: 'GET' }] })).status, 400);
  assert.equal((await create(aliceToken, alice.id, { name: 'ar5', access_rules: [{ service: 'compute', path: '/x', method: 'FETCH' }] })).status, 400);

  const tok = await appCredAuth({ id: a.body['application_credential'].id, secret: a.body['application_credential'].secret });
  assert.equal(tok.body['token'].application_credential.access_rules[0].path, '/v2.1/servers/*/ips');
  const listed = await ks.call('GET', `/v3/users/${alice.id}/access_rules`, { token: aliceToken });
  assert.equal(listed.body['access_rules'].length, 1);
  assert.equal((await ks.call('DELETE', `/v3/users/${alice.id}/access_rules/${rule.id}`, { token: aliceToken })).status, 403, 'in use');
  for (const x of [a, b, c]) await ks.call('DELETE', `/v3/users/${alice.id}/application_credentials/${x.body['application_credential'].id}`, { token: aliceToken });
  assert.equal((await ks.call('DELETE', `/v3/users/${alice.id}/access_rules/${rule.id}`, { token: aliceToken })).status, 204);
  assert.equal((await ks.call('GET', `/v3/users/${alice.id}/access_rules/${rule.id}`, { token: aliceToken })).status, 404);
});

test('access rules are enforced: on Keystone itself and by the token hook of other services', async () => {
  const rules = [
    { service: 'identity', path: `/v3/users/${alice.id}`, method: 'GET' },
    { service: 'compute', path: '/v2.1/servers/*/ips', method: 'GET' },
  ];
  const ac = (await create(aliceToken, alice.id, { name: 'limited', access_rules: rules })).body['application_credential'];
  const tok = (await appCredAuth({ id: ac.id, secret: ac.secret })).token;
  assert.equal((await ks.call('GET', `/v3/users/${alice.id}`, { token: tok })).status, 200);
  assert.equal((await ks.call('GET', `/v3/projects/${projectId}`, { token: tok })).status, 401, 'not among the rules');
  assert.equal((await ks.call('GET', '/v3/auth/tokens', { token: tok, headers: { 'x-subject-token': tok } })).status, 200, 'validating itself is always allowed');

  const { createServiceApp } = await import('../../core/http/app.js');
  const { requireToken } = await import('../../core/auth/auth-hook.js');
  const { createLog } = await import('../../core/log.js');
  const validator = cloud.nimbus.identity!.validator;
  for (const serviceType of ['compute', undefined]) {
    const app = createServiceApp({ name: 'compute', log: createLog({ level: 'silent' }), faultStyle: 'nova' });
    const hook = requireToken(validator, serviceType ? { serviceType } : {});
    app.get('/v2.1/servers/:id/ips', { preHandler: hook }, async () => ({ ok: true }));
    app.get('/v2.1/servers', { preHandler: hook }, async () => ({ ok: true }));
    const ips = await app.inject({ method: 'GET', url: '/v2.1/servers/abc/ips', headers: { 'x-auth-token': tok } });
    const list = await app.inject({ method: 'GET', url: '/v2.1/servers', headers: { 'x-auth-token': tok } });
    const plain = await app.inject({ method: 'GET', url: '/v2.1/servers', headers: { 'x-auth-token': aliceToken } });
    assert.equal(ips.statusCode, serviceType ? 200 : 401, `allowed call, service type ${serviceType}`);
    assert.equal(list.statusCode, 401, 'a call outside the rules');
    assert.equal(plain.statusCode, 200, 'other tokens are not limited');
    await app.close();
  }
});
