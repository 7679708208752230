import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { subnetSpec } from '../db/specs.js';
import type { NetQ, SubnetRow } from '../db/tables.js';
import { subnetScope, type Viewer } from '../db/visibility.js';
import { cidrContains, cidrsOverlap, formatCidr, formatIp, parseCidr, parseIp, type Cidr, type IpRange } from '../ip/ip-address.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, conflict, invalidInput, NotFound } from './faults.js';
import { AUTO_DELETE_OWNERS, getVisibleNetwork } from './networks.js';
import { authorize, type Caller } from './policy.js';
import { checkQuota } from './quotas.js';
import { allocateSubnetCidr, defaultPoolFor, getUsablePool } from './subnetpools.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';
import { defaultPoolBounds, formatPools, generatePools, isAutoAddress, rangeText, subnetInfo } from './subnet-info.js';
import { isRouterPort } from './ipam.js';
import { deletePortRow, portViewById, portViews } from './ports.js';
import { eui64Address } from '../ip/mac.js';
import { requestProject } from './networks.js';

/**
 * Subnets: validation in Neutron's order and messages (Tempest and the
 * clients rely on "overlaps with another subnet" and friends), default
 * gateway and allocation pools, subnet pools, and deletion that refuses
 * while ports use the subnet (auto-address subnets release silently).
 */

export type Dict = Record<string, unknown>;

export function subnetView(s: SubnetRow, tags: string[]): Dict {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.project_id,
    project_id: s.project_id,
    network_id: s.network_id,
    ip_version: s.ip_version,
    subnetpool_id: s.subnetpool_id,
    enable_dhcp: isTrue(s.enable_dhcp),
    ipv6_ra_mode: s.ipv6_ra_mode,
    ipv6_address_mode: s.ipv6_address_mode,
    gateway_ip: s.gateway_ip,
    cidr: s.cidr,
    allocation_pools: fromJson(s.allocation_pools, []),
    host_routes: fromJson(s.host_routes, []),
    dns_nameservers: fromJson(s.dns_nameservers, []),
    description: s.description,
    tags,
    created_at: s.created_at,
    updated_at: s.updated_at,
    revision_number: s.revision_number,
  };
}

export async function subnetViews(q: NetQ, rows: SubnetRow[]): Promise<Dict[]> {
  const tags = await tagsOf(
    q,
    rows.map((r) => r.id),
  );
  return rows.map((r) => subnetView(r, tags.get(r.id) ?? []));
}

export async function getVisibleSubnet(q: NetQ, viewer: Viewer, id: string): Promise<SubnetRow> {
  const row = await findVisible<SubnetRow>(q, 'net_subnet', subnetScope(viewer), id);
  if (!row) throw NotFound.subnet(id);
  return row;
}

export async function listSubnets(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  return subnetViews(deps.db, await selectPage<SubnetRow>(deps.db, subnetSpec, query, subnetScope(caller)));
}

export async function showSubnet(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return (await subnetViews(deps.db, [await getVisibleSubnet(deps.db, caller, id)]))[0]!;
}

export async function networkSubnets(q: NetQ, networkId: string): Promise<SubnetRow[]> {
  return q.selectFrom('net_subnet').selectAll().where('network_id', '=', networkId).orderBy('seq').execute();
}

// ---- validation

function versionCheck(version: number, text: string, name: string): void {
  const ip = parseIp(text.split('/')[0]!);
  if (ip && ip.version !== version) throw invalidInput(`${name} '${text}' does not match the ip_version '${version}'`);
}

interface HostRoute {
  destination: string;
  nexthop: string;
}

