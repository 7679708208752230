import { Type } from '@sinclair/typebox';
import { section } from '../../../core/config/types.js';

/**
 * The Linux data plane of a network/compute host (bridges, VXLAN, dnsmasq,
 * iptables, router namespaces). Provider network interfaces come from
 * `network.physicalInterfaceMappings`.
 */
export const linuxNetworkSection = section({
  stateDir: Type.String({ default: '', description: 'dnsmasq files and the resource journal (default: <dataDir>/network)' }),
  vxlanLocalIp: Type.String({ default: '', description: 'underlay address VXLAN tunnels start from (empty: the kernel picks)' }),
  vxlanDevice: Type.String({ default: '', description: 'underlay device for VXLAN (empty: any)' }),
  vxlanPeers: Type.Array(Type.String(), { default: [], description: 'other hosts\' underlay addresses, flooded to (unicast mode)' }),
  vxlanGroup: Type.String({ default: '', description: 'multicast group for VXLAN flooding instead of peers' }),
  hostGatewayOnExternal: Type.Boolean({ default: true, description: "put each external subnet's gateway address on its bridge, so floating IPs are reachable from this host (all-in-one)" }),
  firewall: Type.Boolean({ default: true, description: 'enforce security groups with iptables/ipset and anti-spoofing with nftables' }),
  dhcpDomain: Type.String({ default: 'openstacklocal', description: "domain dnsmasq gives guests (Neutron's dns_domain)" }),
});
