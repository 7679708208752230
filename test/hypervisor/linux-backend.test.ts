import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { silentLog } from '../../src/core/log.js';
import { LinuxDataPlane } from '../../src/agents/network/linux/linux-data-plane.js';
import { createLinuxBackend } from '../../src/agents/network/linux/linux-backend.js';
import { Names } from '../../src/agents/network/linux/names.js';
import type { Dict, NetworkReaderLike } from '../../src/agents/network/linux/neutron-mapping.js';
import { createHostLab, dataPlaneSkipReason, type HostLab } from '../support/host-lab.js';

/**
 * The Linux backend as the networking service drives it: start reconciles the
 * host with the database (through the reader), each committed change re-syncs
 * it, ports it wired are reported ACTIVE, agents are reported, and a deleted
 * port's tap goes away. Binding refuses unmapped provider networks.
 */

const skip = await dataPlaneSkipReason();
let lab: HostLab;
let dp: LinuxDataPlane;
const netId = crypto.randomUUID();
const subId = crypto.randomUUID();
const vmPort = crypto.randomUUID();
const dhcpPort = crypto.randomUUID();
let ports: Dict[] = [];
const statuses: [string, string][] = [];
const agents: string[] = [];

const reader: NetworkReaderLike = {
  portsOnHost: async () => ports,
  routerDetails: async () => undefined,
  securityGroupInfo: async () => ({ rules: [], members: {} }),
  networks: async () => [{ id: netId, mtu: 1450, 'provider:network_type': 'vxlan', 'provider:segmentation_id': 4000 + Math.floor(Math.random() * 50000) }],
  subnets: async () => [{ id: subId, network_id: netId, cidr: '10.82.0.0/24', ip_version: 4, gateway_ip: '10.82.0.1', enable_dhcp: true, dns_nameservers: [], host_routes: [] }],
};
const port = (id: string, owner: string, ip: string, mac: string): Dict => ({ id, network_id: netId, mac_address: mac, fixed_ips: [{ subnet_id: subId, ip_address: ip }], device_owner: owner, device_id: 'd', project_id: 'p', security_groups: [], port_security_enabled: owner.startsWith('compute'), allowed_address_pairs: [] });

before(async () => {
  if (skip) return;
  lab = await createHostLab();
  dp = new LinuxDataPlane({ ip: lab.ip, log: silentLog(), stateDir: join(lab.dir, 'network') });
});
after(async () => {
  if (skip) return;
  await dp?.teardown().catch(() => {});
  await lab?.cleanup();
});

test('start reconciles, changes re-sync, wired ports go ACTIVE, deletions clean up', { skip, timeout: 60_000 }, async () => {
  ports = [port(dhcpPort, 'network:dhcp', '10.82.0.2', 'fa:16:3e:60:00:02'), port(vmPort, 'compute:nova', '10.82.0.5', 'fa:16:3e:60:00:05')];
  const backend = createLinuxBackend({ dataPlane: dp, host: 'h1', log: silentLog(), availabilityZone: 'nova', physicalNetworks: ['public'], hostGatewayOnExternal: true, debounceMs: 10 });
  await backend.start({
    reader,
    callbacks: { setPortStatus: async (id, s) => void statuses.push([id, s]), reportAgent: async (a) => void agents.push(a.agent_type) },
  });
  assert.deepEqual(agents.sort(), ['DHCP agent', 'L3 agent', 'Linux bridge agent', 'Metadata agent']);
  assert.ok(await lab.ip.link(undefined, Names.tap(vmPort)), 'VM tap wired at start');
  assert.ok(dp.dnsmasq.pid(netId), 'dnsmasq runs');
  assert.deepEqual(statuses.map(([id]) => id).sort(), [dhcpPort, vmPort].sort());

  ports = ports.filter((p) => p['id'] !== vmPort);
  await backend.postcommit({ kind: 'port', action: 'delete', current: {} });
  await backend.settled();
  assert.equal(await lab.ip.link(undefined, Names.tap(vmPort)), undefined);

  assert.equal(backend.bindPort({ network_id: netId }, { network_type: 'flat', physical_network: 'nowhere' }, 'h1'), null);
  assert.deepEqual(backend.bindPort({ network_id: netId }, { network_type: 'vxlan', physical_network: null }, 'h1'), { vifType: 'bridge', vifDetails: { port_filter: true, connectivity: 'l2', bridge_name: Names.bridge(netId) } });
  await backend.stop();
  // Stopping the agent leaves the host wired (guests keep their network).
  assert.ok(dp.dnsmasq.pid(netId));
});
