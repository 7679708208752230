import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { silentLog } from '../../src/core/log.js';
import { LinuxDataPlane } from '../../src/agents/network/linux/linux-data-plane.js';
import type { DesiredState, DpPort } from '../../src/agents/network/linux/model.js';
import { Names } from '../../src/agents/network/linux/names.js';
import { createMetadataApp } from '../../src/metadata/api/app.js';
import { staticMetadataSource, type MetadataInstance } from '../../src/metadata/service/metadata-source.js';
import { createHostLab, dataPlaneSkipReason, type HostLab } from '../support/host-lab.js';

/**
 * DHCP from dnsmasq in a qdhcp- namespace and metadata through the proxy,
 * with "VMs" that are network namespaces (fast, no QEMU): the lease is the
 * fixed IP by MAC, option 121 carries the metadata route, the proxy answers
 * each VM with its own metadata whatever headers it forges, and removing
 * everything leaves nothing behind.
 */

const skip = await dataPlaneSkipReason();
let lab: HostLab;
let dp: LinuxDataPlane;
let app: ReturnType<typeof createMetadataApp>;
const SECRET = 'test-secret';

const netId = crypto.randomUUID();
const subnetId = crypto.randomUUID();
const sgId = crypto.randomUUID();
const vni = 1000 + Math.floor(Math.random() * 60000);
const instA = crypto.randomUUID();
const instB = crypto.randomUUID();

function port(id: string, mac: string, ip: string, owner: string, deviceId: string): DpPort {
  return { id, networkId: netId, mac, fixedIps: [{ subnetId, ip }], deviceOwner: owner, deviceId, projectId: 'proj-1', securityGroupIds: owner.startsWith('compute') ? [sgId] : [], portSecurityEnabled: owner.startsWith('compute'), allowedAddressPairs: [] };
}
const dhcpPort = port(crypto.randomUUID(), 'fa:16:3e:10:00:02', '10.77.0.2', 'network:dhcp', `dhcp-${netId}`);
const portA = port(crypto.randomUUID(), 'fa:16:3e:10:00:05', '10.77.0.5', 'compute:nova', instA);
const portB = port(crypto.randomUUID(), 'fa:16:3e:10:00:06', '10.77.0.6', 'compute:nova', instB);

const desired = (): DesiredState => ({
  networks: [{ id: netId, type: 'vxlan', segmentationId: vni, mtu: 1450, subnets: [{ id: subnetId, cidr: '10.77.0.0/24', ipVersion: 4, gatewayIp: '10.77.0.1', enableDhcp: true, dnsNameservers: [] }] }],
  ports: [dhcpPort, portA, portB],
  securityGroups: [{ id: sgId, rules: [{ id: 'e4', direction: 'egress', ethertype: 'IPv4' }, { id: 'i-icmp', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }] }],
  routers: [],
});

function instance(uuid: string, name: string, ec2Id: number, ip: string): MetadataInstance {
  return {
    uuid,
    name,
    hostname: name,
    projectId: 'proj-1',
    availabilityZone: 'nova',
    launchIndex: 0,
    reservationId: 'r-1',
    ec2Id,
    flavorName: 'm1.nano',
    keys: [],
    meta: {},
    nics: [{ portId: 'p', mac: 'fa:16:3e:00:00:00', networkId: netId, ips: [{ address: ip, cidr: '10.77.0.0/24', version: 4, dhcp: true }] }],
    floatingIps: [],
    securityGroups: ['default'],
  };
}

