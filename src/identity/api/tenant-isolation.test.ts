import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let projectA: string;
let projectB: string;
let alice: UserRef; // member of A
let bob: UserRef; // member of B
let aliceTok: string;
let bobTok: string;
let bobCredId: string;
let bobAppCredId: string;
let bobLimitId: string;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
  projectA = await ks.createProject(admin, 'iso-a');
  projectB = await ks.createProject(admin, 'iso-b');
  alice = await ks.createUser(admin, 'iso-alice', { [projectA]: ['member'] });
  bob = await ks.createUser(admin, 'iso-bob', { [projectB]: ['member'] });
  aliceTok = (await ks.passwordToken(alice, projectA)).token;
  bobTok = (await ks.passwordToken(bob, projectB)).token;
  bobCredId = (await ks.call('POST', '/v3/credentials', { token: bobTok, body: { credential: { user_id: bob.id, project_id: projectB, type: 'ec2', blob: '{"access":"BOB","secret":"s"}' } } })).body['credential'].id;
  bobAppCredId = (await ks.call('POST', `/v3/users/${bob.id}/application_credentials`, { token: bobTok, body: { application_credential: { name: 'bob-ac' } } })).body['application_credential'].id;
  const svc = await ks.call('POST', '/v3/services', { token: admin, body: { service: { type: 'iso' } } });
  await ks.call('POST', '/v3/registered_limits', { token: admin, body: { registered_limits: [{ service_id: svc.body['service'].id, resource_name: 'x', default_limit: 1 }] } });
  bobLimitId = (await ks.call('POST', '/v3/limits', { token: admin, body: { limits: [{ project_id: projectB, service_id: svc.body['service'].id, resource_name: 'x', resource_limit: 5 }] } })).body['limits'][0].id;
});
after(() => cloud.close());

