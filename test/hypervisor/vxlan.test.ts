import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { silentLog } from '../../src/core/log.js';
import { LinuxDataPlane } from '../../src/agents/network/linux/linux-data-plane.js';
import type { DesiredState, DpPort } from '../../src/agents/network/linux/model.js';
import { Names } from '../../src/agents/network/linux/names.js';
import { createHostLab, dataPlaneSkipReason, type HostLab } from '../support/host-lab.js';

/**
 * Two "hosts" (namespaces joined by a veth underlay) carry one tenant network
 * over VXLAN with unicast flooding to the peer: a VM on each reaches the
 * other; dropping the peer from the configuration cuts the tunnel.
 */

const skip = await dataPlaneSkipReason();
let h1: HostLab;
let h2: HostLab;
let dp1: LinuxDataPlane;
let dp2: LinuxDataPlane;
const netId = crypto.randomUUID();
const subId = crypto.randomUUID();
const vni = 5000 + Math.floor(Math.random() * 50000);
const p = (ip: string, mac: string): DpPort => ({ id: crypto.randomUUID(), networkId: netId, mac, fixedIps: [{ subnetId: subId, ip }], deviceOwner: 'compute:nova', deviceId: 'd', projectId: 'p', securityGroupIds: [], portSecurityEnabled: false, allowedAddressPairs: [] });
const a = p('10.84.0.5', 'fa:16:3e:70:00:05');
const b = p('10.84.0.6', 'fa:16:3e:70:00:06');
const state = (port: DpPort): DesiredState => ({ networks: [{ id: netId, type: 'vxlan', segmentationId: vni, mtu: 1450, subnets: [{ id: subId, cidr: '10.84.0.0/24', ipVersion: 4, enableDhcp: false }] }], ports: [port], securityGroups: [], routers: [] });
const vm: Record<string, string> = {};

before(async () => {
  if (skip) return;
  h1 = await createHostLab();
  h2 = await createHostLab();
  // The underlay: one veth between the two host namespaces.
  await h1.ip.vethAdd(undefined, 'ul0', 'ul1', h2.hostNs);
  await h1.ip.linkSet(undefined, 'ul0', { up: true });
  await h2.ip.linkSet(undefined, 'ul1', { up: true });
  await h1.ip.addrAdd(undefined, 'ul0', '192.168.77.1/24');
  await h2.ip.addrAdd(undefined, 'ul1', '192.168.77.2/24');
  dp1 = new LinuxDataPlane({ ip: h1.ip, log: silentLog(), stateDir: join(h1.dir, 'n'), vxlan: { localIp: '192.168.77.1', dev: 'ul0', peers: ['192.168.77.2'] }, firewall: false });
  dp2 = new LinuxDataPlane({ ip: h2.ip, log: silentLog(), stateDir: join(h2.dir, 'n'), vxlan: { localIp: '192.168.77.2', dev: 'ul1', peers: ['192.168.77.1'] }, firewall: false });
  await dp1.ensureNetwork(state(a).networks[0]!);
  await dp2.ensureNetwork(state(b).networks[0]!);
  vm['a'] = await h1.fakeVm({ tap: Names.tap(a.id), bridge: Names.bridge(netId), mac: a.mac, cidr: '10.84.0.5/24', mtu: 1450 });
  vm['b'] = await h2.fakeVm({ tap: Names.tap(b.id), bridge: Names.bridge(netId), mac: b.mac, cidr: '10.84.0.6/24', mtu: 1450 });
  await dp1.apply(state(a));
  await dp2.apply(state(b));
});

after(async () => {
  if (skip) return;
  await dp1?.teardown().catch(() => {});
  await dp2?.teardown().catch(() => {});
  await h1?.cleanup();
  await h2?.cleanup();
});

test('VMs on two hosts share a VXLAN network; removing the peer cuts it', { skip, timeout: 60_000 }, async () => {
  const ping = async () => (await h1.inNs(vm['a']!, 'busybox', ['ping', '-c', '2', '-W', '2', '10.84.0.6'], 10_000)).code;
  assert.equal(await ping(), 0, 'across the tunnel');
  assert.equal((await h1.ip.link(undefined, Names.vxlan(vni)))?.mtu, 1450);
  assert.deepEqual(await h1.ip.fdbFloodDsts(undefined, Names.vxlan(vni)), ['192.168.77.2']);
  // Host 1 forgets its peer: no flooding, so after the neighbour entry goes, no path.
  const lonely = new LinuxDataPlane({ ip: h1.ip, log: silentLog(), stateDir: join(h1.dir, 'n'), vxlan: { localIp: '192.168.77.1', dev: 'ul0', peers: [] }, firewall: false });
  await lonely.apply(state(a));
  assert.deepEqual(await h1.ip.fdbFloodDsts(undefined, Names.vxlan(vni)), []);
  await h1.inNs(vm['a']!, 'ip', ['neigh', 'flush', 'all']);
  await h1.inNs(h1.hostNs, 'bridge', ['fdb', 'flush', 'dev', Names.vxlan(vni)]);
  assert.notEqual(await ping(), 0);
});
