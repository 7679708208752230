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
 * A router namespace between a tenant network and the external network that
 * sits on a host bridge with a host address (as in the all-in-one): the
 * floating IP of one VM is reachable from the host, the other VM reaches the
 * host through SNAT, metadata works through the router, and removing the
 * router and floating IP takes everything away.
 */

const skip = await dataPlaneSkipReason();
let lab: HostLab;
let dp: LinuxDataPlane;
let app: ReturnType<typeof createMetadataApp>;
const vm: Record<string, string> = {};

const extNet = crypto.randomUUID();
const extSub = crypto.randomUUID();
const tenNet = crypto.randomUUID();
const tenSub = crypto.randomUUID();
const routerId = crypto.randomUUID();
const sg = crypto.randomUUID();
const instA = crypto.randomUUID();
const otherNet = crypto.randomUUID();
const otherSub = crypto.randomUUID();

const base = { projectId: 'p', securityGroupIds: [] as string[], portSecurityEnabled: false, allowedAddressPairs: [] };
const gwPort: DpPort = { ...base, id: crypto.randomUUID(), networkId: extNet, mac: 'fa:16:3e:40:00:02', fixedIps: [{ subnetId: extSub, ip: '172.31.77.10' }], deviceOwner: 'network:router_gateway', deviceId: routerId };
const rif: DpPort = { ...base, id: crypto.randomUUID(), networkId: tenNet, mac: 'fa:16:3e:40:01:01', fixedIps: [{ subnetId: tenSub, ip: '10.80.0.1' }], deviceOwner: 'network:router_interface', deviceId: routerId };
const a: DpPort = { ...base, id: crypto.randomUUID(), networkId: tenNet, mac: 'fa:16:3e:40:01:05', fixedIps: [{ subnetId: tenSub, ip: '10.80.0.5' }], deviceOwner: 'compute:nova', deviceId: instA, securityGroupIds: [sg], portSecurityEnabled: true };
const b: DpPort = { ...base, id: crypto.randomUUID(), networkId: tenNet, mac: 'fa:16:3e:40:01:06', fixedIps: [{ subnetId: tenSub, ip: '10.80.0.6' }], deviceOwner: 'compute:nova', deviceId: crypto.randomUUID(), securityGroupIds: [sg], portSecurityEnabled: true };

// Another tenant's network with a VM, attached to no router of ours.
const c: DpPort = { ...base, id: crypto.randomUUID(), networkId: otherNet, mac: 'fa:16:3e:40:02:05', fixedIps: [{ subnetId: otherSub, ip: '10.83.0.5' }], deviceOwner: 'compute:nova', deviceId: crypto.randomUUID(), projectId: 'q' };
const desired = (withFip = true, withRouter = true): DesiredState => ({
  networks: [
    { id: otherNet, type: 'vxlan', segmentationId: 4000 + Math.floor(Math.random() * 1000), mtu: 1450, subnets: [{ id: otherSub, cidr: '10.83.0.0/24', ipVersion: 4, gatewayIp: '10.83.0.1', enableDhcp: false }] },
    { id: extNet, type: 'flat', mtu: 1500, external: true, hostAddress: '172.31.77.1/24', subnets: [{ id: extSub, cidr: '172.31.77.0/24', ipVersion: 4, gatewayIp: '172.31.77.1', enableDhcp: false }] },
    { id: tenNet, type: 'vxlan', segmentationId: 3000 + Math.floor(Math.random() * 60000), mtu: 1450, subnets: [{ id: tenSub, cidr: '10.80.0.0/24', ipVersion: 4, gatewayIp: '10.80.0.1', enableDhcp: false }] },
  ],
  ports: withRouter ? [gwPort, rif, a, b, c] : [a, b, c],
  securityGroups: [{ id: sg, rules: [{ id: 'e', direction: 'egress', ethertype: 'IPv4' }, { id: 'i', direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }, { id: 't', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 }] }],
  routers: withRouter
    ? [{ id: routerId, interfacePortIds: [rif.id], gatewayPortId: gwPort.id, enableSnat: true, routes: [], floatingIps: withFip ? [{ id: 'f1', floatingIp: '172.31.77.50', fixedIp: '10.80.0.5', portId: a.id }] : [] }]
    : [],
});

