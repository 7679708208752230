import { isComputePort, type DesiredState, type DpNetwork, type DpPort, type DpRouter, type DpSecurityGroup, type DpSubnet } from './model.js';

/**
 * Neutron API dicts (what the networking service's backend contract hands a
 * data plane through its NetworkReader) reduced to the data plane's desired
 * state for one host. Pure functions: unit tested without Linux.
 */

export type Dict = Record<string, unknown>;

/** The read side of the networking backend contract this mapping uses (structurally typed). */
export interface NetworkReaderLike {
  portsOnHost(host: string): Promise<Dict[]>;
  routerDetails(routerId: string): Promise<{ router: Dict; gatewayPort: Dict | null; interfaces: Dict[]; subnets: Dict[]; floatingips: Dict[] } | undefined>;
  securityGroupInfo(groupIds: string[]): Promise<{ rules: Dict[]; members: Record<string, string[]> }>;
  networks(): Promise<Dict[]>;
  subnets(networkId?: string): Promise<Dict[]>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const arr = (v: unknown): Dict[] => (Array.isArray(v) ? (v as Dict[]) : []);

export function toSubnet(s: Dict): DpSubnet {
  return {
    id: String(s['id']),
    cidr: String(s['cidr']),
    ipVersion: s['ip_version'] === 6 ? 6 : 4,
    gatewayIp: str(s['gateway_ip']) ?? null,
    enableDhcp: s['enable_dhcp'] !== false,
    dnsNameservers: (Array.isArray(s['dns_nameservers']) ? (s['dns_nameservers'] as unknown[]) : []).map(String),
    hostRoutes: arr(s['host_routes']).map((r) => ({ destination: String(r['destination']), nexthop: String(r['nexthop']) })),
  };
}

export function toNetwork(n: Dict, subnets: Dict[], opts: { hostGatewayOnExternal: boolean }): DpNetwork {
  const type = str(n['provider:network_type']) ?? 'vxlan';
  const subs = subnets.filter((s) => s['network_id'] === n['id']).map(toSubnet);
  const external = n['router:external'] === true;
  const gwSubnet = subs.find((s) => s.ipVersion === 4 && s.gatewayIp);
  return {
    id: String(n['id']),
    type: type === 'flat' || type === 'vlan' || type === 'local' ? type : 'vxlan',
    ...(num(n['provider:segmentation_id']) !== undefined ? { segmentationId: num(n['provider:segmentation_id'])! } : {}),
    ...(str(n['provider:physical_network']) ? { physicalNetwork: str(n['provider:physical_network'])! } : {}),
    mtu: num(n['mtu']) ?? (type === 'vxlan' ? 1450 : 1500),
    subnets: subs,
    ...(external ? { external: true } : {}),
    ...(external && opts.hostGatewayOnExternal && gwSubnet ? { hostAddress: `${gwSubnet.gatewayIp}/${gwSubnet.cidr.split('/')[1]}` } : {}),
  };
}

export function toPort(p: Dict): DpPort {
  return {
    id: String(p['id']),
    networkId: String(p['network_id']),
    mac: String(p['mac_address']),
    fixedIps: arr(p['fixed_ips']).map((f) => ({ subnetId: String(f['subnet_id']), ip: String(f['ip_address']) })),
    deviceOwner: String(p['device_owner'] ?? ''),
    deviceId: String(p['device_id'] ?? ''),
    projectId: String(p['project_id'] ?? p['tenant_id'] ?? ''),
    securityGroupIds: (Array.isArray(p['security_groups']) ? (p['security_groups'] as unknown[]) : []).map(String),
    portSecurityEnabled: p['port_security_enabled'] !== false,
    allowedAddressPairs: arr(p['allowed_address_pairs']).map((a) => ({ ipAddress: String(a['ip_address']), ...(str(a['mac_address']) ? { macAddress: str(a['mac_address'])! } : {}) })),
    ...(str(p['dns_name']) ? { hostname: str(p['dns_name'])! } : {}),
  };
}

export function toSecurityGroups(groupIds: string[], info: { rules: Dict[]; members: Record<string, string[]> }): DpSecurityGroup[] {
  return groupIds.map((id) => ({
    id,
    rules: info.rules
      .filter((r) => r['security_group_id'] === id)
      .map((r) => ({
        id: String(r['id']),
        direction: r['direction'] === 'egress' ? ('egress' as const) : ('ingress' as const),
        ethertype: r['ethertype'] === 'IPv6' ? ('IPv6' as const) : ('IPv4' as const),
        protocol: r['protocol'] == null ? null : String(r['protocol']),
        portRangeMin: num(r['port_range_min']) ?? null,
        portRangeMax: num(r['port_range_max']) ?? null,
        remoteIpPrefix: str(r['remote_ip_prefix']) ?? null,
        remoteGroupId: str(r['remote_group_id']) ?? null,
      })),
    members: info.members[id] ?? [],
  }));
}

export function toRouter(details: { router: Dict; gatewayPort: Dict | null; interfaces: Dict[]; floatingips: Dict[] }): DpRouter {
  const gw = details.router['external_gateway_info'] as Dict | null | undefined;
  return {
    id: String(details.router['id']),
    interfacePortIds: details.interfaces.map((p) => String(p['id'])),
    ...(details.gatewayPort ? { gatewayPortId: String(details.gatewayPort['id']) } : {}),
    enableSnat: gw ? gw['enable_snat'] !== false : false,
    routes: arr(details.router['routes']).map((r) => ({ destination: String(r['destination']), nexthop: String(r['nexthop']) })),
    floatingIps: details.floatingips
      .filter((f) => str(f['fixed_ip_address']) && str(f['port_id']))
      .map((f) => ({ id: String(f['id']), floatingIp: String(f['floating_ip_address']), fixedIp: String(f['fixed_ip_address']), portId: String(f['port_id']) })),
  };
}

/** Everything this host must realise: its bound ports, their networks, groups and routers. */
export async function desiredStateFor(reader: NetworkReaderLike, host: string, opts: { hostGatewayOnExternal: boolean }): Promise<DesiredState> {
  const portDicts = await reader.portsOnHost(host);
  const ports = new Map(portDicts.map((p) => [String(p['id']), toPort(p)]));
  const routers: DpRouter[] = [];
  const routerIds = new Set(portDicts.filter((p) => String(p['device_owner']).startsWith('network:router')).map((p) => String(p['device_id'])));
  for (const id of routerIds) {
    const d = await reader.routerDetails(id);
    if (!d) continue;
    routers.push(toRouter(d));
    for (const p of [...d.interfaces, ...(d.gatewayPort ? [d.gatewayPort] : [])]) if (!ports.has(String(p['id']))) ports.set(String(p['id']), toPort(p));
  }
  const netIds = new Set([...ports.values()].map((p) => p.networkId));
  const allNets = await reader.networks();
  const subnets = await reader.subnets();
  const networks = allNets.filter((n) => netIds.has(String(n['id']))).map((n) => toNetwork(n, subnets, opts));
  const groupIds = [...new Set([...ports.values()].filter(isComputePort).flatMap((p) => p.securityGroupIds))];
  const securityGroups = groupIds.length ? toSecurityGroups(groupIds, await reader.securityGroupInfo(groupIds)) : [];
  // Remote groups referenced by rules need their members too.
  const remote = [...new Set(securityGroups.flatMap((g) => g.rules.map((r) => r.remoteGroupId).filter((x): x is string => Boolean(x))))].filter((id) => !groupIds.includes(id));
  if (remote.length) {
    const info = await reader.securityGroupInfo(remote);
    for (const g of securityGroups) for (const r of g.rules) if (r.remoteGroupId && info.members[r.remoteGroupId]) securityGroups.push({ id: r.remoteGroupId, rules: [], members: info.members[r.remoteGroupId]! });
  }
  return { networks, ports: [...ports.values()], securityGroups: dedupe(securityGroups), routers };
}

function dedupe(groups: DpSecurityGroup[]): DpSecurityGroup[] {
  const seen = new Map<string, DpSecurityGroup>();
  for (const g of groups) if (!seen.has(g.id)) seen.set(g.id, g);
  return [...seen.values()];
}
