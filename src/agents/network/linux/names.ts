/**
 * Device and namespace names, as Neutron's linuxbridge, DHCP and L3 agents
 * name them, so operators' habits and tools carry over: every device name is
 * a 3-letter prefix plus the first 11 characters of the id (14 characters,
 * under Linux's 15-character limit).
 */

const ID_LEN = 11;

function short(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new Error(`invalid id ${JSON.stringify(id)}`);
  return id.slice(0, ID_LEN);
}

export const Names = {
  bridge: (networkId: string) => `brq${short(networkId)}`,
  /** A VM's NIC on the host. */
  tap: (portId: string) => `tap${short(portId)}`,
  /** DHCP port: host end in the bridge (`tap…`) and namespace end (`ns-…`). */
  dhcpHostEnd: (portId: string) => `tap${short(portId)}`,
  dhcpNsEnd: (portId: string) => `ns-${short(portId)}`,
  /** Router interface: namespace end `qr-…`, bridge end `tap…`. */
  routerInternal: (portId: string) => `qr-${short(portId)}`,
  routerGateway: (portId: string) => `qg-${short(portId)}`,
  routerHostEnd: (portId: string) => `tap${short(portId)}`,
  vxlan: (vni: number) => `vxlan-${vni}`,
  vlan: (parent: string, vlanId: number) => `${parent.slice(0, 10)}.${vlanId}`,
  dhcpNamespace: (networkId: string) => `qdhcp-${networkId}`,
  routerNamespace: (routerId: string) => `qrouter-${routerId}`,
  /** iptables chain names are limited to 28 characters. */
  chainIn: (portId: string) => `nb-i${short(portId)}`,
  chainOut: (portId: string) => `nb-o${short(portId)}`,
  chainSpoof: (portId: string) => `nb-s${short(portId)}`,
  /** ipset names are limited to 31 characters. */
  ipset: (family: 4 | 6, securityGroupId: string) => `nb${family}${securityGroupId.replace(/-/g, '').slice(0, 24)}`,
} as const;

export const PREFIX = {
  bridge: 'brq',
  tap: 'tap',
  vxlan: 'vxlan-',
  dhcpNs: 'qdhcp-',
  routerNs: 'qrouter-',
  chain: 'nb-',
  ipset: 'nb',
} as const;
