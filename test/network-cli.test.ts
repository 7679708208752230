import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestCloud, type TestCloud } from './support/cloud.js';
import { createProjectUser, type ProjectUser } from './support/network-http.js';
import { haveOpenstackCli, openstackJson, openstackOk } from './support/openstack-cli.js';

/**
 * An install guide's networking steps with the real `openstack` CLI: the
 * provider (external) network and its subnet as admin, a self-service
 * network, router, security group rules, floating IP and port as a normal
 * user, then the agent and extension lists.
 */

let cloud: TestCloud;
let demo: ProjectUser;

before(async () => {
  if (!haveOpenstackCli) return;
  cloud = await startTestCloud();
  demo = await createProjectUser(cloud, 'demo');
});
after(async () => cloud?.close());

type Obj = Record<string, any>;

test('install guide networking steps with the openstack CLI', { skip: !haveOpenstackCli && 'openstack CLI not installed' }, async () => {
  const admin = cloud.env;

  // Provider network: flat on the guide's own physical network `external` (Nimbus's `public` uses another).
  const ext = await openstackJson<Obj>(admin, [
    'network', 'create', '--share', '--external', '--provider-physical-network', 'external', '--provider-network-type', 'flat', 'external-net',
  ]);
  assert.equal(ext['provider:network_type'], 'flat');
  assert.equal(ext['provider:physical_network'], 'external');
  assert.equal(ext['router:external'], true);
  assert.equal(ext['shared'], true);
  assert.equal(ext['mtu'], 1500);

  const extSub = await openstackJson<Obj>(admin, [
    'subnet', 'create', '--network', 'external-net', '--allocation-pool', 'start=172.20.248.100,end=172.20.248.200',
    '--dns-nameserver', '114.114.114.114', '--gateway', '172.20.0.1', '--subnet-range', '172.20.248.0/21', 'external-sub',
  ]);
  assert.equal(extSub['cidr'], '172.20.248.0/21');
  assert.equal(extSub['gateway_ip'], '172.20.0.1');
  assert.deepEqual(extSub['allocation_pools'], [{ start: '172.20.248.100', end: '172.20.248.200' }]);
  assert.deepEqual(extSub['dns_nameservers'], ['114.114.114.114']);

  // A second flat network on the same physical network is refused, as ML2 does.
  const dup = await openstackOk(admin, ['network', 'create', '--provider-physical-network', 'external', '--provider-network-type', 'flat', 'again']).catch((e: Error) => e.message);
  assert.match(dup, /in use|Conflict/i);

  // Self-service network as the demo user.
  const net = await openstackJson<Obj>(demo.env, ['network', 'create', 'selfservice']);
  assert.equal(net['project_id'], demo.projectId);
  assert.equal(net['provider:network_type'] ?? null, null, 'provider attributes are hidden from non-admins');
  assert.equal(net['mtu'], 1450);
  const sub = await openstackJson<Obj>(demo.env, [
    'subnet', 'create', '--network', 'selfservice', '--dns-nameserver', '8.8.4.4', '--gateway', '172.16.1.1', '--subnet-range', '172.16.1.0/24', 'selfservice',
  ]);
  assert.deepEqual(sub['allocation_pools'], [{ start: '172.16.1.2', end: '172.16.1.254' }]);

  await openstackOk(demo.env, ['router', 'create', 'router']);
  await openstackOk(demo.env, ['router', 'add', 'subnet', 'router', 'selfservice']);
  await openstackOk(demo.env, ['router', 'set', '--external-gateway', 'external-net', 'router']);
  const router = await openstackJson<Obj>(demo.env, ['router', 'show', 'router']);
  const gw = router['external_gateway_info'];
  assert.equal(gw.network_id, ext['id']);
  assert.equal(gw.enable_snat, true);
  const gwIp = gw.external_fixed_ips[0].ip_address as string;
  assert.match(gwIp, /^172\.20\.248\.(\d+)$/);
  assert.ok(Number(gwIp.split('.')[3]) >= 100 && Number(gwIp.split('.')[3]) <= 200, 'gateway address comes from the pool');
  const ifaces = await openstackJson<Obj[]>(demo.env, ['port', 'list', '--router', 'router']);
  assert.ok(ifaces.some((p) => p['Fixed IP Addresses'].some?.((f: Obj) => f.ip_address === '172.16.1.1') ?? JSON.stringify(p).includes('172.16.1.1')));

  // Extra routes, added and removed one by one (extraroute-atomic).
  await openstackOk(demo.env, ['router', 'add', 'route', '--route', 'destination=192.168.9.0/24,gateway=172.16.1.5', 'router']);
  assert.deepEqual((await openstackJson<Obj>(demo.env, ['router', 'show', 'router']))['routes'], [{ destination: '192.168.9.0/24', nexthop: '172.16.1.5' }]);
  await openstackOk(demo.env, ['router', 'remove', 'route', '--route', 'destination=192.168.9.0/24,gateway=172.16.1.5', 'router']);
  assert.deepEqual((await openstackJson<Obj>(demo.env, ['router', 'show', 'router']))['routes'], []);

  // Security group rules for ping and ssh on the default group.
  const icmp = await openstackJson<Obj>(demo.env, ['security', 'group', 'rule', 'create', '--proto', 'icmp', 'default']);
  assert.equal(icmp['protocol'], 'icmp');
  const ssh = await openstackJson<Obj>(demo.env, ['security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default']);
  assert.equal(ssh['port_range_min'], 22);
  assert.equal(ssh['port_range_max'], 22);
  const again = await openstackOk(demo.env, ['security', 'group', 'rule', 'create', '--proto', 'tcp', '--dst-port', '22', 'default']).catch((e: Error) => e.message);
  assert.match(again, /already exists/);

  // A port and a floating IP for it.
  const port = await openstackJson<Obj>(demo.env, ['port', 'create', '--network', 'selfservice', 'vm-port']);
  assert.match(port['mac_address'], /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  const fixed = port['fixed_ips'][0];
  assert.equal(fixed.subnet_id, sub['id']);
  assert.match(fixed.ip_address, /^172\.16\.1\.\d+$/);
  assert.notEqual(fixed.ip_address, '172.16.1.1');
  assert.equal(port['status'], 'DOWN');

  const fip = await openstackJson<Obj>(demo.env, ['floating', 'ip', 'create', 'external-net']);
  const last = Number(String(fip['floating_ip_address']).split('.')[3]);
  assert.ok(String(fip['floating_ip_address']).startsWith('172.20.248.') && last >= 100 && last <= 200);
  await openstackOk(demo.env, ['floating', 'ip', 'set', '--port', 'vm-port', fip['floating_ip_address']]);
  const assoc = await openstackJson<Obj>(demo.env, ['floating', 'ip', 'show', fip['floating_ip_address']]);
  assert.equal(assoc['port_id'], port['id']);
  assert.equal(assoc['fixed_ip_address'], fixed.ip_address);
  assert.equal(assoc['router_id'], router['id']);

  // What the demo user sees: its own network, the shared external one and Nimbus's public network.
  const nets = await openstackJson<Obj[]>(demo.env, ['network', 'list']);
  assert.deepEqual(nets.map((n) => n['Name']).sort(), ['external-net', 'public', 'selfservice']);

  const agents = await openstackJson<Obj[]>(admin, ['network', 'agent', 'list']);
  assert.ok(agents.length >= 1 && agents.every((a) => a['Alive'] === true || a['Alive'] === ':-)'));

  const exts = await openstackJson<Obj[]>(admin, ['extension', 'list', '--network']);
  const aliases = exts.map((e) => e['Alias']);
  for (const a of ['router', 'external-net', 'security-group', 'quotas', 'provider', 'binding', 'agent', 'standard-attr-tag']) assert.ok(aliases.includes(a), a);

  const quota = await openstackJson<Obj>(admin, ['quota', 'show', '--network', demo.projectName]).catch(() => undefined);
  if (quota) assert.equal(Number(quota['ports'] ?? quota['port']), 500);
});
