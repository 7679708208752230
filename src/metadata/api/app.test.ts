import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLog } from '../../core/log.js';
import { signInstanceId } from '../signature.js';
import { staticMetadataSource, type MetadataInstance } from '../service/metadata-source.js';
import { createMetadataApp } from './app.js';

const SECRET = 'shared-secret';
const vm: MetadataInstance = {
  uuid: '0b5e55ed-0000-4000-8000-000000000001',
  name: 'vm one',
  hostname: 'vm-one',
  projectId: 'p1',
  availabilityZone: 'nova',
  launchIndex: 0,
  reservationId: 'r-abc',
  ec2Id: 42,
  imageId: 'img-1',
  flavorName: 'm1.tiny',
  keys: [{ name: 'mykey', type: 'ssh', data: 'ssh-ed25519 AAAA test@host' }],
  userData: Buffer.from('#!/bin/sh\necho hi\n'),
  meta: { role: 'web' },
  nics: [
    {
      portId: 'port-1234567890ab',
      mac: 'fa:16:3e:00:00:05',
      mtu: 1450,
      networkId: 'net-1',
      ips: [{ address: '10.0.0.5', cidr: '10.0.0.0/24', version: 4, gateway: '10.0.0.1', dnsNameservers: ['10.0.0.2'], dhcp: false }],
    },
  ],
  floatingIps: ['172.24.4.10'],
  securityGroups: ['default'],
};
const other: MetadataInstance = { ...vm, uuid: '0b5e55ed-0000-4000-8000-000000000002', name: 'vm two', hostname: 'vm-two', projectId: 'p2', ec2Id: 43, userData: undefined, keys: [] };

function app() {
  return createMetadataApp({ log: silentLog(), source: () => staticMetadataSource([vm, other]), sharedSecret: SECRET, dhcpDomain: 'novalocal', logRequests: false });
}
const as = (i: MetadataInstance, sig = signInstanceId(SECRET, i.uuid)) => ({ 'x-instance-id': i.uuid, 'x-tenant-id': i.projectId, 'x-instance-id-signature': sig, 'x-forwarded-for': '10.0.0.5' });

test('EC2 tree: versions, listings, leaves, public keys', async () => {
  const a = app();
  assert.match((await a.inject({ url: '/' })).body, /^1\.0\n.*2009-04-04\nlatest$/s);
  const h = as(vm);
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id', headers: h })).body, 'i-0000002a');
  assert.equal((await a.inject({ url: '/2009-04-04/meta-data/hostname', headers: h })).body, 'vm-one.novalocal');
  assert.equal((await a.inject({ url: '/latest/meta-data/local-ipv4', headers: h })).body, '10.0.0.5');
  assert.equal((await a.inject({ url: '/latest/meta-data/public-ipv4', headers: h })).body, '172.24.4.10');
  assert.equal((await a.inject({ url: '/latest/meta-data/public-keys/', headers: h })).body, '0=mykey');
  assert.equal((await a.inject({ url: '/latest/meta-data/public-keys/0/openssh-key', headers: h })).body, 'ssh-ed25519 AAAA test@host');
  assert.equal((await a.inject({ url: '/latest/meta-data/placement/availability-zone', headers: h })).body, 'nova');
  const list = (await a.inject({ url: '/latest/meta-data/', headers: h })).body.split('\n');
  assert.ok(list.includes('instance-id') && list.includes('public-keys/') && list.includes('placement/'));
  assert.equal((await a.inject({ url: '/latest/user-data', headers: h })).body, '#!/bin/sh\necho hi\n');
  assert.equal((await a.inject({ url: '/latest/', headers: h })).body, 'meta-data/\nuser-data');
  assert.equal((await a.inject({ url: '/latest/meta-data/nope', headers: h })).statusCode, 404);
  assert.equal((await a.inject({ url: '/2001-01-01/meta-data/', headers: h })).statusCode, 404);
});

test('OpenStack documents: meta_data.json, network_data.json, user_data, vendor data', async () => {
  const a = app();
  const h = as(vm);
  assert.match((await a.inject({ url: '/openstack' })).body, /2012-08-10[\s\S]*latest$/);
  const files = (await a.inject({ url: '/openstack/latest', headers: h })).body.split('\n');
  assert.deepEqual(files.sort(), ['meta_data.json', 'network_data.json', 'password', 'user_data', 'vendor_data.json', 'vendor_data2.json']);
  const md = (await a.inject({ url: '/openstack/latest/meta_data.json', headers: h })).json();
  assert.equal(md.uuid, vm.uuid);
  assert.equal(md.name, 'vm one');
  assert.equal(md.hostname, 'vm-one.novalocal');
  assert.deepEqual(md.public_keys, { mykey: 'ssh-ed25519 AAAA test@host' });
  assert.deepEqual(md.meta, { role: 'web' });
  assert.equal(md.project_id, 'p1');
  const nd = (await a.inject({ url: '/openstack/2018-08-27/network_data.json', headers: h })).json();
  assert.equal(nd.links[0].ethernet_mac_address, 'fa:16:3e:00:00:05');
  assert.equal(nd.links[0].mtu, 1450);
  assert.equal(nd.networks[0].ip_address, '10.0.0.5');
  assert.equal(nd.networks[0].netmask, '255.255.255.0');
  assert.deepEqual(nd.networks[0].routes, [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' }]);
  assert.deepEqual(nd.services, [{ type: 'dns', address: '10.0.0.2' }]);
  assert.equal((await a.inject({ url: '/openstack/latest/user_data', headers: h })).body, '#!/bin/sh\necho hi\n');
  assert.deepEqual((await a.inject({ url: '/openstack/latest/vendor_data2.json', headers: h })).json(), {});
  // Older versions do not list newer documents.
  assert.equal((await a.inject({ url: '/openstack/2012-08-10/network_data.json', headers: h })).statusCode, 404);
  // No user data: 404, and not listed.
  const h2 = as(other);
  assert.equal((await a.inject({ url: '/openstack/latest/user_data', headers: h2 })).statusCode, 404);
  assert.equal((await a.inject({ url: '/latest/user-data', headers: h2 })).statusCode, 404);
});

test('identity is the signed instance id, nothing else', async () => {
  const a = app();
  // No identity at all.
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id' })).statusCode, 400);
  // Forged: another instance's id with a signature the guest cannot compute.
  const forged = { ...as(other), 'x-instance-id-signature': signInstanceId('guess', other.uuid) };
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id', headers: forged })).statusCode, 403);
  // A valid signature for one instance does not unlock another's id.
  const swapped = { ...as(vm), 'x-instance-id': other.uuid };
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id', headers: swapped })).statusCode, 403);
  // Wrong project for a correctly signed id.
  const wrongTenant = { ...as(vm), 'x-tenant-id': 'p2' };
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id', headers: wrongTenant })).statusCode, 404);
  // Unknown instance.
  const ghost = { ...as(vm), 'x-instance-id': 'nope', 'x-instance-id-signature': signInstanceId(SECRET, 'nope') };
  assert.equal((await a.inject({ url: '/latest/meta-data/instance-id', headers: ghost })).statusCode, 404);
});
