/**
 * The desired state the Linux data plane realises: what the network service
 * knows (networks, subnets, ports, security groups, routers, floating IPs),
 * reduced to what this host needs. The networking backend contract maps its
 * objects onto these; `LinuxDataPlane.apply()` makes the host match them and
 * removes everything else it created.
 */

export interface DpSubnet {
  id: string;
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp?: string | null;
  enableDhcp: boolean;
  dnsNameservers?: string[];
  hostRoutes?: { destination: string; nexthop: string }[];
}

export interface DpNetwork {
  id: string;
  /** vxlan for tenant networks, flat/vlan for provider networks. */
  type: 'vxlan' | 'flat' | 'vlan' | 'local';
  segmentationId?: number;
  /** Provider physical network name (flat/vlan), mapped to a host interface by config. */
  physicalNetwork?: string;
  mtu: number;
  subnets: DpSubnet[];
  /** External networks get a host bridge only (plus the host address of `hostGateway` when set). */
  external?: boolean;
  /** Address (CIDR) the host puts on this network's bridge, making it reachable from the host. */
  hostAddress?: string;
}

export interface DpFixedIp {
  subnetId: string;
  ip: string;
}

export interface DpPort {
  id: string;
  networkId: string;
  mac: string;
  fixedIps: DpFixedIp[];
  /** Neutron device_owner: compute:<az>, network:dhcp, network:router_interface, network:router_gateway… */
  deviceOwner: string;
  /** Instance uuid for compute ports, router id for router ports. */
  deviceId: string;
  projectId: string;
  securityGroupIds: string[];
  portSecurityEnabled: boolean;
  allowedAddressPairs: { ipAddress: string; macAddress?: string }[];
  /** Host name for DHCP (Neutron's dns_name or host-<ip>). */
  hostname?: string;
}

export interface DpSecurityGroupRule {
  id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** tcp, udp, icmp, icmpv6, a number, or undefined for any. */
  protocol?: string | null;
  portRangeMin?: number | null;
  portRangeMax?: number | null;
  remoteIpPrefix?: string | null;
  remoteGroupId?: string | null;
}

export interface DpSecurityGroup {
  id: string;
  rules: DpSecurityGroupRule[];
  /** Stateless groups (Neutron's stateful=false) skip connection tracking. */
  stateful?: boolean;
  /**
   * Addresses of every port in the group, on any host (for remote-group
   * rules). Absent: computed from the ports in the desired state.
   */
  members?: string[];
}

export interface DpFloatingIp {
  id: string;
  floatingIp: string;
  fixedIp: string;
  portId: string;
}

export interface DpRouter {
  id: string;
  /** Ports with device_owner network:router_interface (internal legs). */
  interfacePortIds: string[];
  /** The network:router_gateway port, when the router has an external gateway. */
  gatewayPortId?: string;
  enableSnat: boolean;
  routes: { destination: string; nexthop: string }[];
  floatingIps: DpFloatingIp[];
}

export interface DesiredState {
  networks: DpNetwork[];
  ports: DpPort[];
  securityGroups: DpSecurityGroup[];
  routers: DpRouter[];
}

export const isComputePort = (p: DpPort) => p.deviceOwner.startsWith('compute:');
export const isDhcpPort = (p: DpPort) => p.deviceOwner === 'network:dhcp';
export const isRouterInterface = (p: DpPort) => p.deviceOwner === 'network:router_interface' || p.deviceOwner === 'network:router_interface_distributed' || p.deviceOwner === 'network:ha_router_replicated_interface';
export const isRouterGateway = (p: DpPort) => p.deviceOwner === 'network:router_gateway';
