import { after, before, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { haveOpenstackCli, openstack, openstackBatch, openstackJson, openstackOk } from './support/openstack-cli.js';

/**
 * The identity steps of an OpenStack install guide, run with Debian's real
 * `openstack` CLI against an in-process Nimbus.
 */
let cloud: TestCloud;
before(async () => {
  cloud = await startTestCloud();
});
after(() => cloud?.close());

type Row = Record<string, unknown>;

test('install-guide identity steps with the real openstack CLI', { skip: !haveOpenstackCli && 'python3-openstackclient is not installed' }, async () => {
  const env = cloud.env;
  // The admin's steps run in one CLI process (its start-up costs seconds); each prints one JSON value.
  const [domain, project, user, role, service, ep1, ep2, ep3, assignments] = (await openstackBatch(env, [
    ['domain', 'create', '--description', 'An Example Domain', 'example', '-f', 'json'],
    ['project', 'create', '--domain', 'default', '--description', 'Demo Project', 'myproject', '-f', 'json'],
    ['user', 'create', '--domain', 'default', '--password', 'Myuser-pass1', 'myuser', '-f', 'json'],
    ['role', 'create', 'myrole', '-f', 'json'],
    ['role', 'add', '--project', 'myproject', '--user', 'myuser', 'myrole'],
    ['role', 'add', '--project', 'myproject', '--user', 'myuser', 'member'],
    ['service', 'create', '--name', 'glance', '--description', 'OpenStack Image', 'image', '-f', 'json'],
    ...['public', 'internal', 'admin'].map((iface) => ['endpoint', 'create', '--region', 'RegionOne', 'image', iface, 'http://controller:9292', '-f', 'json']),
    ['role', 'assignment', 'list', '--names', '--user', 'myuser', '-f', 'json'],
  ])) as [Row, Row, Row, Row, Row, Row, Row, Row, Row[]];

  assert.equal(domain['name'], 'example');
  assert.equal(domain['enabled'], true);
  assert.equal(project['domain_id'], 'default');
  assert.equal(project['description'], 'Demo Project');
  assert.equal(user['name'], 'myuser');
  assert.equal(user['domain_id'], 'default');
  assert.equal(role['name'], 'myrole');
  assert.equal(service['type'], 'image');
  assert.equal(service['description'], 'OpenStack Image');
  assert.deepEqual([ep1, ep2, ep3].map((e) => [e['interface'], e['service_name'], e['region'], e['url']]), [
    ['public', 'glance', 'RegionOne', 'http://controller:9292'],
    ['internal', 'glance', 'RegionOne', 'http://controller:9292'],
    ['admin', 'glance', 'RegionOne', 'http://controller:9292'],
  ]);
  assert.deepEqual(
    assignments.map((a) => [a['Role'], a['User'], a['Project']]).sort(),
    [
      ['member', 'myuser@Default', 'myproject@Default'],
      ['myrole', 'myuser@Default', 'myproject@Default'],
    ],
  );

  // The new user (a new process, so a new token and catalog): token, catalog, then an application credential.
  const demoEnv = { ...env, OS_USERNAME: 'myuser', OS_PASSWORD: 'Myuser-pass1', OS_PROJECT_NAME: 'myproject' };
  const [token, catalog, ac, listed] = (await openstackBatch(demoEnv, [
    ['token', 'issue', '-f', 'json'],
    ['catalog', 'list', '-f', 'json'],
    ['application', 'credential', 'create', '--description', 'for CI', 'myapp', '-f', 'json'],
    ['application', 'credential', 'list', '-f', 'json'],
  ])) as [Row, Row[], Row, Row[]];
  const image = catalog.find((c) => c['Type'] === 'image');
  assert.ok(image, `image in the catalog: ${JSON.stringify(catalog)}`);
  assert.equal(image['Name'], 'glance');
  // Nimbus registered its own image endpoints at bootstrap; the guide's are added beside them.
  const endpoints = image['Endpoints'] as Row[];
  assert.deepEqual([...new Set(endpoints.map((e) => e['interface']))].sort(), ['admin', 'internal', 'public']);
  assert.equal(endpoints.filter((e) => e['url'] === 'http://controller:9292').length, 3);
  assert.ok(catalog.some((c) => c['Type'] === 'identity'));
  assert.equal(token['project_id'], project['id']);
  assert.equal(token['user_id'], user['id']);
  assert.ok(Date.parse(String(token['expires'])) > Date.now());
  assert.equal(ac['name'], 'myapp');
  assert.equal(ac['project_id'], project['id']);
  assert.ok(ac['secret']);
  assert.deepEqual(listed.map((a) => a['Name']), ['myapp']);

  // Authenticating with the application credential alone.
  const acEnv = {
    OS_AUTH_URL: env['OS_AUTH_URL']!,
    OS_IDENTITY_API_VERSION: '3',
    OS_AUTH_TYPE: 'v3applicationcredential',
    OS_APPLICATION_CREDENTIAL_ID: String(ac['id']),
    OS_APPLICATION_CREDENTIAL_SECRET: String(ac['secret']),
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'public',
  };
  const acToken = await openstackJson(acEnv, ['token', 'issue']);
  assert.equal(acToken['project_id'], project['id']);
  assert.equal(acToken['user_id'], user['id']);
  const wrongSecret = await openstack({ ...acEnv, OS_APPLICATION_CREDENTIAL_SECRET: 'nope' }, ['token', 'issue']);
  assert.notEqual(wrongSecret.code, 0);

  // The user changes their own password: the new one works, the old one no longer.
  await openstackOk(demoEnv, ['user', 'password', 'set', '--original-password', 'Myuser-pass1', '--password', 'Myuser-pass2']);
  assert.equal((await openstackJson({ ...demoEnv, OS_PASSWORD: 'Myuser-pass2' }, ['token', 'issue']))['user_id'], user['id']);
  const old = await openstack(demoEnv, ['token', 'issue']);
  assert.notEqual(old.code, 0);
  assert.match(old.stderr, /401|authenticat/i);
});

test('trusts, credentials, EC2 keys, unified limits and endpoint groups with the real openstack CLI', { skip: !haveOpenstackCli && 'python3-openstackclient is not installed' }, async () => {
  const env = cloud.env;
  const groupFile = join(cloud.config.dataDir, 'endpoint-group.json');
  writeFileSync(groupFile, JSON.stringify({ interface: 'public' }));
  const [trustee, trust, trusts, ec2, ec2s, cred, registered, limit, limits, group, groupEndpoints] = (await openstackBatch(env, [
    ['user', 'create', '--domain', 'default', '--password', 'Trustee-pass1', 'trustee', '-f', 'json'],
    ['trust', 'create', '--project', 'admin', '--role', 'member', '--impersonate', 'admin', 'trustee', '-f', 'json'],
    ['trust', 'list', '-f', 'json'],
    ['ec2', 'credentials', 'create', '-f', 'json'],
    ['ec2', 'credentials', 'list', '-f', 'json'],
    ['credential', 'create', '--type', 'totp', 'admin', 'a-secret-blob', '-f', 'json'],
    ['registered', 'limit', 'create', '--service', 'keystone', '--default-limit', '5', '--region', 'RegionOne', 'widgets', '-f', 'json'],
    ['limit', 'create', '--project', 'admin', '--service', 'keystone', '--resource-limit', '7', '--region', 'RegionOne', 'widgets', '-f', 'json'],
    ['limit', 'list', '-f', 'json'],
    ['endpoint', 'group', 'create', 'public-only', groupFile, '-f', 'json'],
    ['endpoint', 'group', 'show', 'public-only', '-f', 'json'],
  ])) as [Row, Row, Row[], Row, Row[], Row, Row, Row, Row[], Row, Row];
  assert.equal(trust['trustee_user_id'], trustee['id']);
  assert.equal(trust['impersonation'], true);
  assert.ok(trusts.some((t) => t['ID'] === trust['id']));
  assert.ok(ec2['access'] && ec2['secret']);
  assert.ok(ec2s.some((c) => c['Access'] === ec2['access']));
  assert.equal(cred['type'], 'totp');
  assert.equal(cred['blob'], 'a-secret-blob');
  assert.equal(registered['default_limit'], 5);
  assert.equal(limit['resource_limit'], 7);
  assert.ok(limits.some((l) => l['Resource Name'] === 'widgets'));
  assert.equal(group['name'], 'public-only');
  assert.equal(groupEndpoints['name'], 'public-only');

  // The trustee uses the trust (keystoneauth's trust_id) and acts as the trustor.
  const trusteeEnv = {
    OS_AUTH_URL: env['OS_AUTH_URL']!,
    OS_IDENTITY_API_VERSION: '3',
    OS_USERNAME: 'trustee',
    OS_PASSWORD: 'Trustee-pass1',
    OS_USER_DOMAIN_NAME: 'Default',
    OS_TRUST_ID: String(trust['id']),
    OS_REGION_NAME: 'RegionOne',
    OS_INTERFACE: 'public',
  };
  const t = await openstackJson(trusteeEnv, ['token', 'issue']);
  assert.equal(t['user_id'], (await openstackJson(env, ['token', 'issue']))['user_id'], 'impersonation: the token is the trustor’s');
});
