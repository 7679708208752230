import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let project: string;
let member: UserRef;
let memberToken: string;
let serviceId: string;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
  project = await ks.createProject(admin, 'misc-project');
  member = await ks.createUser(admin, 'misc-member', { [project]: ['member'] });
  memberToken = (await ks.passwordToken(member, project)).token;
  const s = await ks.call('POST', '/v3/services', { token: admin, body: { service: { type: 'compute', name: 'nova' } } });
  serviceId = s.body['service'].id;
});
after(() => cloud.close());

test('unified limits: registered limits, project limits, flat model', async () => {
  const reg = (body: unknown, token = admin) => ks.call('POST', '/v3/registered_limits', { token, body });
  const r = await reg({ registered_limits: [{ service_id: serviceId, region_id: 'RegionOne', resource_name: 'cores', default_limit: 10 }] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const rl = r.body['registered_limits'][0];
  assert.equal((await reg({ registered_limits: [{ service_id: serviceId, region_id: 'RegionOne', resource_name: 'cores', default_limit: 5 }] })).status, 409);
  assert.equal((await reg({ registered_limits: [{ service_id: serviceId, resource_name: 'ram', default_limit: 5 }] }, memberToken)).status, 403);
  assert.equal((await reg({ registered_limits: [{ service_id: 'nope', resource_name: 'ram', default_limit: 5 }] })).status, 400);
  assert.equal((await reg({ registered_limits: [{ service_id: serviceId, resource_name: 'ram', default_limit: -2 }] })).status, 400);
  assert.equal((await ks.call('GET', `/v3/registered_limits?resource_name=cores`, { token: memberToken })).body['registered_limits'].length, 1);

  const lim = (body: unknown) => ks.call('POST', '/v3/limits', { token: admin, body });
  assert.equal((await lim({ limits: [{ project_id: project, service_id: serviceId, resource_name: 'gpus', resource_limit: 1 }] })).status, 403, 'needs a registered limit');
  const l = await lim({ limits: [{ project_id: project, service_id: serviceId, region_id: 'RegionOne', resource_name: 'cores', resource_limit: 20 }] });
  assert.equal(l.status, 201, JSON.stringify(l.body));
  const limitId = l.body['limits'][0].id;
  assert.equal((await lim({ limits: [{ project_id: project, service_id: serviceId, region_id: 'RegionOne', resource_name: 'cores', resource_limit: 21 }] })).status, 409);
  assert.equal((await ks.call('GET', `/v3/limits/${limitId}`, { token: memberToken })).body['limit'].resource_limit, 20, 'a member reads its project limit');
  assert.equal((await ks.call('GET', '/v3/limits', { token: memberToken })).body['limits'].length, 1);
  const otherProject = await ks.createProject(admin, 'misc-other');
  const outsider = await ks.createUser(admin, 'misc-outsider', { [otherProject]: ['member'] });
  const outsiderToken = (await ks.passwordToken(outsider, otherProject)).token;
  assert.equal((await ks.call('GET', '/v3/limits', { token: outsiderToken })).body['limits'].length, 0, 'not another project’s limits');
  assert.equal((await ks.call('GET', `/v3/limits/${limitId}`, { token: outsiderToken })).status, 403);
  const upd = await ks.call('PATCH', `/v3/limits/${limitId}`, { token: admin, body: { limit: { resource_limit: 30 } } });
  assert.equal(upd.body['limit'].resource_limit, 30);
  assert.equal((await ks.call('PATCH', `/v3/limits/${limitId}`, { token: admin, body: { limit: { project_id: otherProject } } })).status, 400);
  assert.equal((await ks.call('DELETE', `/v3/registered_limits/${rl.id}`, { token: admin })).status, 403, 'still referenced');
  assert.equal((await ks.call('DELETE', `/v3/limits/${limitId}`, { token: admin })).status, 204);
  assert.equal((await ks.call('DELETE', `/v3/registered_limits/${rl.id}`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', '/v3/limits/model', { token: memberToken })).body['model'].name, 'flat');
});

test('policies: stored documents, admin-only writes', async () => {
  const c = await ks.call('POST', '/v3/policies', { token: admin, body: { policy: { blob: '{"a": "b"}', type: 'application/json' } } });
  assert.equal(c.status, 201);
  const id = c.body['policy'].id;
  assert.equal((await ks.call('POST', '/v3/policies', { token: memberToken, body: { policy: { blob: 'x', type: 't' } } })).status, 403);
  assert.equal((await ks.call('PATCH', `/v3/policies/${id}`, { token: admin, body: { policy: { type: 'text/yaml' } } })).body['policy'].type, 'text/yaml');
  assert.equal((await ks.call('GET', '/v3/policies?type=text/yaml', { token: admin })).body['policies'].length, 1);
  assert.equal((await ks.call('DELETE', `/v3/policies/${id}`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', `/v3/policies/${id}`, { token: admin })).status, 404);
});

test('OS-EP-FILTER: endpoint groups and project endpoints', async () => {
  const e = await ks.call('POST', '/v3/endpoints', { token: admin, body: { endpoint: { service_id: serviceId, interface: 'public', url: 'http://c.example/v2.1', region_id: 'RegionOne' } } });
  const endpointId = e.body['endpoint'].id;
  assert.equal((await ks.call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { token: admin, body: { endpoint_group: { name: 'bad', filters: { url: 'x' } } } })).status, 400);
  const g = await ks.call('POST', '/v3/OS-EP-FILTER/endpoint_groups', { token: admin, body: { endpoint_group: { name: 'compute', filters: { service_id: serviceId } } } });
  assert.equal(g.status, 201);
  const gid = g.body['endpoint_group'].id;
  assert.deepEqual((await ks.call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/endpoints`, { token: admin })).body['endpoints'].map((x: { id: string }) => x.id), [endpointId]);
  assert.equal((await ks.call('PUT', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/projects/${project}`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/projects/${project}`, { token: admin })).body['project'].id, project);
  assert.equal((await ks.call('GET', `/v3/OS-EP-FILTER/projects/${project}/endpoint_groups`, { token: admin })).body['endpoint_groups'].length, 1);
  assert.deepEqual((await ks.call('GET', `/v3/OS-EP-FILTER/projects/${project}/endpoints`, { token: admin })).body['endpoints'].map((x: { id: string }) => x.id), [endpointId]);
  assert.equal((await ks.call('DELETE', `/v3/OS-EP-FILTER/endpoint_groups/${gid}/projects/${project}`, { token: admin })).status, 204);
  assert.equal((await ks.call('PUT', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpointId}`, { token: admin })).status, 204);
  assert.equal((await ks.call('HEAD', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpointId}`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', `/v3/OS-EP-FILTER/endpoints/${endpointId}/projects`, { token: admin })).body['projects'][0].id, project);
  assert.equal((await ks.call('PUT', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpointId}`, { token: memberToken })).status, 403);
  assert.equal((await ks.call('DELETE', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpointId}`, { token: admin })).status, 204);
  assert.equal((await ks.call('HEAD', `/v3/OS-EP-FILTER/projects/${project}/endpoints/${endpointId}`, { token: admin })).status, 404);
  assert.equal((await ks.call('DELETE', `/v3/OS-EP-FILTER/endpoint_groups/${gid}`, { token: admin })).status, 204);
});

test('OAuth1 consumers: the secret is shown once and cannot be changed', async () => {
  const c = await ks.call('POST', '/v3/OS-OAUTH1/consumers', { token: admin, body: { consumer: { description: 'd' } } });
  assert.equal(c.status, 201);
  assert.ok(c.body['consumer'].secret);
  const id = c.body['consumer'].id;
  assert.equal((await ks.call('GET', `/v3/OS-OAUTH1/consumers/${id}`, { token: admin })).body['consumer'].secret, undefined);
  assert.equal((await ks.call('PATCH', `/v3/OS-OAUTH1/consumers/${id}`, { token: admin, body: { consumer: { secret: 'x' } } })).status, 400);
  assert.equal((await ks.call('PATCH', `/v3/OS-OAUTH1/consumers/${id}`, { token: admin, body: { consumer: { description: 'e' } } })).body['consumer'].description, 'e');
  assert.equal((await ks.call('DELETE', `/v3/OS-OAUTH1/consumers/${id}`, { token: admin })).status, 204);
});

test('domain configuration: whitelisted groups and options, sensitive values hidden', async () => {
  const d = await ks.call('POST', '/v3/domains', { token: admin, body: { domain: { name: 'cfg-domain' } } });
  const id = d.body['domain'].id;
  const put = (config: unknown) => ks.call('PUT', `/v3/domains/${id}/config`, { token: admin, body: { config } });
  assert.equal((await put({ foo: { bar: 1 } })).status, 403, 'unknown group');
  assert.equal((await put({ ldap: { nope: 1 } })).status, 403, 'unknown option');
  const created = await put({ identity: { driver: 'ldap' }, ldap: { url: 'ldap://x', password: 'hidden' } });
  assert.equal(created.status, 201);
  assert.deepEqual(created.body['config'], { identity: { driver: 'ldap' }, ldap: { url: 'ldap://x' } });
  assert.equal((await put({ identity: { driver: 'sql' } })).status, 200, 'replacing an existing config');
  await put({ identity: { driver: 'ldap', list_limit: 5 }, ldap: { url: 'ldap://y' } });
  assert.equal((await ks.call('GET', `/v3/domains/${id}/config/identity/list_limit`, { token: admin })).body['config'].list_limit, 5);
  const patched = await ks.call('PATCH', `/v3/domains/${id}/config/ldap/url`, { token: admin, body: { config: { url: 'ldap://z' } } });
  assert.equal(patched.body['config'].ldap.url, 'ldap://z');
  assert.equal((await ks.call('PATCH', `/v3/domains/${id}/config/ldap/user`, { token: admin, body: { config: { user: 'u' } } })).status, 404, 'cannot patch an option that is not set');
  assert.equal((await ks.call('DELETE', `/v3/domains/${id}/config/identity`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', `/v3/domains/${id}/config/identity`, { token: admin })).status, 404);
  assert.equal((await ks.call('GET', `/v3/domains/${id}/config`, { token: memberToken })).status, 403);
  const defaults = await ks.call('GET', '/v3/domains/config/ldap/url/default', { token: admin });
  assert.deepEqual(defaults.body['config'], { url: 'ldap://localhost' });
  const sc = await ks.call('GET', '/v3/domains/default/config/security_compliance', { token: memberToken });
  assert.equal(sc.status, 200);
  assert.ok('password_regex' in sc.body['config'].security_compliance);
});

test('/v3/auth/system, /v3/auth/projects and /v3/auth/domains list what the caller may scope to', async () => {
  const sys = await ks.call('GET', '/v3/auth/system', { token: memberToken });
  assert.deepEqual(sys.body['system'], []);
  const adminSys = await ks.call('GET', '/v3/auth/system', { token: admin });
  assert.deepEqual(adminSys.body['system'], [{ all: true }], 'bootstrap gives admin the system role');
  const projects = await ks.call('GET', '/v3/auth/projects', { token: memberToken });
  assert.deepEqual(projects.body['projects'].map((p: { id: string }) => p.id), [project]);
  const domains = await ks.call('GET', '/v3/auth/domains', { token: memberToken });
  assert.deepEqual(domains.body['domains'], []);
  const sysTok = await ks.passwordToken({ name: 'admin', password: cloud.adminPassword }, 'system');
  assert.equal(sysTok.status, 201);
  assert.deepEqual(sysTok.body['token'].system, { all: true });
});

test('listLimit cuts collections and marks them truncated (Keystone list_limit)', async () => {
  const limited = await startTestCloud({ identity: { listLimit: 2 } });
  try {
    const k = keystone(limited);
    const tok = await k.adminToken();
    for (const n of ['ll-1', 'll-2', 'll-3']) await k.createProject(tok, n);
    const r = await k.call('GET', '/v3/projects', { token: tok });
    assert.equal(r.body['projects'].length, 2);
    assert.equal(r.body['truncated'], true);
    const roles = await k.call('GET', '/v3/roles?name=admin', { token: tok });
    assert.equal(roles.body['truncated'], undefined, 'short lists are whole');
  } finally {
    await limited.close();
  }
});
