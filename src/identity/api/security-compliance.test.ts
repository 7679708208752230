import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../../../test/support/cloud.js';
import { keystone, type Keystone } from '../../../test/support/keystone.js';

const setPassword = (ks: Keystone, userId: string, original: string, password: string) =>
  ks.call('POST', `/v3/users/${userId}/password`, { body: { user: { original_password: original, password } } });
const age = (cloud: TestCloud, userId: string, set: Record<string, unknown>) =>
  cloud.nimbus.database.db.updateTable('ks_user' as never).set(set as never).where('id' as never, '=', userId as never).execute();

describe('lockout, regex, history and change on first use', () => {
  let cloud: TestCloud;
  let ks: Keystone;
  let admin: string;
  before(async () => {
    cloud = await startTestCloud({
      identity: {
        securityCompliance: {
          lockoutFailureAttempts: 3,
          lockoutDurationSeconds: 600,
          passwordRegex: '^(?=.*\\d)(?=.*[a-zA-Z]).{7,}$',
          passwordRegexDescription: 'at least 7 characters with a letter and a digit',
          uniqueLastPasswordCount: 2,
          changePasswordUponFirstUse: true,
        },
      },
    });
    ks = keystone(cloud);
    admin = await ks.adminToken();
  });
  after(() => cloud.close());

  test('lockout after N failures, even with the right password, until the period passes', async () => {
    const u = await ks.createUser(admin, 'lock-me', {}, { options: { ignore_change_password_upon_first_use: true } });
    for (let i = 0; i < 3; i++) assert.equal((await ks.passwordToken({ id: u.id, password: 'wrong1' })).status, 401);
    const locked = await ks.passwordToken(u);
    assert.equal(locked.status, 401);
    assert.match(locked.body['error'].message, /locked/);
    await age(cloud, u.id, { failed_auth_at: '2001-01-01T00:00:00.000000Z' });
    assert.equal((await ks.passwordToken(u)).status, 201, 'unlocked once the duration has passed');
    const ignored = await ks.createUser(admin, 'never-locked', {}, { options: { ignore_change_password_upon_first_use: true, ignore_lockout_failure_attempts: true } });
    for (let i = 0; i < 4; i++) await ks.passwordToken({ id: ignored.id, password: 'wrong1' });
    assert.equal((await ks.passwordToken(ignored)).status, 201);
  });

  test('concurrent guesses cannot outrun the lockout: at most N passwords are checked', async () => {
    const u = await ks.createUser(admin, 'lock-race', {}, { options: { ignore_change_password_upon_first_use: true } });
    const hasher = cloud.nimbus.identity!.hasher;
    const verify = hasher.verify.bind(hasher);
    let checks = 0;
    hasher.verify = async (...args) => {
      checks++;
      return verify(...args);
    };
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => ks.passwordToken({ id: u.id, password: 'wrong1' })));
      assert.ok(results.every((r) => r.status === 401));
      assert.ok(checks <= 3, `${checks} password checks for 12 concurrent guesses`);
      assert.equal((await ks.passwordToken(u)).status, 401, 'locked');
    } finally {
      hasher.verify = verify;
    }
  });

  test('the right password ends a series of failures', async () => {
    const u = await ks.createUser(admin, 'lock-reset', {}, { options: { ignore_change_password_upon_first_use: true } });
    for (let i = 0; i < 2; i++) await ks.passwordToken({ id: u.id, password: 'wrong1' });
    assert.equal((await ks.passwordToken(u)).status, 201);
    for (let i = 0; i < 2; i++) await ks.passwordToken({ id: u.id, password: 'wrong1' });
    assert.equal((await ks.passwordToken(u)).status, 201, 'two failures again do not lock (the count restarted)');
  });

  test('passwords must match the regex, for admins and users alike', async () => {
    const r = await ks.call('POST', '/v3/users', { token: admin, body: { user: { name: 'weak', password: 'short' } } });
    assert.equal(r.status, 400);
    assert.match(r.body['error'].message, /at least 7 characters with a letter and a digit/);
    const u = await ks.createUser(admin, 'regex-user', {}, { options: { ignore_change_password_upon_first_use: true } });
    assert.equal((await setPassword(ks, u.id, u.password, 'nodigits')).status, 400);
    assert.equal((await setPassword(ks, u.id, u.password, 'g00d-one')).status, 204);
  });

  test('history: the last N passwords cannot be reused; admin resets are not checked', async () => {
    const u = await ks.createUser(admin, 'history-user', {}, { options: { ignore_change_password_upon_first_use: true } });
    assert.equal((await setPassword(ks, u.id, u.password, u.password)).status, 400, 'not the current one');
    assert.equal((await setPassword(ks, u.id, u.password, 'second1')).status, 204);
    assert.equal((await setPassword(ks, u.id, 'second1', u.password)).status, 400, 'not the one before either (N = 2)');
    assert.equal((await setPassword(ks, u.id, 'second1', 'third11')).status, 204);
    assert.equal((await setPassword(ks, u.id, 'third11', u.password)).status, 204, 'three back is allowed again');
    const r = await ks.call('PATCH', `/v3/users/${u.id}`, { token: admin, body: { user: { password: u.password } } });
    assert.equal(r.status, 200, 'an admin may reset to an old password');
  });

  test('change on first use: a new user must set their own password before getting a token', async () => {
    const u = await ks.createUser(admin, 'first-use');
    const shown = await ks.call('GET', `/v3/users/${u.id}`, { token: admin });
    assert.ok(shown.body['user'].password_expires_at, 'the password is expired from the start');
    const r = await ks.passwordToken(u);
    assert.equal(r.status, 401);
    assert.match(r.body['error'].message, /expired/);
    assert.equal((await setPassword(ks, u.id, u.password, 'mine-123')).status, 204);
    assert.equal((await ks.passwordToken({ id: u.id, password: 'mine-123' })).status, 201);
    await ks.call('PATCH', `/v3/users/${u.id}`, { token: admin, body: { user: { password: 'reset-123' } } });
    assert.equal((await ks.passwordToken({ id: u.id, password: 'reset-123' })).status, 401, 'an admin reset must be changed again');
  });

  test('the service user is exempt from lockout and first-use rules', async () => {
    const svc = (await cloud.nimbus.identity!.repos.users.getByName('default', cloud.config.auth.serviceUser))!;
    for (let i = 0; i < 4; i++) await ks.passwordToken({ id: svc.id, password: 'wrong1' });
    const session = await ks.passwordToken({ id: svc.id, password: cloud.nimbus.config.auth.servicePassword || (await import('node:fs')).readFileSync(`${cloud.config.dataDir}/service-password`, 'utf8').trim() });
    assert.equal(session.status, 201);
  });
});

