import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone, type UserRef } from '../../../test/support/keystone.js';

let cloud: TestCloud;
let ks: Keystone;
let admin: string;
let mine: string;
let theirs: string;
let alice: UserRef;
let bob: UserRef;
let aliceToken: string;

before(async () => {
  cloud = await startTestCloud();
  ks = keystone(cloud);
  admin = await ks.adminToken();
  mine = await ks.createProject(admin, 'cred-mine');
  theirs = await ks.createProject(admin, 'cred-theirs');
  alice = await ks.createUser(admin, 'cred-alice', { [mine]: ['member'] });
  bob = await ks.createUser(admin, 'cred-bob', { [theirs]: ['member'] });
  aliceToken = (await ks.passwordToken(alice, mine)).token;
});
after(() => cloud.close());

const blob = (access: string) => JSON.stringify({ access, secret: `${access}-secret` });
const createCred = (token: string, c: Record<string, unknown>) => ks.call('POST', '/v3/credentials', { token, body: { credential: c } });

test('CRUD of a credential by its owner; the blob is encrypted at rest', async () => {
  const r = await createCred(aliceToken, { user_id: alice.id, project_id: mine, type: 'ec2', blob: blob('AKIA1') });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const cred = r.body['credential'];
  assert.equal(cred.id.length, 64, 'an ec2 credential id is the sha256 of its access key');
  assert.equal(JSON.parse(cred.blob).access, 'AKIA1');
  const stored = await cloud.nimbus.database.db.selectFrom('ks_credential' as never).selectAll().execute();
  assert.ok(stored.length > 0 && stored.every((row) => !JSON.stringify(row).includes('AKIA1-secret')), 'no secret in the database');

  const got = await ks.call('GET', `/v3/credentials/${cred.id}`, { token: aliceToken });
  assert.equal(got.status, 200);
  assert.equal(JSON.parse(got.body['credential'].blob).secret, 'AKIA1-secret');
  const upd = await ks.call('PATCH', `/v3/credentials/${cred.id}`, { token: aliceToken, body: { credential: { blob: JSON.stringify({ access: 'AKIA1', secret: 'new' }) } } });
  assert.equal(upd.status, 200);
  assert.equal(JSON.parse(upd.body['credential'].blob).secret, 'new');
  const other = await createCred(aliceToken, { user_id: alice.id, type: 'cert', blob: 'PEM…' });
  assert.equal(other.status, 201);
  const listed = await ks.call('GET', '/v3/credentials', { token: aliceToken });
  assert.deepEqual(listed.body['credentials'].map((c: { id: string }) => c.id).sort(), [cred.id, other.body['credential'].id].sort());
  assert.equal((await ks.call('DELETE', `/v3/credentials/${cred.id}`, { token: aliceToken })).status, 204);
  assert.equal((await ks.call('GET', `/v3/credentials/${cred.id}`, { token: admin })).status, 404);
  assert.equal((await ks.call('GET', `/v3/credentials/${cred.id}`, { token: aliceToken })).status, 403, 'a non-admin learns nothing about ids that are not theirs (as Keystone)');
  assert.equal((await createCred(aliceToken, { user_id: alice.id, type: 'ec2', blob: blob('x') })).status, 400, 'ec2 needs a project');
  assert.equal((await createCred(aliceToken, { user_id: alice.id, project_id: mine, type: 'ec2', blob: '{"secret":"s"}' })).status, 400, 'ec2 needs an access key');
});

