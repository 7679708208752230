import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredStateFor, toNetwork, type Dict, type NetworkReaderLike } from './neutron-mapping.js';

const net: Dict = { id: 'net-1', mtu: 1450, 'provider:network_type': 'vxlan', 'provider:segmentation_id': 77, 'router:external': false };
const ext: Dict = { id: 'ext-1', mtu: 1500, 'provider:network_type': 'flat', 'provider:physical_network': 'public', 'router:external': true };
const subnets: Dict[] = [
  { id: 'sub-1', network_id: 'net-1', cidr: '10.0.0.0/24', ip_version: 4, gateway_ip: '10.0.0.1', enable_dhcp: true, dns_nameservers: ['1.1.1.1'], host_routes: [] },
  { id: 'sub-ext', network_id: 'ext-1', cidr: '172.24.4.0/24', ip_version: 4, gateway_ip: '172.24.4.1', enable_dhcp: false, dns_nameservers: [], host_routes: [] },
];
const port = (id: string, owner: string, device: string, ip: string, extra: Dict = {}): Dict => ({
  id, network_id: 'net-1', mac_address: `fa:16:3e:00:00:${id.slice(-2)}`, fixed_ips: [{ subnet_id: 'sub-1', ip_address: ip }], device_owner: owner, device_id: device, project_id: 'p', security_groups: [], port_security_enabled: true, allowed_address_pairs: [], ...extra,
});
const vm = port('port-05', 'compute:nova', 'vm-1', '10.0.0.5', { security_groups: ['sg-1'], allowed_address_pairs: [{ ip_address: '10.0.0.50' }] });
const dhcp = port('port-02', 'network:dhcp', 'dhcp', '10.0.0.2');
const rif = port('port-01', 'network:router_interface', 'r-1', '10.0.0.1');
const gw: Dict = { ...port('port-gw', 'network:router_gateway', 'r-1', '172.24.4.10'), network_id: 'ext-1', fixed_ips: [{ subnet_id: 'sub-ext', ip_address: '172.24.4.10' }] };

const reader: NetworkReaderLike = {
  portsOnHost: async () => [vm, dhcp, rif],
  routerDetails: async (id) => (id === 'r-1' ? { router: { id: 'r-1', external_gateway_info: { network_id: 'ext-1', enable_snat: true }, routes: [] }, gatewayPort: gw, interfaces: [rif], subnets, floatingips: [{ id: 'f1', floating_ip_address: '172.24.4.20', fixed_ip_address: '10.0.0.5', port_id: 'port-05' }] } : undefined),
  securityGroupInfo: async (ids) => ({
    rules: ids.includes('sg-1') ? [{ id: 'r1', security_group_id: 'sg-1', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: null, remote_group_id: 'sg-2' }] : [],
    members: { 'sg-1': ['10.0.0.5'], 'sg-2': ['10.0.0.9', '10.9.9.9'] },
  }),
  networks: async () => [net, ext, { id: 'other', 'provider:network_type': 'vxlan' }],
  subnets: async () => subnets,
};

test('a host desired state from the reader: its ports, their networks, groups with members, routers with floating IPs', async () => {
  const d = await desiredStateFor(reader, 'h1', { hostGatewayOnExternal: true });
  assert.deepEqual(d.networks.map((n) => n.id).sort(), ['ext-1', 'net-1'], 'only networks this host has ports on');
  const n = d.networks.find((x) => x.id === 'net-1')!;
  assert.equal(n.type, 'vxlan');
  assert.equal(n.segmentationId, 77);
  assert.equal(n.mtu, 1450);
  assert.equal(n.subnets[0]!.enableDhcp, true);
  const e = d.networks.find((x) => x.id === 'ext-1')!;
  assert.equal(e.hostAddress, '172.24.4.1/24', 'external bridge gets the gateway address (all-in-one)');
  const p = d.ports.find((x) => x.id === 'port-05')!;
  assert.deepEqual(p.allowedAddressPairs, [{ ipAddress: '10.0.0.50' }]);
  assert.deepEqual(p.securityGroupIds, ['sg-1']);
  assert.ok(d.ports.some((x) => x.id === 'port-gw'), 'the gateway port comes from the router details');
  const sg1 = d.securityGroups.find((g) => g.id === 'sg-1')!;
  assert.equal(sg1.rules[0]!.remoteGroupId, 'sg-2');
  assert.deepEqual(d.securityGroups.find((g) => g.id === 'sg-2')!.members, ['10.0.0.9', '10.9.9.9'], 'remote group members from every host');
  assert.deepEqual(d.routers[0], { id: 'r-1', interfacePortIds: ['port-01'], gatewayPortId: 'port-gw', enableSnat: true, routes: [], floatingIps: [{ id: 'f1', floatingIp: '172.24.4.20', fixedIp: '10.0.0.5', portId: 'port-05' }] });
});

test('network defaults: vxlan MTU 1450, no host address unless external', () => {
  assert.equal(toNetwork({ id: 'x' }, [], { hostGatewayOnExternal: true }).mtu, 1450);
  assert.equal(toNetwork({ id: 'x', 'router:external': true }, [], { hostGatewayOnExternal: false }).hostAddress, undefined);
});