before(async () => {
  if (skip) return;
  lab = await createHostLab();
  const inst: MetadataInstance = { uuid: instA, name: 'a', hostname: 'vm-a', projectId: 'p', availabilityZone: 'nova', launchIndex: 0, reservationId: 'r', ec2Id: 0x77, flavorName: 'f', keys: [], meta: {}, nics: [], floatingIps: ['172.31.77.50'], securityGroups: [] };
  app = createMetadataApp({ log: silentLog(), source: () => staticMetadataSource([inst]), sharedSecret: 's', dhcpDomain: 'novalocal', logRequests: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network'), metadata: { upstream: { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port }, sharedSecret: 's' } });
  for (const n of desired().networks) await dp.ensureNetwork(n);
  for (const [name, p] of [['a', a], ['b', b]] as const) {
    vm[name] = await lab.fakeVm({ tap: Names.tap(p.id), bridge: Names.bridge(tenNet), mac: p.mac, cidr: `${p.fixedIps[0]!.ip}/24`, gateway: '10.80.0.1', mtu: 1450 });
  }
  vm['c'] = await lab.fakeVm({ tap: Names.tap(c.id), bridge: Names.bridge(otherNet), mac: c.mac, cidr: '10.83.0.5/24', gateway: '10.83.0.1', mtu: 1450 });
  await dp.apply(desired());
  await lab.inNs(vm['a']!, 'sh', ['-c', '(while true; do echo web-a | busybox nc -l -p 80 >/dev/null 2>&1; done) >/dev/null 2>&1 &']);
});

after(async () => {
  if (skip) return;
  await dp?.teardown().catch(() => {});
  await dp?.close();
  await app?.close();
  await lab?.cleanup();
});

test('floating IP reachable from the host; SNAT for the others; metadata through the router', { skip, timeout: 120_000 }, async () => {
  const host = lab.hostNs;
  const ping = (ns: string, to: string) => lab.inNs(ns, 'busybox', ['ping', '-c', '1', '-W', '2', to], 6_000);
  assert.equal((await ping(host, '172.31.77.10')).code, 0, 'router gateway answers on the external network');
  assert.equal((await ping(host, '172.31.77.50')).code, 0, 'the floating IP answers from the host');
  const web = await lab.inNs(host, 'busybox', ['timeout', '5', 'busybox', 'nc', '172.31.77.50', '80'], 8_000);
  assert.equal(web.stdout.trim(), 'web-a', 'TCP to the floating IP reaches VM a');
  assert.equal((await ping(vm['b']!, '172.31.77.1')).code, 0, 'VM b reaches the host through SNAT');
  assert.equal((await ping(vm['a']!, '172.31.77.1')).code, 0);
  // Conntrack tells which source the host saw: b as the gateway address, a as its floating IP.
  await lab.inNs(vm['b']!, 'busybox', ['ping', '-c', '1', '-W', '2', '172.31.77.1']);
  const ct = await lab.inNs(host, 'conntrack', ['-L', '-p', 'icmp']);
  assert.match(ct.stdout, /src=172\.31\.77\.10 dst=172\.31\.77\.1/, ct.stdout);
  assert.match(ct.stdout, /src=172\.31\.77\.50 dst=172\.31\.77\.1/, ct.stdout);
  // Another tenant's network is not reachable: no router joins it to ours.
  assert.notEqual((await ping(vm['a']!, '10.83.0.5')).code, 0, 'no path to another tenant network');
  assert.notEqual((await ping(vm['c']!, '10.80.0.5')).code, 0);
  // Metadata via the router (no DHCP namespace on this network): redirect to the proxy in qrouter-.
  await lab.ip.routeReplace(vm['a'], '169.254.169.254/32', { via: '10.80.0.1' });
  const md = await lab.inNs(vm['a']!, 'busybox', ['timeout', '10', 'busybox', 'wget', '-q', '-O', '-', 'http://169.254.169.254/latest/meta-data/instance-id'], 15_000);
  assert.equal(md.stdout, 'i-00000077');
});

test('removing the floating IP and then the router leaves nothing', { skip, timeout: 60_000 }, async () => {
  await dp.apply(desired(false));
  assert.notEqual((await lab.inNs(lab.hostNs, 'busybox', ['ping', '-c', '1', '-W', '1', '172.31.77.50'], 5_000)).code, 0);
  await dp.apply(desired(false, false));
  assert.equal(await lab.ip.netnsExists(Names.routerNamespace(routerId)), false);
  assert.equal(await lab.ip.link(undefined, Names.routerHostEnd(gwPort.id)), undefined);
  assert.equal(await lab.ip.link(undefined, Names.routerHostEnd(rif.id)), undefined);
  assert.deepEqual((await dp.inventory()).listeners, []);
  await dp.teardown();
  assert.deepEqual((await dp.inventory()).links, []);
  assert.equal(dp.journal.list().length, 0, JSON.stringify(dp.journal.list()));
});