test('ownership (CVE-2026-43001): no credentials for other users or for projects without a role', async () => {
  assert.equal((await createCred(aliceToken, { user_id: bob.id, project_id: theirs, type: 'ec2', blob: blob('A2') })).status, 403);
  assert.equal((await createCred(aliceToken, { user_id: alice.id, project_id: theirs, type: 'ec2', blob: blob('A3') })).status, 403);
  assert.equal((await createCred(aliceToken, { user_id: alice.id, project_id: theirs, type: 'totp', blob: 'x' })).status, 403);
  const ok = await createCred(aliceToken, { user_id: alice.id, project_id: mine, type: 'ec2', blob: blob('A4') });
  assert.equal(ok.status, 201);
  const id = ok.body['credential'].id;
  const move = (c: Record<string, unknown>) => ks.call('PATCH', `/v3/credentials/${id}`, { token: aliceToken, body: { credential: c } });
  assert.equal((await move({ project_id: theirs })).status, 403, 'cannot move it onto a project without a role');
  assert.equal((await move({ user_id: bob.id })).status, 403, 'cannot give it to another user');
  const bobToken = (await ks.passwordToken(bob, theirs)).token;
  assert.equal((await ks.call('GET', `/v3/credentials/${id}`, { token: bobToken })).status, 403);
  assert.equal((await ks.call('DELETE', `/v3/credentials/${id}`, { token: bobToken })).status, 403);
  assert.equal((await ks.call('GET', '/v3/credentials', { token: bobToken })).body['credentials'].length, 0, 'lists only what the caller may see');
  // The admin may do all of it (and the Tempest admin test relies on it).
  assert.equal((await ks.call('PATCH', `/v3/credentials/${id}`, { token: admin, body: { credential: { project_id: theirs } } })).status, 200);
  assert.equal((await createCred(admin, { user_id: bob.id, project_id: mine, type: 'ec2', blob: blob('A5') })).status, 201);
});

test('OS-EC2: create for own project only, list, show, delete', async () => {
  const url = (uid: string) => `/v3/users/${uid}/credentials/OS-EC2`;
  const created = await ks.call('POST', url(alice.id), { token: aliceToken, body: { tenant_id: mine } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const c = created.body['credential'];
  assert.equal(c.tenant_id, mine);
  assert.equal(c.user_id, alice.id);
  assert.ok(c.access && c.secret);
  assert.equal((await ks.call('POST', url(alice.id), { token: aliceToken, body: { tenant_id: theirs } })).status, 403, 'no EC2 keys for a project without a role');
  assert.equal((await ks.call('POST', url(bob.id), { token: aliceToken, body: { tenant_id: mine } })).status, 403);
  assert.equal((await ks.call('POST', url(alice.id), { token: aliceToken, body: { tenant_id: 'nope' } })).status, 404);
  const list = await ks.call('GET', url(alice.id), { token: aliceToken });
  assert.ok(list.body['credentials'].some((x: { access: string }) => x.access === c.access));
  assert.equal((await ks.call('GET', `${url(alice.id)}/${c.access}`, { token: aliceToken })).body['credential'].secret, c.secret);
  assert.equal((await ks.call('GET', url(alice.id), { token: (await ks.passwordToken(bob, theirs)).token })).status, 403);
  assert.equal((await ks.call('DELETE', `${url(alice.id)}/${c.access}`, { token: aliceToken })).status, 204);
  assert.equal((await ks.call('GET', `${url(alice.id)}/${c.access}`, { token: aliceToken })).status, 404);
});

test('delegated tokens (application credentials) cannot touch credentials', async () => {
  const ac = await ks.call('POST', `/v3/users/${alice.id}/application_credentials`, { token: aliceToken, body: { application_credential: { name: 'deleg', unrestricted: true } } });
  const acTok = (await ks.issue({ identity: { methods: ['application_credential'], application_credential: { id: ac.body['application_credential'].id, secret: ac.body['application_credential'].secret } } })).token;
  assert.equal((await createCred(acTok, { user_id: alice.id, project_id: mine, type: 'ec2', blob: blob('D1') })).status, 403);
  assert.equal((await ks.call('POST', `/v3/users/${alice.id}/credentials/OS-EC2`, { token: acTok, body: { tenant_id: mine } })).status, 403);
});

test('deleting the user removes their credentials', async () => {
  const dave = await ks.createUser(admin, 'cred-dave', { [mine]: ['member'] });
  const tok = (await ks.passwordToken(dave, mine)).token;
  const c = await createCred(tok, { user_id: dave.id, project_id: mine, type: 'ec2', blob: blob('DAVE') });
  assert.equal((await ks.call('DELETE', `/v3/users/${dave.id}`, { token: admin })).status, 204);
  assert.equal((await ks.call('GET', `/v3/credentials/${c.body['credential'].id}`, { token: admin })).status, 404);
});
