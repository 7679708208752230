import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { freshDatabaseUrl, testDialects } from '../../../test/support/databases.js';
import { keystone, type Keystone, type KsResponse } from '../../../test/support/keystone.js';

/** A Keystone-format 4xx: `{"error": {"code", "title", "message"}}` with the status as code. */
function assertFault(r: KsResponse, status: number | number[], what: string): void {
  const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
  assert.ok(ok, `${what}: expected ${String(status)}, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
  if (r.status >= 400) {
    assert.equal(r.body['error']?.code, r.status, `${what}: Keystone error format`);
    assert.equal(typeof r.body['error'].title, 'string');
    assert.equal(typeof r.body['error'].message, 'string');
    assert.ok(r.headers.get('x-openstack-request-id'), `${what}: request id`);
  }
}

for (const dialect of testDialects()) {
  describe(`bad input never yields a 5xx (${dialect})`, () => {
    let cloud: TestCloud;
    let ks: Keystone;
    let admin: string;
    let drop: () => Promise<void>;
    let project: string;
    let userId: string;
    let adminUserId: string;

    before(async () => {
      const db = await freshDatabaseUrl(dialect);
      drop = db.drop;
      cloud = await startTestCloud(db.url ? { database: { url: db.url } } : {});
      ks = keystone(cloud);
      admin = await ks.adminToken();
      project = await ks.createProject(admin, 'bad-project');
      userId = (await ks.createUser(admin, 'bad-user', { [project]: ['member'] })).id;
      adminUserId = (await ks.call('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': admin } })).body['token'].user.id;
    });
    after(async () => {
      await cloud.close();
      await drop();
    });

    test('malformed JSON and non-object bodies are 400', async () => {
      for (const [method, path] of [['POST', '/v3/auth/tokens'], ['POST', '/v3/users'], ['POST', '/v3/projects'], ['PATCH', `/v3/projects/${project}`], ['POST', '/v3/OS-TRUST/trusts'], ['PUT', '/v3/domains/default/config']] as const) {
        for (const raw of ['{', '{"user": ', 'nul', '{"a":1}}', '[1,2', '\u00ff\u00fe']) assertFault(await ks.call(method, path, { token: admin, raw }), 400, `${method} ${path} ${JSON.stringify(raw)}`);
        for (const body of [[], 'x', 42, null, true, {}]) assertFault(await ks.call(method, path, { token: admin, body }), [400, 401], `${method} ${path} ${JSON.stringify(body)}`);
      }
      // Keystone answers a body that is not JSON with 400 (ValidationError); other media types may be 415.
      assertFault(await ks.call('POST', '/v3/users', { token: admin, raw: '{"user":{}}', headers: { 'content-type': 'text/plain' } }), 400, 'text/plain');
      assertFault(await ks.call('POST', '/v3/users', { token: admin, raw: '<user/>', headers: { 'content-type': 'application/xml' } }), [400, 415], 'xml');
    });

    test('wrong types and missing fields are 400', async () => {
      const cases: Array<[string, string, unknown]> = [
        ['POST', '/v3/users', { user: { name: 5 } }],
        ['POST', '/v3/users', { user: { name: 'x', enabled: 'yes' } }],
        ['POST', '/v3/users', { user: { name: 'x', options: [] } }],
        ['POST', '/v3/users', { user: { name: 'x', options: { nope: true } } }],
        ['POST', '/v3/users', { user: {} }],
        ['POST', '/v3/projects', { project: { name: 'x', tags: 'a' } }],
        ['POST', '/v3/projects', { project: { name: 'x', tags: ['a/b'] } }],
        ['POST', '/v3/projects', { project: { name: '' } }],
        ['POST', '/v3/projects', { project: { name: 'x', enabled: 1 } }],
        ['POST', '/v3/domains', { domain: { name: ['x'] } }],
        ['POST', '/v3/roles', { role: { name: null } }],
        ['POST', '/v3/regions', { region: { id: 7 } }],
        ['POST', '/v3/services', { service: { name: 'x' } }],
        ['POST', '/v3/endpoints', { endpoint: { service_id: 'x', interface: 'public' } }],
        ['POST', '/v3/endpoints', { endpoint: { service_id: 'x', interface: 'sideways', url: 'http://x' } }],
        ['POST', '/v3/credentials', { credential: { type: 'ec2' } }],
        ['POST', '/v3/registered_limits', { registered_limits: {} }],
        ['POST', '/v3/limits', { limits: [{ resource_limit: 'lots' }] }],
        ['POST', '/v3/policies', { policy: { blob: {} } }],
        ['POST', '/v3/OS-EP-FILTER/endpoint_groups', { endpoint_group: { name: 'g', filters: 'all' } }],
        ['POST', '/v3/auth/tokens', { auth: { identity: { methods: 'password' } } }],
        ['POST', '/v3/auth/tokens', { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 5 } } } } }],
        ['POST', '/v3/auth/tokens', { auth: { identity: { methods: ['password'], password: { user: { password: 'x' } } } } }],
        ['POST', '/v3/auth/tokens', { auth: { identity: { methods: ['password'], password: 'x' } } }],
        ['POST', `/v3/users/${userId}/password`, { user: { password: 'x' } }],
        ['GET', '/v3/users?enabled=maybe', undefined],
      ];
      for (const [method, path, body] of cases) assertFault(await ks.call(method, path, { token: admin, body }), 400, `${method} ${path} ${JSON.stringify(body)}`);
    });

    test('unknown ids are 404', async () => {
      const id = 'f'.repeat(32);
      const paths = [
        '/v3/users/', '/v3/projects/', '/v3/domains/', '/v3/groups/', '/v3/roles/', '/v3/regions/', '/v3/services/', '/v3/endpoints/',
        '/v3/credentials/', '/v3/OS-TRUST/trusts/', '/v3/registered_limits/', '/v3/limits/', '/v3/policies/', '/v3/OS-EP-FILTER/endpoint_groups/',
        '/v3/OS-OAUTH1/consumers/', `/v3/users/${userId}/application_credentials/`, `/v3/users/${userId}/access_rules/`,
      ];
      for (const p of paths) {
        assertFault(await ks.call('GET', `${p}${id}`, { token: admin }), 404, `GET ${p}`);
        assertFault(await ks.call('DELETE', `${p}${id}`, { token: admin }), 404, `DELETE ${p}`);
      }
      assertFault(await ks.call('PUT', `/v3/projects/${id}/users/${userId}/roles/${id}`, { token: admin }), 404, 'grant on unknown project');
      assertFault(await ks.call('PATCH', `/v3/users/${id}`, { token: admin, body: { user: { name: 'x' } } }), 404, 'PATCH unknown user');
      assertFault(await ks.call('GET', `/v3/nope`, { token: admin }), 404, 'unknown path');
      assertFault(await ks.call('POST', '/v3/users', { token: admin, body: { user: { name: 'x', domain_id: id } } }), 404, 'user in unknown domain');
    });

    test('oversize bodies are 413, overlong values 400', async () => {
      const big = 'x'.repeat(200_000);
      assertFault(await ks.call('POST', '/v3/projects', { token: admin, body: { project: { name: 'big', description: big } } }), 413, 'oversize');
      assertFault(await ks.call('POST', '/v3/auth/tokens', { body: { auth: big } }), 413, 'oversize auth');
      assertFault(await ks.call('POST', '/v3/projects', { token: admin, body: { project: { name: 'n'.repeat(65) } } }), 400, 'name too long');
      assertFault(await ks.call('POST', '/v3/users', { token: admin, body: { user: { name: 'u', default_project_id: 'p'.repeat(100) } } }), 400, 'id too long');
      assertFault(await ks.call('POST', '/v3/domains', { token: admin, body: { domain: { name: 'd', explicit_domain_id: 'x'.repeat(100) } } }), 400, 'explicit id too long');
      assertFault(await ks.call('POST', '/v3/OS-TRUST/trusts', { token: admin, body: { trust: { trustor_user_id: adminUserId, trustee_user_id: userId, impersonation: false, remaining_uses: 2 ** 40 } } }), 400, 'integer overflow');
      assertFault(await ks.call('POST', '/v3/OS-TRUST/trusts', { token: admin, body: { trust: { trustor_user_id: adminUserId } } }), 400, 'trust without fields');
      assertFault(await ks.call('GET', `/v3/users/${'u'.repeat(2000)}`, { token: admin }), 404, 'overlong path id');
      assertFault(await ks.call('GET', '/v3/users/%E0%A4%A', { token: admin }), [400, 404], 'bad percent-encoding');
    });

    test('NUL characters are refused before they reach SQL', async () => {
      assertFault(await ks.call('POST', '/v3/projects', { token: admin, body: { project: { name: 'a\u0000b' } } }), 400, 'body');
      assertFault(await ks.call('GET', '/v3/users?name=a%00b', { token: admin }), 400, 'query');
      assertFault(await ks.call('GET', '/v3/users/a%00b', { token: admin }), 400, 'path');
      assertFault(await ks.passwordToken({ name: 'ad\u0000min', password: 'x' }), 400, 'auth');
    });

    test('invalid tokens are 401 (caller) or 404 (subject), never 5xx', async () => {
      const garbage = ['x', 'gAAAAAB' + 'A'.repeat(200), '%%%%', 'é', 'a'.repeat(8000), admin.slice(0, -4) + 'AAAA', admin + 'x'];
      for (const g of garbage) {
        const r = await ks.call('GET', '/v3/projects', { token: g });
        assertFault(r, 401, `caller token ${g.slice(0, 12)}`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
        assertFault(await ks.call('GET', '/v3/auth/tokens', { token: admin, headers: { 'x-subject-token': g } }), 404, `subject ${g.slice(0, 12)}`);
        assertFault(await ks.issue({ identity: { methods: ['token'], token: { id: g } } }), 404, `token method ${g.slice(0, 12)} (Keystone: TokenNotFound)`);
      }
      assertFault(await ks.call('GET', '/v3/projects'), 401, 'no token');
      assertFault(await ks.call('GET', '/v3/auth/tokens', { token: admin }), 400, 'no subject token');
      assertFault(await ks.passwordToken({ name: 'admin', password: 'wrong' }), 401, 'wrong password');
      assertFault(await ks.passwordToken({ name: 'nobody', password: 'x' }), 401, 'unknown user');
      assertFault(await ks.issue({ identity: { methods: ['totp'], totp: {} } }), 401, 'unsupported method');
    });

    test('two concurrent creates of the same name: one 201, the rest 409', async () => {
      const race = async (what: string, send: () => Promise<KsResponse>) => {
        const results = await Promise.all([send(), send(), send()]);
        for (const r of results) assertFault(r, [201, 409], what);
        assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409], what);
      };
      await race('project', () => ks.call('POST', '/v3/projects', { token: admin, body: { project: { name: 'race-p' } } }));
      await race('domain', () => ks.call('POST', '/v3/domains', { token: admin, body: { domain: { name: 'race-d' } } }));
      await race('user', () => ks.call('POST', '/v3/users', { token: admin, body: { user: { name: 'race-u' } } }));
      await race('group', () => ks.call('POST', '/v3/groups', { token: admin, body: { group: { name: 'race-g' } } }));
      await race('role', () => ks.call('POST', '/v3/roles', { token: admin, body: { role: { name: 'race-r' } } }));
      await race('region', () => ks.call('PUT', '/v3/regions/race-region', { token: admin, body: { region: {} } }));
      await race('app credential', () => ks.call('POST', `/v3/users/${adminUserId}/application_credentials`, { token: admin, body: { application_credential: { name: 'race-ac' } } }));
      const svc = await ks.call('POST', '/v3/services', { token: admin, body: { service: { type: 'race' } } });
      await race('registered limit', () => ks.call('POST', '/v3/registered_limits', { token: admin, body: { registered_limits: [{ service_id: svc.body['service'].id, resource_name: 'r', default_limit: 1 }] } }));
      // Idempotent writes that race must not fail either.
      const member = await ks.roleId(admin, 'member');
      const grants = await Promise.all([1, 2, 3].map(() => ks.call('PUT', `/v3/projects/${project}/users/${userId}/roles/${member}`, { token: admin })));
      assert.deepEqual(grants.map((g) => g.status), [204, 204, 204]);
      const tags = await Promise.all([1, 2, 3].map(() => ks.call('PUT', `/v3/projects/${project}/tags/t1`, { token: admin })));
      assert.deepEqual(tags.map((g) => g.status), [201, 201, 201]);
    });

    test('a sweep of odd values over every writable field stays below 500', async () => {
      const odd: unknown[] = [null, 0, -1, 1.5, true, [], {}, [null], 'x'.repeat(70_000), '', ' ', '../../etc/passwd', "'; DROP TABLE ks_user; --", '\uD800', '😀'.repeat(100), { $gt: '' }];
      const targets: Array<[string, string, string, string[]]> = [
        ['POST', '/v3/users', 'user', ['name', 'domain_id', 'password', 'enabled', 'default_project_id', 'description', 'options']],
        ['POST', '/v3/projects', 'project', ['name', 'domain_id', 'parent_id', 'description', 'enabled', 'is_domain', 'tags', 'options']],
        ['POST', '/v3/groups', 'group', ['name', 'domain_id', 'description']],
        ['POST', '/v3/roles', 'role', ['name', 'domain_id', 'description', 'options']],
        ['POST', '/v3/regions', 'region', ['id', 'description', 'parent_region_id']],
        ['POST', '/v3/services', 'service', ['type', 'name', 'enabled']],
        ['POST', '/v3/credentials', 'credential', ['user_id', 'project_id', 'type', 'blob']],
        ['POST', '/v3/OS-TRUST/trusts', 'trust', ['trustor_user_id', 'trustee_user_id', 'project_id', 'roles', 'impersonation', 'expires_at', 'remaining_uses']],
        ['POST', `/v3/users/{admin}/application_credentials`, 'application_credential', ['name', 'secret', 'expires_at', 'roles', 'unrestricted', 'access_rules']],
        ['POST', '/v3/policies', 'policy', ['blob', 'type']],
        ['POST', '/v3/OS-EP-FILTER/endpoint_groups', 'endpoint_group', ['name', 'filters']],
        ['PATCH', `/v3/users/{user}`, 'user', ['name', 'enabled', 'password', 'options', 'default_project_id']],
        ['PATCH', `/v3/projects/{project}`, 'project', ['name', 'enabled', 'tags', 'parent_id', 'domain_id']],
      ];
      let n = 0;
      for (const [method, rawPath, key, fields] of targets) {
        const path = rawPath.replace('{admin}', adminUserId).replace('{user}', userId).replace('{project}', project);
        for (const field of fields) {
          for (const value of odd) {
            const base: Record<string, unknown> = key === 'trust' ? { trustor_user_id: adminUserId, trustee_user_id: userId, impersonation: false } : { name: `sweep-${n++}` };
            const r = await ks.call(method, path, { token: admin, body: { [key]: { ...base, [field]: value } } });
            assert.ok(r.status < 500, `${method} ${path} ${field}=${JSON.stringify(value).slice(0, 40)} → ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          }
        }
      }
      // The admin password was not changed by the sweep's PATCHes of another user, and the cloud still works.
      assert.equal((await ks.call('GET', '/v3/users', { token: admin })).status, 200);
    });
  });
}
