import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let project: string;
let trustor: UserRef;
let trustee: UserRef;
let trustorToken: string;
let trusteeToken: string;
let memberRole: string;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
  project = await ks.createProject(admin, 'trust-project');
  trustor = await ks.createUser(admin, 'trustor', { [project]: ['member'] });
  trustee = await ks.createUser(admin, 'trustee');
  trustorToken = (await ks.passwordToken(trustor, project)).token;
  trusteeToken = (await ks.passwordToken(trustee)).token;
  memberRole = await ks.roleId(admin, 'member');
});
after(() => cloud.close());

const createTrust = (token: string, t: Record<string, unknown>) =>
  ks.call('POST', '/v3/OS-TRUST/trusts', {
    token,
    body: { trust: { trustor_user_id: trustor.id, trustee_user_id: trustee.id, project_id: project, roles: [{ name: 'member' }], impersonation: false, ...t } },
  });
const trustToken = (id: string, password = trustee) =>
  ks.passwordToken(password, { 'OS-TRUST:trust': { id } });

test('create, show, list, roles; only the trustor creates', async () => {
  const r = await createTrust(trustorToken, { expires_at: '2099-01-02T03:04:05Z' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const t = r.body['trust'];
  assert.equal(t.expires_at, '2099-01-02T03:04:05.000000Z');
  assert.deepEqual(t.roles.map((x: { name: string }) => x.name), ['member']);
  assert.equal((await ks.call('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trusteeToken })).status, 200, 'the trustee sees it');
  const list = await ks.call('GET', `/v3/OS-TRUST/trusts?trustee_user_id=${trustee.id}`, { token: trusteeToken });
  assert.ok(list.body['trusts'].some((x: { id: string }) => x.id === t.id));
  assert.equal((await ks.call('GET', '/v3/OS-TRUST/trusts', { token: trusteeToken })).status, 403, 'listing all trusts is for admins');
  assert.equal((await ks.call('GET', `/v3/OS-TRUST/trusts/${t.id}/roles/${memberRole}`, { token: trustorToken })).status, 200);
  assert.equal((await ks.call('HEAD', `/v3/OS-TRUST/trusts/${t.id}/roles/${await ks.roleId(admin, 'admin')}`, { token: trustorToken })).status, 404);

  assert.equal((await createTrust(trusteeToken, {})).status, 403, 'the trustee cannot create a trust in the trustor’s name');
  assert.equal((await createTrust(trustorToken, { roles: [{ name: 'admin' }] })).status, 404, 'a role the trustor lacks');
  assert.equal((await createTrust(trustorToken, { roles: [] })).status, 403);
  assert.equal((await createTrust(trustorToken, { expires_at: 'bad.123Z' })).status, 400);
  assert.equal((await createTrust(trustorToken, { impersonation: 'yes' })).status, 400);
  assert.equal((await createTrust(trustorToken, { remaining_uses: 0 })).status, 400);
});

test('trust-scoped tokens: impersonation decides the user; roles are the delegated ones', async () => {
  const imp = (await createTrust(trustorToken, { impersonation: true })).body['trust'];
  const tok = await trustToken(imp.id);
  assert.equal(tok.status, 201, JSON.stringify(tok.body));
  assert.equal(tok.body['token'].user.id, trustor.id, 'impersonation: the token is the trustor’s');
  assert.equal(tok.body['token']['OS-TRUST:trust'].trustee_user.id, trustee.id);
  assert.deepEqual(tok.body['token'].roles.map((x: { name: string }) => x.name), ['member', 'reader']);
  assert.equal(tok.body['token'].project.id, project);

  const plain = (await createTrust(trustorToken, { roles: [{ name: 'reader' }] })).body['trust'];
  const tok2 = await trustToken(plain.id);
  assert.equal(tok2.body['token'].user.id, trustee.id);
  assert.deepEqual(tok2.body['token'].roles.map((x: { name: string }) => x.name), ['reader']);

  const other = await ks.createUser(admin, 'not-the-trustee');
  assert.equal((await trustToken(plain.id, other)).status, 403, 'only the trustee may use the trust');
  // A trust token cannot be exchanged for another token.
  const again = await ks.issue({ identity: { methods: ['token'], token: { id: tok2.token } } }, project);
  assert.equal(again.status, 403);
});

test('remaining_uses is consumed atomically', async () => {
  const t = (await createTrust(trustorToken, { remaining_uses: 2 })).body['trust'];
  const results = await Promise.all([1, 2, 3].map(() => trustToken(t.id)));
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 401]);
  assert.equal((await ks.call('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 404, 'a used-up trust is gone');
});

test('deleting the trust, or the trustor losing the role, invalidates trust tokens', async () => {
  const t = (await createTrust(trustorToken, {})).body['trust'];
  const tok = (await trustToken(t.id)).token;
  assert.ok(await ks.valid(admin, tok));
  assert.equal((await ks.call('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trusteeToken })).status, 403, 'only the trustor deletes');
  assert.equal((await ks.call('DELETE', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 204);
  assert.equal(await ks.valid(admin, tok), false);
  assert.equal((await ks.call('GET', `/v3/OS-TRUST/trusts/${t.id}`, { token: trustorToken })).status, 404);

  const lose = await ks.createUser(admin, 'trustor2', { [project]: ['member'] });
  const loseTok = (await ks.passwordToken(lose, project)).token;
  const t2 = (await ks.call('POST', '/v3/OS-TRUST/trusts', {
    token: loseTok,
    body: { trust: { trustor_user_id: lose.id, trustee_user_id: trustee.id, project_id: project, roles: [{ name: 'member' }], impersonation: false } },
  })).body['trust'];
  const tok2 = (await trustToken(t2.id)).token;
  assert.ok(await ks.valid(admin, tok2));
  await ks.call('DELETE', `/v3/projects/${project}/users/${lose.id}/roles/${memberRole}`, { token: admin });
  assert.equal(await ks.valid(admin, tok2), false);
  assert.equal((await trustToken(t2.id)).status, 403, 'the trustor no longer holds the roles');
});

test('an expired trust is gone', async () => {
  const t = (await createTrust(trustorToken, { expires_at: '2099-01-01T00:00:00Z' })).body['trust'];
  const tok = (await trustToken(t.id)).token;
  await cloud.nimbus.database.db.updateTable('ks_trust' as never).set({ expires_at: '2001-01-01T00:00:00.000000Z' } as never).where('id' as never, '=', t.id as never).execute();
  cloud.nimbus.identity!.changed();
  assert.equal(await ks.valid(admin, tok), false);
  assert.equal((await trustToken(t.id)).status, 401);
});

test('redelegation: depth decreases, roles and impersonation may only narrow', async () => {
  const root = (await createTrust(trustorToken, { allow_redelegation: true, roles: [{ name: 'member' }] })).body['trust'];
  assert.equal(root.redelegation_count, 3);
  const rootTok = (await trustToken(root.id)).token;
  const third = await ks.createUser(admin, 'third');
  const redelegate = (t: Record<string, unknown>) =>
    ks.call('POST', '/v3/OS-TRUST/trusts', {
      token: rootTok,
      body: { trust: { trustor_user_id: trustee.id, trustee_user_id: third.id, project_id: project, roles: [{ name: 'member' }], impersonation: false, allow_redelegation: true, ...t } },
    });
  assert.equal((await redelegate({ impersonation: true })).status, 403, 'cannot add impersonation');
  assert.equal((await redelegate({ roles: [{ name: 'reader' }] })).status, 403, 'roles must be among the parent’s');
  assert.equal((await redelegate({ redelegation_count: 3 })).status, 403, 'cannot change the count');
  const child = await redelegate({});
  assert.equal(child.status, 201, JSON.stringify(child.body));
  assert.equal(child.body['trust'].redelegation_count, 2);
  assert.equal(child.body['trust'].redelegated_trust_id, root.id);
  const childTok = await trustToken(child.body['trust'].id, third);
  assert.equal(childTok.status, 201);
  assert.deepEqual(childTok.body['token'].roles.map((x: { name: string }) => x.name), ['member', 'reader'], 'roles of the original trustor');
  // Deleting the root trust removes the chain.
  await ks.call('DELETE', `/v3/OS-TRUST/trusts/${root.id}`, { token: trustorToken });
  assert.equal(await ks.valid(admin, childTok.token), false);

  const flat = (await createTrust(trustorToken, {})).body['trust'];
  const flatTok = (await trustToken(flat.id)).token;
  const denied = await ks.call('POST', '/v3/OS-TRUST/trusts', {
    token: flatTok,
    body: { trust: { trustor_user_id: trustee.id, trustee_user_id: third.id, project_id: project, roles: [{ name: 'member' }], impersonation: false } },
  });
  assert.equal(denied.status, 403, 'a trust without allow_redelegation cannot be redelegated');
});