function validateCommon(s: {
  ip_version: number;
  cidr: Cidr;
  cidrText: string;
  enable_dhcp: boolean;
  gateway_ip: string | null | undefined;
  dns_nameservers?: string[] | undefined;
  host_routes?: HostRoute[] | undefined;
  dhcpWasEnabled?: boolean;
}): void {
  if (s.enable_dhcp && !s.dhcpWasEnabled) {
    const p = s.cidr.prefix;
    if ((s.ip_version === 4 && p > 30) || (s.ip_version === 6 && p > 126)) throw invalidInput('Subnet has a prefix length that is incompatible with DHCP service enabled');
    const first = s.cidr.network;
    if (s.ip_version === 4 && (first >> 28n) === 0xen) throw invalidInput('Multicast IP subnet is not supported if enable_dhcp is True');
    if (s.ip_version === 6 && (first >> 120n) === 0xffn) throw invalidInput('Multicast IP subnet is not supported if enable_dhcp is True');
    if ((s.ip_version === 4 && (first >> 24n) === 127n) || (s.ip_version === 6 && first === 1n && p === 128)) {
      throw invalidInput('Loopback IP subnet is not supported if enable_dhcp is True');
    }
    if (s.ip_version === 4 && first === 0n) throw invalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.");
  }
  if (s.gateway_ip) {
    versionCheck(s.ip_version, s.gateway_ip, 'gateway_ip');
    const gw = parseIp(s.gateway_ip)!.value;
    if (cidrContains(s.cidr, s.cidr.version, gw)) {
      const last = s.cidr.network + (1n << BigInt((s.ip_version === 4 ? 32 : 128) - s.cidr.prefix)) - 1n;
      if (gw === s.cidr.network || (s.ip_version === 4 && gw === last && s.cidr.prefix < 31)) throw invalidInput('Gateway is not valid on subnet');
    }
  }
  if (s.dns_nameservers) {
    if (s.dns_nameservers.length > 5) {
      throw bad('DNSNameServersExhausted', `Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5.`);
    }
    for (const d of s.dns_nameservers) versionCheck(s.ip_version, d, 'dns_nameserver');
  }
  if (s.host_routes) {
    if (s.host_routes.length > 20) throw bad('HostRoutesExhausted', 'Unable to complete operation for new subnet. The number of host routes exceeds the limit 20.');
    for (const r of s.host_routes) {
      versionCheck(s.ip_version, r.nexthop, 'nexthop');
      versionCheck(s.ip_version, r.destination, 'destination');
    }
  }
}

