import { Type } from '@sinclair/typebox';
import { Port, section } from '../core/config/types.js';

/**
 * The networking service (Neutron v2.0). Physical networks follow the ML2
 * linuxbridge options of an install guide: `flatNetworks` (ml2_type_flat
 * flat_networks) and `physicalInterfaceMappings` ([linux_bridge]
 * physical_interface_mappings), here `external`, `internal` and Nimbus's own
 * `public`, which carries the `public` network made at first start so that a
 * guide's own flat network on `external` still fits.
 */
export const networkSection = section({
  enabled: Type.Boolean({ default: true }),
  port: Port(9696, 'Neutron v2.0 API port'),
  backend: Type.String({
    default: 'fake',
    description: 'data plane behind the API: fake (ports bind and go ACTIVE at once, nothing is wired), or one a module registers',
  }),
  availabilityZone: Type.String({ default: 'nova', description: 'the availability zone networks and routers are in' }),
  host: Type.String({ default: '', description: 'host name agents report (default: the machine host name)' }),
  macPrefix: Type.String({ default: 'fa:16:3e', pattern: '^([0-9a-fA-F]{2}:){2,4}[0-9a-fA-F]{2}$', description: 'prefix of generated MAC addresses' }),
  flatNetworks: Type.Array(Type.String(), {
    default: ['public', 'external', 'internal'],
    description: 'physical networks on which flat networks may be created (`*` = any mapped one)',
  }),
  physicalInterfaceMappings: Type.Record(Type.String(), Type.String(), {
    default: { public: '', external: '', internal: '' },
    description: 'physical network → host interface; an empty interface means a bridge of its own with no uplink',
  }),
  networkVlanRanges: Type.Array(Type.String(), {
    default: ['internal:1000:1999'],
    description: 'physnet[:min:max] entries where VLAN networks may be made; ranges are for tenant allocation',
  }),
  vniRanges: Type.Array(Type.String(), { default: ['1:65535'], description: 'min:max VXLAN VNIs tenant networks are allocated from' }),
  tenantNetworkTypes: Type.Array(Type.Union([Type.Literal('vxlan'), Type.Literal('vlan'), Type.Literal('local')]), {
    default: ['vxlan', 'vlan'],
    description: 'types tried in order for networks created without provider attributes',
  }),
  physicalMtu: Type.Integer({ minimum: 68, default: 1500, description: 'MTU of the physical networks (global_physnet_mtu)' }),
  overlayOverhead: Type.Integer({ minimum: 0, default: 50, description: 'bytes VXLAN encapsulation costs (MTU = physicalMtu - this)' }),
  agentDownSeconds: Type.Integer({ minimum: 1, default: 75, description: 'an agent silent for longer is shown dead (agent_down_time)' }),
  notifyCompute: Type.Boolean({ default: true, description: 'tell compute when ports are plugged/unplugged (os-server-external-events)' }),
  maxRequestBodyBytes: Type.Integer({ minimum: 1024, default: 1048576 }),
  policyFile: Type.String({ default: '', description: 'policy.yaml with rule overrides (default: <dataDir>/network-policy.yaml if it exists)' }),
  quotas: section({
    network: Type.Integer({ minimum: -1, default: 100 }),
    subnet: Type.Integer({ minimum: -1, default: 100 }),
    subnetpool: Type.Integer({ minimum: -1, default: -1 }),
    port: Type.Integer({ minimum: -1, default: 500 }),
    router: Type.Integer({ minimum: -1, default: 10 }),
    floatingip: Type.Integer({ minimum: -1, default: 50 }),
    securityGroup: Type.Integer({ minimum: -1, default: 10 }),
    securityGroupRule: Type.Integer({ minimum: -1, default: 100 }),
    rbacPolicy: Type.Integer({ minimum: -1, default: 10 }),
  }),
  publicNetwork: section(
    {
      create: Type.Boolean({ default: true, description: 'create it at first start when no network exists' }),
      name: Type.String({ default: 'public' }),
      physicalNetwork: Type.String({ default: 'public', description: 'flat physical network it lives on' }),
      shared: Type.Boolean({ default: false }),
      subnetName: Type.String({ default: 'public-subnet' }),
      cidr: Type.String({ default: '172.24.4.0/24' }),
      gateway: Type.String({ default: '172.24.4.1', description: 'gateway IP (empty: none)' }),
      allocationPools: Type.Array(Type.String(), { default: ['172.24.4.2-172.24.4.254'], description: 'start-end ranges (empty: the whole cidr)' }),
      dnsNameservers: Type.Array(Type.String(), { default: [] }),
      ipv6Cidr: Type.String({ default: '', description: 'an IPv6 subnet too (empty: none)' }),
    },
    'the external network made at first start, for floating IPs and router gateways',
  ),
});