describe('expiry and minimum age', () => {
  let cloud: TestCloud;
  let ks: Keystone;
  let admin: string;
  before(async () => {
    cloud = await startTestCloud({ identity: { securityCompliance: { passwordExpiresDays: 90, minimumPasswordAgeDays: 1, disableUserAccountDaysInactive: 30 } } });
    ks = keystone(cloud);
    admin = await ks.adminToken();
  });
  after(() => cloud.close());

  test('passwords expire after N days; an expired password can still be changed by its user', async () => {
    const u = await ks.createUser(admin, 'expiring');
    const expires = Date.parse((await ks.call('GET', `/v3/users/${u.id}`, { token: admin })).body['user'].password_expires_at);
    assert.ok(Math.abs(expires - (Date.now() + 90 * 86_400_000)) < 60_000);
    assert.equal((await ks.passwordToken(u)).status, 201);
    await age(cloud, u.id, { password_expires_at: '2001-01-01T00:00:00.000000Z' });
    const r = await ks.passwordToken(u);
    assert.equal(r.status, 401);
    assert.match(r.body['error'].message, /expired/);
    assert.equal((await setPassword(ks, u.id, u.password, 'renewed-1')).status, 204);
    assert.equal((await ks.passwordToken({ id: u.id, password: 'renewed-1' })).status, 201);
    const exempt = await ks.createUser(admin, 'no-expiry', {}, { options: { ignore_password_expiry: true } });
    assert.equal((await ks.call('GET', `/v3/users/${exempt.id}`, { token: admin })).body['user'].password_expires_at, null);
  });

  test('minimum age: a self-chosen password must be kept a day; an admin reset may be changed at once', async () => {
    const u = await ks.createUser(admin, 'min-age');
    assert.equal((await setPassword(ks, u.id, u.password, 'changed-1')).status, 204, 'an admin-set password may be changed at once');
    const r = await setPassword(ks, u.id, 'changed-1', 'changed-2');
    assert.equal(r.status, 400);
    assert.match(r.body['error'].message, /minimum password age/);
    await age(cloud, u.id, { password_created_at: '2001-01-01T00:00:00.000000Z' });
    assert.equal((await setPassword(ks, u.id, 'changed-1', 'changed-2')).status, 204);
  });

  test('users inactive for N days cannot authenticate', async () => {
    const u = await ks.createUser(admin, 'sleeper');
    assert.equal((await ks.passwordToken(u)).status, 201);
    await age(cloud, u.id, { last_active_at: '2001-01-01T00:00:00.000000Z' });
    assert.equal((await ks.passwordToken(u)).status, 401);
  });
});