function validateIpv6Modes(s: { ip_version: number; ipv6_ra_mode: string | null; ipv6_address_mode: string | null; enable_dhcp: boolean; cidr: Cidr; cidrText: string }): void {
  if (s.ip_version === 4) {
    if (s.ipv6_ra_mode) throw invalidInput('ipv6_ra_mode is not valid when ip_version is 4');
    if (s.ipv6_address_mode) throw invalidInput('ipv6_address_mode is not valid when ip_version is 4');
    return;
  }
  const ra = s.ipv6_ra_mode;
  const addr = s.ipv6_address_mode;
  if ((ra || addr) && !s.enable_dhcp) throw invalidInput('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
  if (ra && addr && ra !== addr) {
    throw invalidInput(`ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. If both attributes are set, they must be the same value`);
  }
  if ((ra || addr) && isAutoAddress(s) && s.cidr.prefix !== 64) {
    throw invalidInput(`Invalid CIDR ${s.cidrText} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
  }
}

function validatePools(version: number, cidr: Cidr, cidrText: string, pools: Array<{ start: string; end: string }>, gateway: bigint | null): IpRange[] {
  const bounds = defaultPoolBounds(cidr);
  const ranges: IpRange[] = [];
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    const text = `${p.start}-${p.end}`;
    if (!s || !e || s.version !== version || e.version !== version || s.value > e.value) throw bad('InvalidAllocationPool', `The allocation pool ${text} is not valid.`);
    if (s.value < bounds.start || e.value > bounds.end) {
      throw bad('OutOfBoundsAllocationPool', `The allocation pool ${text} spans beyond the subnet cidr ${cidrText}.`);
    }
    ranges.push({ start: s.value, end: e.value });
  }
  const v = version as 4 | 6;
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (a.start <= b.end && b.start <= a.end) {
        throw conflict('OverlappingAllocationPools', `Found overlapping allocation pools: ${rangeText(v, a)} ${rangeText(v, b)} for subnet ${cidrText}.`);
      }
    }
  }
  if (gateway !== null) checkGatewayOutOfPools(v, gateway, ranges);
  return ranges;
}

function checkGatewayOutOfPools(version: 4 | 6, gateway: bigint, ranges: IpRange[]): void {
  for (const r of ranges) {
    if (gateway >= r.start && gateway <= r.end) {
      throw conflict('GatewayConflictWithAllocationPools', `Gateway ip ${formatIp(version, gateway)} conflicts with allocation pool ${rangeText(version, r)}`);
    }
  }
}

// ---- create

let seqCounter = 0;
/** Creation order of subnets (allocation tries them in this order). */
function nextSeq(): number {
  seqCounter = (seqCounter + 1) % 1000;
  return Date.now() * 1000 + seqCounter;
}

async function createOne(deps: NetworkDeps, trx: Trx, sink: ChangeSink, caller: Caller, attrs: Dict): Promise<Dict> {
  const net = await getVisibleNetwork(trx, caller, attrs['network_id'] as string);
  authorize(deps.enforcer, caller, 'create_subnet', { tenant_id: net.project_id, 'network:tenant_id': net.project_id, project_id: net.project_id });
  if (attrs['service_types'] !== undefined) authorize(deps.enforcer, caller, 'create_subnet:service_types');
  const projectId = requestProject(caller, attrs);
  // Serializes subnet changes on this network (overlap checks) and bumps its revision, as Neutron does.
  await bumpRevision(trx, 'net_network', net.id);
  await checkQuota(deps, trx, projectId, 'subnet');

  let ipVersion = attrs['ip_version'] as number | undefined;
  let cidrText = attrs['cidr'] as string | undefined;
  let subnetpoolId = (attrs['subnetpool_id'] as string | null | undefined) ?? null;
  if (attrs['use_default_subnetpool'] === true && !subnetpoolId) {
    if (ipVersion === undefined) throw invalidInput('ip_version must be specified in the absence of cidr and subnetpool_id');
    const pool = await defaultPoolFor(trx, ipVersion);
    if (!pool) throw bad('BadRequest', `Bad subnets request: No default subnetpool found for IPv${ipVersion}.`);
    subnetpoolId = pool.id;
  }
  if (subnetpoolId) {
    const pool = await getUsablePool(trx, caller, subnetpoolId);
    if (ipVersion !== undefined && ipVersion !== pool.ip_version) {
      throw bad('BadRequest', `Bad subnets request: Cannot allocate IPv${ipVersion} subnet from IPv${pool.ip_version} subnet pool.`);
    }
    ipVersion = pool.ip_version;
    if (!cidrText && attrs['allocation_pools'] !== undefined) throw bad('BadRequest', 'Bad subnets request: allocation_pools allowed only for specific subnet requests.');
    const others = await networkSubnets(trx, net.id);
    if (others.some((s) => s.ip_version === ipVersion && s.subnetpool_id !== subnetpoolId)) {
      throw bad('NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
    }
    cidrText = await allocateSubnetCidr(trx, pool, cidrText, attrs['prefixlen'] as number | undefined);
  } else {
    if (!cidrText) throw bad('BadRequest', 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
    if (ipVersion === undefined) throw bad('HTTPBadRequest', "Failed to parse request. Required attribute 'ip_version' not specified");
    const others = await networkSubnets(trx, net.id);
    if (others.some((s) => s.ip_version === ipVersion && s.subnetpool_id)) {
      throw bad('NetworkSubnetPoolAffinityError', 'Subnets hosted on the same network must be allocated from the same subnet pool.');
    }
  }
  versionCheck(ipVersion!, cidrText, 'cidr');
  const parsed = parseCidr(cidrText)!;
  const cidr: Cidr = { ...parsed, address: parsed.network };
  const cidrOut = formatCidr(cidr);
  if (cidr.prefix === 0) throw invalidInput('0 is not allowed as CIDR prefix length');
  const enableDhcp = attrs['enable_dhcp'] !== false;
  const raMode = (attrs['ipv6_ra_mode'] as string | null | undefined) ?? null;
  const addrMode = (attrs['ipv6_address_mode'] as string | null | undefined) ?? null;

  let gatewayIp: string | null;
  if (attrs['gateway_ip'] === undefined) gatewayIp = formatIp(cidr.version, cidr.network + 1n);
  else gatewayIp = attrs['gateway_ip'] as string | null;
  if (cidr.prefix === (cidr.version === 4 ? 32 : 128) && attrs['gateway_ip'] === undefined) gatewayIp = null;

  validateCommon({
    ip_version: ipVersion!,
    cidr,
    cidrText: cidrOut,
    enable_dhcp: enableDhcp,
    gateway_ip: gatewayIp,
    dns_nameservers: attrs['dns_nameservers'] as string[] | undefined,
    host_routes: attrs['host_routes'] as HostRoute[] | undefined,
  });
  validateIpv6Modes({ ip_version: ipVersion!, ipv6_ra_mode: raMode, ipv6_address_mode: addrMode, enable_dhcp: enableDhcp, cidr, cidrText: cidrOut });

  for (const other of await networkSubnets(trx, net.id)) {
    if (cidrsOverlap(parseCidr(other.cidr)!, cidr)) {
      throw invalidInput(`Requested subnet with cidr: ${cidrOut} for network: ${net.id} overlaps with another subnet`);
    }
  }
  const gw = gatewayIp ? parseIp(gatewayIp)!.value : null;
  const pools =
    attrs['allocation_pools'] !== undefined && attrs['allocation_pools'] !== null
      ? validatePools(ipVersion!, cidr, cidrOut, attrs['allocation_pools'] as Array<{ start: string; end: string }>, gw)
      : generatePools(cidr, gw);

  const row: SubnetRow = {
    id: newUuid(),
    project_id: projectId,
    network_id: net.id,
    name: (attrs['name'] as string | undefined) ?? '',
    ip_version: ipVersion!,
    cidr: cidrOut,
    gateway_ip: gatewayIp,
    enable_dhcp: enableDhcp ? 1 : 0,
    ipv6_ra_mode: raMode,
    ipv6_address_mode: addrMode,
    subnetpool_id: subnetpoolId,
    allocation_pools: toJson(formatPools(cidr.version, pools)),
    dns_nameservers: toJson(attrs['dns_nameservers'] ?? []),
    host_routes: toJson(attrs['host_routes'] ?? []),
    service_types: toJson(attrs['service_types'] ?? []),
    seq: nextSeq(),
    ...standardNew((attrs['description'] as string | undefined) ?? ''),
  };
  await trx.insertInto('net_subnet').values(row).execute();
  if (isAutoAddress(row)) await addAutoAddressesToPorts(trx, row, sink);
  const view = subnetView(row, []);
  await sink.emit({ kind: 'subnet', action: 'create', current: view });
  return view;
}

/** A new SLAAC subnet gives existing (non-router) ports of the network their EUI-64 address, as Neutron does. */
async function addAutoAddressesToPorts(trx: Trx, subnet: SubnetRow, sink: ChangeSink): Promise<void> {
  const ports = await trx.selectFrom('net_port').selectAll().where('network_id', '=', subnet.network_id).execute();
  const info = subnetInfo(subnet);
  for (const p of ports) {
    if (isRouterPort(p.device_owner) || p.device_owner === 'network:floatingip') continue;
    const [original] = await portViews(trx, [p]);
    const pos = await trx.selectFrom('net_ip_allocation').select('position').where('port_id', '=', p.id).orderBy('position', 'desc').executeTakeFirst();
    await trx
      .insertInto('net_ip_allocation')
      .values({
        subnet_id: subnet.id,
        ip_address: formatIp(6, eui64Address(info.cidr.network, p.mac_address)),
        port_id: p.id,
        network_id: subnet.network_id,
        position: (pos?.position ?? -1) + 1,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await bumpRevision(trx, 'net_port', p.id);
    await sink.emit({ kind: 'port', action: 'update', current: await portViewById(trx, p.id), original: original! });
  }
}

export async function createSubnets(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(deps, async (trx, sink) => {
    const out: Dict[] = [];
    for (const attrs of items) out.push(await createOne(deps, trx, sink, caller, attrs));
    return out;
  });
}

// ---- update

export async function updateSubnet(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  return write(deps, async (trx, sink) => {
    const row = await getVisibleSubnet(trx, caller, id);
    const net = await trx.selectFrom('net_network').select('project_id').where('id', '=', row.network_id).executeTakeFirstOrThrow();
    authorize(deps.enforcer, caller, 'update_subnet', { tenant_id: row.project_id, 'network:tenant_id': net.project_id, project_id: row.project_id });
    if (attrs['service_types'] !== undefined) authorize(deps.enforcer, caller, 'update_subnet:service_types');
    checkRevision(ifMatch, row.revision_number);
    const original = subnetView(row, []);
    const info = subnetInfo(row);
    const enableDhcp = attrs['enable_dhcp'] !== undefined ? Boolean(attrs['enable_dhcp']) : isTrue(row.enable_dhcp);
    if (row.ip_version === 6 && attrs['enable_dhcp'] === false && (row.ipv6_ra_mode || row.ipv6_address_mode)) {
      throw invalidInput('Cannot disable enable_dhcp with ipv6 attributes set');
    }
    const gatewayIp = attrs['gateway_ip'] !== undefined ? (attrs['gateway_ip'] as string | null) : row.gateway_ip;
    validateCommon({
      ip_version: row.ip_version,
      cidr: info.cidr,
      cidrText: row.cidr,
      enable_dhcp: enableDhcp,
      gateway_ip: attrs['gateway_ip'] !== undefined ? gatewayIp : null,
      dns_nameservers: attrs['dns_nameservers'] as string[] | undefined,
      host_routes: attrs['host_routes'] as HostRoute[] | undefined,
      dhcpWasEnabled: isTrue(row.enable_dhcp),
    });
    const changes: Partial<SubnetRow> = {};
    if (attrs['gateway_ip'] !== undefined && gatewayIp !== row.gateway_ip) {
      if (row.gateway_ip) {
        const used = await trx
          .selectFrom('net_ip_allocation as a')
          .innerJoin('net_port as p', 'p.id', 'a.port_id')
          .select('p.id')
          .where('a.subnet_id', '=', id)
          .where('a.ip_address', '=', row.gateway_ip)
          .where('p.device_owner', 'in', ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'])
          .executeTakeFirst();
        if (used) throw conflict('GatewayIpInUse', `Current gateway ip ${row.gateway_ip} already in use by port ${used.id}. Unable to update.`);
      }
      changes.gateway_ip = gatewayIp;
    }
    const gw = gatewayIp ? parseIp(gatewayIp)!.value : null;
    if (attrs['allocation_pools'] !== undefined) {
      const pools = validatePools(row.ip_version, info.cidr, row.cidr, (attrs['allocation_pools'] as Array<{ start: string; end: string }> | null) ?? [], gw);
      changes.allocation_pools = toJson(formatPools(info.version, pools));
    } else if (gw !== null && attrs['gateway_ip'] !== undefined) {
      checkGatewayOutOfPools(info.version, gw, info.pools);
    }
    if (attrs['name'] !== undefined) changes.name = attrs['name'] as string;
    if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
    if (attrs['enable_dhcp'] !== undefined) changes.enable_dhcp = enableDhcp ? 1 : 0;
    if (attrs['dns_nameservers'] !== undefined) changes.dns_nameservers = toJson(attrs['dns_nameservers'] ?? []);
    if (attrs['host_routes'] !== undefined) changes.host_routes = toJson(attrs['host_routes'] ?? []);
    if (attrs['service_types'] !== undefined) changes.service_types = toJson(attrs['service_types'] ?? []);
    if (Object.keys(changes).length) await trx.updateTable('net_subnet').set(changes).where('id', '=', id).execute();
    await bumpRevision(trx, 'net_subnet', id);
    const current = (await subnetViews(trx, [await trx.selectFrom('net_subnet').selectAll().where('id', '=', id).executeTakeFirstOrThrow()]))[0]!;
    await sink.emit({ kind: 'subnet', action: 'update', current, original });
    return current;
  });
}

// ---- delete

export async function deleteSubnet(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleSubnet(trx, caller, id);
    const net = await trx.selectFrom('net_network').select('project_id').where('id', '=', row.network_id).executeTakeFirstOrThrow();
    authorize(deps.enforcer, caller, 'delete_subnet', { tenant_id: row.project_id, 'network:tenant_id': net.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    await bumpRevision(trx, 'net_network', row.network_id);
    const holders = await trx
      .selectFrom('net_ip_allocation as a')
      .innerJoin('net_port as p', 'p.id', 'a.port_id')
      .select(['p.id', 'p.device_owner'])
      .where('a.subnet_id', '=', id)
      .execute();
    const auto = isAutoAddress(row);
    const inUse = holders.some((h) => isRouterPort(h.device_owner) || (!auto && !AUTO_DELETE_OWNERS.includes(h.device_owner)));
    if (inUse) throw conflict('SubnetInUse', `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);
    await deleteSubnetRows(trx, sink, [row]);
    // Service ports (DHCP) left without any address go too.
    const orphans = await trx
      .selectFrom('net_port')
      .selectAll()
      .where('network_id', '=', row.network_id)
      .where('device_owner', 'in', AUTO_DELETE_OWNERS)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('net_ip_allocation').select('port_id').whereRef('net_ip_allocation.port_id', '=', 'net_port.id'))))
      .execute();
    for (const p of orphans) await deletePortRow(deps, trx, sink, p);
  });
}

/** Deletes subnets (their addresses go with them), their tags, and tells the backend. */
export async function deleteSubnetRows(trx: Trx, sink: ChangeSink, rows: SubnetRow[]): Promise<void> {
  for (const row of rows) {
    const view = subnetView(row, []);
    // Ports keep living without their address on it (SLAAC subnets, DHCP ports): the backend hears of it.
    const holders = await trx.selectFrom('net_port').selectAll().where('id', 'in', trx.selectFrom('net_ip_allocation').select('port_id').where('subnet_id', '=', row.id)).execute();
    const before = await portViews(trx, holders);
    await trx.deleteFrom('net_ip_allocation').where('subnet_id', '=', row.id).execute();
    for (const [i, p] of holders.entries()) {
      await bumpRevision(trx, 'net_port', p.id);
      await sink.emit({ kind: 'port', action: 'update', current: await portViewById(trx, p.id), original: before[i]! });
    }
    await trx.deleteFrom('net_tag').where('resource_id', '=', row.id).execute();
    await trx.deleteFrom('net_subnet').where('id', '=', row.id).execute();
    await sink.emit({ kind: 'subnet', action: 'delete', current: view });
  }
}