before(async () => {
  if (skip) return;
  lab = await createHostLab();
  app = createMetadataApp({ log: silentLog(), source: () => staticMetadataSource([instance(instA, 'vm-a', 0xa, '10.77.0.5'), instance(instB, 'vm-b', 0xb, '10.77.0.6')]), sharedSecret: SECRET, dhcpDomain: 'novalocal', logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const upstream = { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port };
  dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network'), metadata: { upstream, sharedSecret: SECRET } });
});

after(async () => {
  if (skip) return;
  await dp?.teardown().catch(() => {});
  await dp?.close();
  await app?.close();
  await lab?.cleanup();
});

test('DHCP lease by MAC with option 121, metadata through the proxy, no forging, clean removal', { skip, timeout: 120_000 }, async () => {
  // The "VMs" must be wired before apply() so their veth ends are the taps it puts in the bridge.
  const vmA = await lab.fakeVm({ tap: Names.tap(portA.id), mac: portA.mac, mtu: 1450 });
  const vmB = await lab.fakeVm({ tap: Names.tap(portB.id), mac: portB.mac, mtu: 1450 });
  await dp.apply(desired());

  // DHCP: udhcpc with an event script that prints what it got.
  const script = join(lab.dir, 'udhcpc.sh');
  const { writeFileSync, chmodSync } = await import('node:fs');
  writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "BOUND ip=$ip mask=$mask router=$router mtu=$mtu routes=[$staticroutes]"\nexit 0\n');
  chmodSync(script, 0o755);
  const dhcp = await lab.inNs(vmA, 'busybox', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '5', '-T', '1', '-O', 'staticroutes', '-O', 'mtu', '-s', script], 30_000);
  assert.match(dhcp.stdout, /BOUND ip=10\.77\.0\.5 mask=24 router=10\.77\.0\.1 mtu=1450/, dhcp.stdout + dhcp.stderr);
  assert.match(dhcp.stdout, /routes=\[169\.254\.169\.254\/32 10\.77\.0\.2 0\.0\.0\.0\/0 10\.77\.0\.1\]/);
  assert.equal(dp.dnsmasq.leases(netId).get(portA.mac), '10.77.0.5');

  // An unknown MAC gets nothing (static ranges only).
  const stranger = await lab.fakeVm({ tap: `tap${crypto.randomUUID().slice(0, 11)}`, bridge: Names.bridge(netId), mac: 'fa:16:3e:99:99:99' });
  const none = await lab.inNs(stranger, 'busybox', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', '2', '-T', '1', '-s', script], 20_000);
  assert.doesNotMatch(none.stdout, /BOUND/);

  // Metadata: each VM sees its own instance, whatever it claims to be.
  for (const [ns, cidr] of [[vmA, '10.77.0.5/24'], [vmB, '10.77.0.6/24']] as const) {
    await lab.ip.addrAdd(ns, 'eth0', cidr);
    await lab.ip.routeReplace(ns, '169.254.169.254/32', { via: '10.77.0.2' });
  }
  const get = async (ns: string, path: string, headers: string[] = []) => {
    const args = ['wget', '-q', '-O', '-', ...headers.flatMap((h) => ['--header', h]), `http://169.254.169.254${path}`];
    return (await lab.inNs(ns, 'busybox', ['timeout', '10', 'busybox', ...args], 15_000)).stdout;
  };
  assert.equal(await get(vmA, '/latest/meta-data/instance-id'), 'i-0000000a');
  assert.equal(await get(vmB, '/latest/meta-data/instance-id'), 'i-0000000b');
  assert.equal(JSON.parse(await get(vmA, '/openstack/latest/meta_data.json')).uuid, instA);
  // Forged identity headers are dropped by the proxy.
  const forged = await get(vmB, '/latest/meta-data/instance-id', [`X-Instance-ID: ${instA}`, 'X-Forwarded-For: 10.77.0.5', 'X-Tenant-ID: proj-1', 'X-Instance-ID-Signature: 00']);
  assert.equal(forged, 'i-0000000b');
  // Taking another VM's address does not get its metadata: anti-spoofing drops the packets.
  await lab.ip.addrAdd(vmB, 'eth0', '10.77.0.5/32');
  const stolen = await lab.inNs(vmB, 'busybox', ['timeout', '5', 'busybox', 'wget', '-q', '-O', '-', '-Y', 'off', 'http://169.254.169.254/latest/meta-data/instance-id'], 10_000);
  // B's own address is still the route's source, so ask explicitly from the stolen one through a second route table entry.
  await lab.ip.routeReplace(vmB, '169.254.169.254/32', { via: '10.77.0.2' });
  await lab.inNs(vmB, 'ip', ['route', 'replace', '169.254.169.254/32', 'via', '10.77.0.2', 'src', '10.77.0.5']);
  const spoofed = await lab.inNs(vmB, 'busybox', ['timeout', '5', 'busybox', 'wget', '-q', '-O', '-', 'http://169.254.169.254/latest/meta-data/instance-id'], 10_000);
  assert.notEqual(spoofed.stdout, 'i-0000000a', 'B never reads A\'s metadata');
  assert.equal(spoofed.stdout, '', 'the spoofed request does not get through at all');
  assert.equal(stolen.stdout, 'i-0000000b', 'from its own address B still gets its own');
  await lab.ip.addrDel(vmB, 'eth0', '10.77.0.5/32');
  await lab.ip.routeReplace(vmB, '169.254.169.254/32', { via: '10.77.0.2' });

  // An address that belongs to no port gets nothing.
  await lab.ip.addrAdd(stranger, 'eth0', '10.77.0.77/24');
  await lab.ip.routeReplace(stranger, '169.254.169.254/32', { via: '10.77.0.2' });
  assert.equal(await get(stranger, '/latest/meta-data/instance-id'), '');

  // Port B leaves: its host entry goes (dnsmasq reloaded), its tap is removed.
  await dp.apply({ ...desired(), ports: [dhcpPort, portA] });
  const { readFileSync } = await import('node:fs');
  assert.doesNotMatch(readFileSync(dp.dnsmasq.files(netId).host, 'utf8'), /10\.77\.0\.6/);
  assert.equal(await lab.ip.link(undefined, Names.tap(portB.id)), undefined);

  // Agent restart: the old process's listeners die with it; a new data plane on the same
  // state adopts dnsmasq and the namespace and serves metadata again.
  await dp.close();
  const pid = dp.dnsmasq.pid(netId);
  dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network'), metadata: { upstream: { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port }, sharedSecret: SECRET } });
  await dp.apply({ ...desired(), ports: [dhcpPort, portA] });
  assert.equal(dp.dnsmasq.pid(netId), pid, 'the running dnsmasq is kept (reloaded, not restarted)');
  assert.equal(await get(vmA, '/latest/meta-data/instance-id'), 'i-0000000a');

  // Leftovers with our naming that no journal knows (a crash mid-create) are removed too.
  const strayBridge = Names.bridge(crypto.randomUUID());
  const strayTap = Names.tap(crypto.randomUUID());
  await lab.ip.bridgeAdd(undefined, strayBridge);
  await lab.ip.tapAdd(undefined, strayTap);
  await dp.apply({ ...desired(), ports: [dhcpPort, portA] });
  assert.equal(await lab.ip.link(undefined, strayBridge), undefined);
  assert.equal(await lab.ip.link(undefined, strayTap), undefined);
  assert.ok(await lab.ip.link(undefined, Names.tap(portA.id)), 'the wanted tap stays');

  // Everything goes: namespace, dnsmasq, listener, bridge, vxlan, taps, rules.
  await dp.teardown();
  const inv = await dp.inventory();
  assert.deepEqual(inv.namespaces, []);
  assert.deepEqual(inv.dnsmasq, []);
  assert.deepEqual(inv.listeners, []);
  assert.equal(await lab.ip.netnsExists(Names.dhcpNamespace(netId)), false);
  assert.equal(await lab.ip.link(undefined, Names.bridge(netId)), undefined);
  assert.equal(await lab.ip.link(undefined, Names.vxlan(vni)), undefined);
  assert.deepEqual(await dp.firewall!.chains(4), []);
  assert.equal(dp.journal.list().length, 0, JSON.stringify(dp.journal.list()));
});