const denied = async (method: string, path: string, body?: unknown, token = aliceTok) => {
  const r = await ks.call(method, path, { token, body });
  assert.equal(r.status, 403, `${method} ${path} should be forbidden, got ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
};

test('a member cannot read or change other users', async () => {
  await denied('GET', '/v3/users');
  await denied('GET', `/v3/users/${bob.id}`);
  await denied('PATCH', `/v3/users/${bob.id}`, { user: { password: 'hijack-1' } });
  await denied('PATCH', `/v3/users/${bob.id}`, { user: { enabled: false } });
  await denied('DELETE', `/v3/users/${bob.id}`);
  await denied('POST', '/v3/users', { user: { name: 'sneaky' } });
  await denied('GET', `/v3/users/${bob.id}/projects`);
  await denied('GET', `/v3/users/${bob.id}/groups`);
  assert.equal((await ks.passwordToken(bob, projectB)).status, 201, 'bob is untouched');
  // …but may see themselves.
  assert.equal((await ks.call('GET', `/v3/users/${alice.id}`, { token: aliceTok })).status, 200);
  assert.deepEqual((await ks.call('GET', `/v3/users/${alice.id}/projects`, { token: aliceTok })).body['projects'].map((p: { id: string }) => p.id), [projectA]);
});

test('a member cannot see or change another project or its assignments', async () => {
  await denied('GET', `/v3/projects/${projectB}`);
  await denied('GET', '/v3/projects');
  await denied('PATCH', `/v3/projects/${projectB}`, { project: { enabled: false } });
  await denied('DELETE', `/v3/projects/${projectB}`);
  await denied('GET', `/v3/role_assignments?scope.project.id=${projectB}`);
  await denied('GET', `/v3/role_assignments?user.id=${bob.id}`);
  await denied('GET', `/v3/projects/${projectB}/users/${bob.id}/roles`);
  const member = await ks.roleId(admin, 'member');
  const adminRole = await ks.roleId(admin, 'admin');
  await denied('PUT', `/v3/projects/${projectB}/users/${alice.id}/roles/${member}`);
  await denied('PUT', `/v3/projects/${projectA}/users/${alice.id}/roles/${adminRole}`, undefined);
  await denied('DELETE', `/v3/projects/${projectB}/users/${bob.id}/roles/${member}`);
  await denied('PUT', `/v3/system/users/${alice.id}/roles/${adminRole}`);
  assert.equal((await ks.passwordToken(alice, projectB)).status, 401, 'no token for a project without a role');
  assert.equal((await ks.call('GET', `/v3/projects/${projectA}`, { token: aliceTok })).status, 200, 'own project is readable');
});

test('a member cannot read, use or change another user’s credentials, app credentials or limits', async () => {
  await denied('GET', `/v3/credentials/${bobCredId}`);
  await denied('PATCH', `/v3/credentials/${bobCredId}`, { credential: { user_id: alice.id } });
  await denied('DELETE', `/v3/credentials/${bobCredId}`);
  assert.equal((await ks.call('GET', '/v3/credentials', { token: aliceTok })).body['credentials'].length, 0);
  assert.equal((await ks.call('GET', `/v3/credentials?user_id=${bob.id}`, { token: aliceTok })).body['credentials'].length, 0);
  await denied('POST', '/v3/credentials', { credential: { user_id: alice.id, project_id: projectB, type: 'ec2', blob: '{"access":"A","secret":"s"}' } });
  await denied('POST', `/v3/users/${alice.id}/credentials/OS-EC2`, { tenant_id: projectB });
  await denied('GET', `/v3/users/${bob.id}/credentials/OS-EC2`);
  await denied('GET', `/v3/users/${bob.id}/application_credentials`);
  await denied('GET', `/v3/users/${bob.id}/application_credentials/${bobAppCredId}`);
  await denied('DELETE', `/v3/users/${bob.id}/application_credentials/${bobAppCredId}`);
  await denied('POST', `/v3/users/${bob.id}/application_credentials`, { application_credential: { name: 'x' } });
  await denied('GET', `/v3/limits/${bobLimitId}`);
  assert.equal((await ks.call('GET', '/v3/limits', { token: aliceTok })).body['limits'].length, 0);
});

test('a member cannot inspect or revoke another user’s token, nor manage groups, roles, domains or the catalog', async () => {
  const r = await ks.call('GET', '/v3/auth/tokens', { token: aliceTok, headers: { 'x-subject-token': bobTok } });
  assert.equal(r.status, 403);
  const d = await ks.call('DELETE', '/v3/auth/tokens', { token: aliceTok, headers: { 'x-subject-token': bobTok } });
  assert.equal(d.status, 403);
  assert.ok(await ks.valid(admin, bobTok));
  await denied('GET', '/v3/groups');
  await denied('POST', '/v3/groups', { group: { name: 'g' } });
  await denied('POST', '/v3/roles', { role: { name: 'r' } });
  await denied('POST', '/v3/domains', { domain: { name: 'd' } });
  await denied('GET', '/v3/domains');
  await denied('POST', '/v3/services', { service: { type: 'x' } });
  await denied('POST', '/v3/endpoints', { endpoint: { service_id: 'x', interface: 'public', url: 'http://x' } });
  await denied('GET', '/v3/OS-TRUST/trusts');
  await denied('POST', '/v3/OS-TRUST/trusts', { trust: { trustor_user_id: bob.id, trustee_user_id: alice.id, project_id: projectB, roles: [{ name: 'member' }], impersonation: true } });
  await denied('POST', '/v3/limits', { limits: [] });
  await denied('POST', '/v3/policies', { policy: { blob: 'x', type: 't' } });
});

test('a reader of a project may read it but write nothing', async () => {
  const carol = await ks.createUser(admin, 'iso-carol', { [projectA]: ['reader'] });
  const tok = (await ks.passwordToken(carol, projectA)).token;
  assert.equal((await ks.call('GET', `/v3/projects/${projectA}`, { token: tok })).status, 200);
  await denied('PATCH', `/v3/projects/${projectA}`, { project: { description: 'x' } }, tok);
  await denied('POST', `/v3/users/${carol.id}/application_credentials`, { application_credential: { name: 'x', roles: [{ name: 'member' }] } }, tok).catch(async (err: unknown) => {
    // Asking for a role the reader lacks is a 400 (Keystone's ApplicationCredentialValidationError), not an escalation.
    assert.match(String(err), /got 400/);
  });
  // Keystone's legacy owner rule lets a reader make EC2 keys for its own project; never for another one.
  assert.equal((await ks.call('POST', `/v3/users/${carol.id}/credentials/OS-EC2`, { token: tok, body: { tenant_id: projectA } })).status, 201);
  await denied('POST', `/v3/users/${carol.id}/credentials/OS-EC2`, { tenant_id: projectB }, tok);
});
