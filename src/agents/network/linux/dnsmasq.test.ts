import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addnHostsFile, dnsmasqArgs, hostsFile, optsFile, type DhcpConfig } from './dnsmasq.js';

const cfg: DhcpConfig = {
  networkId: 'net-1',
  mtu: 1450,
  domain: 'openstacklocal',
  leaseSeconds: 86400,
  isolatedMetadata: true,
  subnets: [
    { id: 's1', cidr: '10.10.0.0/24', gatewayIp: '10.10.0.1', enableDhcp: true, dnsNameservers: ['8.8.8.8'], hostRoutes: [{ destination: '192.168.0.0/16', nexthop: '10.10.0.254' }], dhcpServerIp: '10.10.0.2' },
    { id: 's2', cidr: '10.20.0.0/24', gatewayIp: null, enableDhcp: true, dhcpServerIp: '10.20.0.2' },
    { id: 's3', cidr: '10.30.0.0/24', gatewayIp: '10.30.0.1', enableDhcp: false },
  ],
  hosts: [{ mac: 'FA:16:3E:00:00:05', ip: '10.10.0.5' }, { mac: 'fa:16:3e:00:00:06', ip: '10.20.0.6', hostname: 'web' }],
};

test('hosts and addn_hosts files in Neutron format', () => {
  assert.equal(hostsFile(cfg), 'fa:16:3e:00:00:05,host-10-10-0-5.openstacklocal,10.10.0.5\nfa:16:3e:00:00:06,web.openstacklocal,10.20.0.6\n');
  assert.equal(addnHostsFile(cfg), '10.10.0.5\thost-10-10-0-5.openstacklocal host-10-10-0-5\n10.20.0.6\tweb.openstacklocal web\n');
  assert.throws(() => hostsFile({ ...cfg, hosts: [{ mac: 'x;rm -rf', ip: '1.2.3.4' }] }), /bad MAC/);
});

test('options: option 121/249 with the metadata route, host routes and default route; router option', () => {
  const lines = optsFile(cfg).trim().split('\n');
  assert.deepEqual(lines, [
    'tag:subnet-s1,option:dns-server,8.8.8.8',
    'tag:subnet-s1,option:classless-static-route,169.254.169.254/32,10.10.0.2,192.168.0.0/16,10.10.0.254,0.0.0.0/0,10.10.0.1',
    'tag:subnet-s1,249,169.254.169.254/32,10.10.0.2,192.168.0.0/16,10.10.0.254,0.0.0.0/0,10.10.0.1',
    'tag:subnet-s1,option:router,10.10.0.1',
    'tag:subnet-s2,option:classless-static-route,169.254.169.254/32,10.20.0.2',
    'tag:subnet-s2,249,169.254.169.254/32,10.20.0.2',
    'tag:subnet-s2,option:router',
  ]);
});

test('command line: static range per DHCP subnet, MTU, no resolv, our files', () => {
  const files = { dir: '/d', host: '/d/host', addnHosts: '/d/addn_hosts', opts: '/d/opts', leases: '/d/leases', pid: '/d/pid', log: '/d/log', cmdline: '/d/cmdline' };
  const args = dnsmasqArgs(cfg, files);
  assert.ok(args.includes('--dhcp-range=set:subnet-s1,10.10.0.0,static,255.255.255.0,86400s'));
  assert.ok(args.includes('--dhcp-range=set:subnet-s2,10.20.0.0,static,255.255.255.0,86400s'));
  assert.ok(!args.some((a) => a.includes('subnet-s3')), 'no range for a subnet without DHCP');
  assert.ok(args.includes('--dhcp-option-force=option:mtu,1450'));
  assert.ok(args.includes('--no-resolv') && args.includes('--pid-file=/d/pid') && args.includes('--dhcp-hostsfile=/d/host'));
});
