import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { portSpec } from '../db/specs.js';
import type { IpAllocationRow, NetQ, NetworkRow, PortRow } from '../db/tables.js';
import { portScope, type Viewer } from '../db/visibility.js';
import { parseCidr, parseIp } from '../ip/ip-address.js';
import { normalizeMac, randomMac } from '../ip/mac.js';
import { isComputePort } from './compute-events.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, conflict, notFound, NotFound } from './faults.js';
import { fipViews, pfView } from './floating-ips.js';
import { allocateFixedIps, isRouterPort, type Allocation, type FixedIpRequest } from './ipam.js';
import { getVisibleNetwork, requestProject } from './networks.js';
import { allowed, authorize, type Caller } from './policy.js';
import { checkQuotaForEach } from './quotas.js';
import { sharedWith } from './rbac.js';
import { resolvePortGroups } from './security-groups.js';
import { bumpRevision, checkRevision, nowTs, standardNew, tagsOf, validateTags } from './standard-attrs.js';
import { networkSubnets } from './subnets.js';

/**
 * Ports: MACs under the fa:16:3e prefix (unique per network by
 * constraint), fixed IPs from IPAM, port security with security groups and
 * allowed address pairs, extra DHCP options, and bindings decided by the
 * backend. Status changes reported by the backend tell compute that a VIF
 * is plugged.
 */

export type Dict = Record<string, unknown>;

export interface PortExtras {
  fixedIps: Allocation[];
  securityGroups: string[];
  tags: string[];
}

export function portView(p: PortRow, extra: PortExtras): Dict {
  return {
    id: p.id,
    name: p.name,
    network_id: p.network_id,
    tenant_id: p.project_id,
    project_id: p.project_id,
    mac_address: p.mac_address,
    admin_state_up: isTrue(p.admin_state_up),
    status: p.status,
    device_id: p.device_id,
    device_owner: p.device_owner,
    fixed_ips: extra.fixedIps.map((a) => ({ subnet_id: a.subnet_id, ip_address: a.ip_address })),
    allowed_address_pairs: fromJson(p.allowed_address_pairs, []),
    extra_dhcp_opts: fromJson(p.extra_dhcp_opts, []),
    security_groups: extra.securityGroups,
    port_security_enabled: isTrue(p.port_security_enabled),
    'binding:host_id': p.binding_host_id,
    'binding:profile': fromJson(p.binding_profile, {}),
    'binding:vif_type': p.binding_vif_type,
    'binding:vif_details': fromJson(p.binding_vif_details, {}),
    'binding:vnic_type': p.binding_vnic_type,
    ip_allocation: 'immediate',
    description: p.description,
    tags: extra.tags,
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  };
}

const CHUNK = 500;

export async function portViews(q: NetQ, rows: PortRow[]): Promise<Dict[]> {
  const ids = rows.map((r) => r.id);
  const ips = new Map<string, IpAllocationRow[]>();
  const sgs = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    if (!chunk.length) break;
    for (const a of await q.selectFrom('net_ip_allocation').selectAll().where('port_id', 'in', chunk).execute()) {
      const list = ips.get(a.port_id);
      if (list) list.push(a);
      else ips.set(a.port_id, [a]);
    }
    for (const s of await q.selectFrom('net_port_security_group').selectAll().where('port_id', 'in', chunk).execute()) {
      const list = sgs.get(s.port_id);
      if (list) list.push(s.security_group_id);
      else sgs.set(s.port_id, [s.security_group_id]);
    }
  }
  const tags = await tagsOf(q, ids);
  return rows.map((r) =>
    portView(r, {
      fixedIps: (ips.get(r.id) ?? []).sort((a, b) => a.position - b.position),
      securityGroups: sgs.get(r.id) ?? [],
      tags: tags.get(r.id) ?? [],
    }),
  );
}

export async function portViewById(q: NetQ, id: string): Promise<Dict> {
  const row = await q.selectFrom('net_port').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return (await portViews(q, [row]))[0]!;
}

export async function getVisiblePort(q: NetQ, viewer: Viewer, id: string): Promise<PortRow> {
  const row = await findVisible<PortRow>(q, 'net_port', portScope(viewer), id);
  if (!row) throw NotFound.port(id);
  return row;
}

export async function listPorts(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  return portViews(deps.db, await selectPage<PortRow>(deps.db, portSpec, query, portScope(caller)));
}

export async function showPort(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return (await portViews(deps.db, [await getVisiblePort(deps.db, caller, id)]))[0]!;
}

const BINDING_KEYS = ['binding:host_id', 'binding:profile', 'binding:vif_type', 'binding:vif_details'];

export function redactPort(deps: NetworkDeps, caller: Caller, view: Dict): Dict {
  if (allowed(deps.enforcer, caller, 'get_port:binding', { tenant_id: view['project_id'] })) return view;
  const out = { ...view };
  for (const k of BINDING_KEYS) delete out[k];
  return out;
}

// ---- validation of port attributes

interface AddressPair {
  ip_address: string;
  mac_address: string;
}

function validatePairs(pairs: unknown[], mac: string): AddressPair[] {
  if (pairs.length > 10) throw bad('AllowedAddressPairExhausted', 'The number of allowed address pair exceeds the maximum 10.');
  const out: AddressPair[] = [];
  const seen = new Set<string>();
  for (const p of pairs) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('InvalidInput', 'Invalid input for operation: Allowed address pairs must be a list of dictionaries.');
    const d = p as Dict;
    const unknown = Object.keys(d).filter((k) => k !== 'ip_address' && k !== 'mac_address');
    if (unknown.length) throw bad('InvalidInput', `Invalid input for operation: Unrecognized attribute(s) '${unknown.join(', ')}'.`);
    if (d['ip_address'] === undefined || d['ip_address'] === null) throw bad('AllowedAddressPairsMissingIP', 'AllowedAddressPair must contain ip_address');
    const ip = String(d['ip_address']);
    if (!parseIp(ip) && !(ip.includes('/') && parseCidr(ip))) {
      throw bad('InvalidInput', `Invalid input for operation: '${ip}' is not a valid IP address.`);
    }
    let pairMac = mac;
    if (d['mac_address'] !== undefined && d['mac_address'] !== null) {
      const m = normalizeMac(String(d['mac_address']));
      if (!m) throw bad('InvalidInput', `Invalid input for operation: '${String(d['mac_address'])}' is not a valid MAC address.`);
      pairMac = m;
    }
    const key = `${ip} ${pairMac}`;
    if (seen.has(key)) throw bad('DuplicateAddressPairInRequest', `Request contains duplicate address pair: mac_address ${pairMac} ip_address ${ip}.`);
    seen.add(key);
    out.push({ ip_address: ip, mac_address: pairMac });
  }
  return out;
}

interface DhcpOpt {
  opt_name: string;
  opt_value: string | null;
  ip_version: number;
}

function validateDhcpOpts(opts: unknown[]): DhcpOpt[] {
  return opts.map((o) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('InvalidInput', 'Invalid input for operation: extra_dhcp_opts must be a list of dictionaries.');
    const d = o as Dict;
    if (typeof d['opt_name'] !== 'string' || d['opt_name'] === '') throw bad('InvalidInput', 'Invalid input for operation: opt_name is required in extra_dhcp_opts.');
    const v = d['opt_value'];
    if (v !== null && v !== undefined && typeof v !== 'string') throw bad('InvalidInput', 'Invalid input for operation: opt_value must be a string.');
    const ipv = d['ip_version'] === undefined || d['ip_version'] === null ? 4 : Number(d['ip_version']);
    if (ipv !== 4 && ipv !== 6) throw bad('InvalidInput', `Invalid input for operation: '${String(d['ip_version'])}' is not in [4, 6].`);
    return { opt_name: d['opt_name'], opt_value: (v as string | null | undefined) ?? null, ip_version: ipv };
  });
}

function mergeDhcpOpts(existing: DhcpOpt[], updates: DhcpOpt[]): DhcpOpt[] {
  const out = [...existing];
  for (const u of updates) {
    const i = out.findIndex((o) => o.opt_name === u.opt_name && o.ip_version === u.ip_version);
    if (u.opt_value === null) {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = u;
    else out.push(u);
  }
  return out;
}

function segmentOf(net: NetworkRow) {
  return { network_type: net.network_type, physical_network: net.physical_network, segmentation_id: net.segmentation_id, mtu: net.mtu };
}

/** Binds (or unbinds) a port for its host: the backend picks the VIF type. */
function binding(deps: NetworkDeps, port: Dict, net: NetworkRow, host: string): { vif_type: string; vif_details: Dict } {
  if (!host) return { vif_type: 'unbound', vif_details: {} };
  const b = deps.backend.bindPort(port, segmentOf(net), host);
  return b ? { vif_type: b.vifType, vif_details: b.vifDetails } : { vif_type: 'binding_failed', vif_details: {} };
}

function fixedIpRequests(value: unknown): FixedIpRequest[] | undefined {
  if (value === undefined) return undefined;
  return (value as Dict[]).map((f) => ({
    ...(f['subnet_id'] !== undefined ? { subnet_id: f['subnet_id'] as string } : {}),
    ...(f['ip_address'] !== undefined ? { ip_address: f['ip_address'] as string } : {}),
  }));
}

function netTarget(net: NetworkRow, projectId: string) {
  return { tenant_id: projectId, project_id: projectId, 'network:tenant_id': net.project_id };
}

async function checkMacFree(trx: Trx, networkId: string, mac: string, exceptPort?: string): Promise<void> {
  let q = trx.selectFrom('net_port').select('id').where('network_id', '=', networkId).where('mac_address', '=', mac);
  if (exceptPort) q = q.where('id', '!=', exceptPort);
  if (await q.executeTakeFirst()) throw conflict('MacAddressInUse', `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
}

export interface CreatePortOptions {
  /** Service ports (router, floating IP) the service makes for itself: no policy checks, no quota. */
  system?: boolean;
  /** Allocate one IPv4 address only (floating IP ports). */
  ipv4Only?: boolean;
}

/** Creates one port inside a transaction (used by the API and by routers / floating IPs). */
export async function insertPort(deps: NetworkDeps, trx: Trx, sink: ChangeSink, caller: Caller, attrs: Dict, options: CreatePortOptions = {}): Promise<Dict> {
  const net = await getVisibleNetwork(trx, caller, attrs['network_id'] as string);
  const projectId = options.system ? ((attrs['project_id'] as string | undefined) ?? '') : requestProject(caller, attrs);
  const deviceOwner = (attrs['device_owner'] as string | undefined) ?? '';
  if (!options.system) {
    if (!caller.isAdmin && net.project_id !== projectId) {
      const shared = await sharedWith(trx, 'network', [net.id], caller.projectId);
      if (!shared.has(net.id)) throw notFound('HTTPNotFound', 'The resource could not be found.');
    }
    const target = netTarget(net, projectId);
    authorize(deps.enforcer, caller, 'create_port', target);
    if (attrs['mac_address'] !== undefined) authorize(deps.enforcer, caller, 'create_port:mac_address', target);
    if ((attrs['fixed_ips'] as Dict[] | undefined)?.some((f) => f['ip_address'] !== undefined)) authorize(deps.enforcer, caller, 'create_port:fixed_ips:ip_address', target);
    if (attrs['port_security_enabled'] !== undefined) authorize(deps.enforcer, caller, 'create_port:port_security_enabled', target);
    if (attrs['allowed_address_pairs'] !== undefined) authorize(deps.enforcer, caller, 'create_port:allowed_address_pairs', target);
    if (attrs['binding:host_id'] !== undefined) authorize(deps.enforcer, caller, 'create_port:binding:host_id', target);
    if (attrs['binding:profile'] !== undefined) authorize(deps.enforcer, caller, 'create_port:binding:profile', target);
    if (deviceOwner.startsWith('network:')) authorize(deps.enforcer, caller, 'create_port:device_owner', target);
  }
  let mac: string;
  if (attrs['mac_address'] !== undefined) {
    mac = attrs['mac_address'] as string;
    await checkMacFree(trx, net.id, mac);
  } else mac = randomMac(deps.config.macPrefix);
  const portSecurity = attrs['port_security_enabled'] !== undefined ? Boolean(attrs['port_security_enabled']) : isTrue(net.port_security_enabled);
  const pairs = validatePairs((attrs['allowed_address_pairs'] as unknown[] | undefined) ?? [], mac);
  if (pairs.length && !portSecurity) {
    throw conflict('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  }
  const id = newUuid();
  const groups = await resolvePortGroups(trx, caller, projectId, attrs['security_groups'] as string[] | undefined, portSecurity, deviceOwner.startsWith('network:'), sink);
  const host = (attrs['binding:host_id'] as string | undefined) ?? '';
  const row: PortRow = {
    id,
    project_id: projectId,
    network_id: net.id,
    name: (attrs['name'] as string | undefined) ?? '',
    admin_state_up: attrs['admin_state_up'] === false ? 0 : 1,
    status: deviceOwner === 'network:floatingip' ? 'N/A' : 'DOWN',
    mac_address: mac,
    device_id: (attrs['device_id'] as string | undefined) ?? '',
    device_owner: deviceOwner,
    port_security_enabled: portSecurity ? 1 : 0,
    binding_host_id: host,
    binding_profile: toJson(attrs['binding:profile'] ?? {}),
    binding_vif_type: 'unbound',
    binding_vif_details: '{}',
    binding_vnic_type: (attrs['binding:vnic_type'] as string | undefined) ?? 'normal',
    allowed_address_pairs: toJson(pairs),
    extra_dhcp_opts: toJson(validateDhcpOpts((attrs['extra_dhcp_opts'] as unknown[] | undefined) ?? [])),
    ...standardNew((attrs['description'] as string | undefined) ?? ''),
  };
  await trx.insertInto('net_port').values(row).execute();
  const subnets = await networkSubnets(trx, net.id);
  const fixedIps = await allocateFixedIps(trx, subnets, { id, network_id: net.id, mac_address: mac, device_owner: deviceOwner }, fixedIpRequests(attrs['fixed_ips']), {
    ipv4Only: options.ipv4Only === true,
  });
  if (groups.length) await trx.insertInto('net_port_security_group').values(groups.map((g) => ({ port_id: id, security_group_id: g }))).execute();
  const tags = attrs['tags'] !== undefined ? validateTags(attrs['tags']) : [];
  if (tags.length) await trx.insertInto('net_tag').values(tags.map((tag) => ({ resource_id: id, tag }))).execute();
  let view = portView(row, { fixedIps, securityGroups: groups, tags: [...tags].sort() });
  if (host) {
    const b = binding(deps, view, net, host);
    await trx.updateTable('net_port').set({ binding_vif_type: b.vif_type, binding_vif_details: toJson(b.vif_details) }).where('id', '=', id).execute();
    view = { ...view, 'binding:vif_type': b.vif_type, 'binding:vif_details': b.vif_details };
  }
  await sink.emit({ kind: 'port', action: 'create', current: view });
  return view;
}

export async function createPorts(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(
    deps,
    async (trx, sink) => {
      await checkQuotaForEach(deps, trx, items.map((attrs) => requestProject(caller, attrs)), 'port');
      const out: Dict[] = [];
      for (const attrs of items) out.push(await insertPort(deps, trx, sink, caller, attrs));
      return out;
    },
    // A generated MAC that collided: run again with new ones.
    { uniqueRetries: 3 },
  );
}

// ---- update

export async function updatePort(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number, options: CreatePortOptions = {}): Promise<Dict> {
  const result = await write(deps, async (trx, sink) => updatePortIn(deps, trx, sink, caller, id, attrs, ifMatch, options));
  return result;
}

export async function updatePortIn(deps: NetworkDeps, trx: Trx, sink: ChangeSink, caller: Caller, id: string, attrs: Dict, ifMatch?: number, options: CreatePortOptions = {}): Promise<Dict> {
  const row = await getVisiblePort(trx, caller, id);
  const net = await trx.selectFrom('net_network').selectAll().where('id', '=', row.network_id).executeTakeFirstOrThrow();
  const target = { tenant_id: row.project_id, project_id: row.project_id, 'network:tenant_id': net.project_id };
  if (!options.system) {
    authorize(deps.enforcer, caller, 'update_port', target);
    if (attrs['mac_address'] !== undefined) authorize(deps.enforcer, caller, 'update_port:mac_address', target);
    if ((attrs['fixed_ips'] as Dict[] | undefined)?.some((f) => f['ip_address'] !== undefined)) authorize(deps.enforcer, caller, 'update_port:fixed_ips:ip_address', target);
    if (attrs['port_security_enabled'] !== undefined) authorize(deps.enforcer, caller, 'update_port:port_security_enabled', target);
    if (attrs['allowed_address_pairs'] !== undefined) authorize(deps.enforcer, caller, 'update_port:allowed_address_pairs', target);
    if (attrs['binding:host_id'] !== undefined) authorize(deps.enforcer, caller, 'update_port:binding:host_id', target);
    if (attrs['binding:profile'] !== undefined) authorize(deps.enforcer, caller, 'update_port:binding:profile', target);
    if (typeof attrs['device_owner'] === 'string' && attrs['device_owner'].startsWith('network:')) authorize(deps.enforcer, caller, 'update_port:device_owner', target);
  }
  checkRevision(ifMatch, row.revision_number);
  const original = (await portViews(trx, [row]))[0]!;
  const changes: Partial<PortRow> = {};
  for (const [attr, col] of [
    ['name', 'name'],
    ['description', 'description'],
    ['device_id', 'device_id'],
    ['device_owner', 'device_owner'],
    ['binding:vnic_type', 'binding_vnic_type'],
  ] as const) {
    if (attrs[attr] !== undefined) (changes as Record<string, unknown>)[col] = attrs[attr];
  }
  if (attrs['admin_state_up'] !== undefined) changes.admin_state_up = attrs['admin_state_up'] ? 1 : 0;
  const mac = (attrs['mac_address'] as string | undefined) ?? row.mac_address;
  if (attrs['mac_address'] !== undefined && mac !== row.mac_address) {
    if (row.binding_vif_type !== 'unbound' && row.binding_vif_type !== 'binding_failed') {
      throw conflict('PortBound', `Unable to complete operation on port ${id}, port is already bound, port type: ${row.binding_vif_type}, old_mac ${row.mac_address}, new_mac ${mac}.`);
    }
    await checkMacFree(trx, row.network_id, mac, id);
    changes.mac_address = mac;
  }
  const portSecurity = attrs['port_security_enabled'] !== undefined ? Boolean(attrs['port_security_enabled']) : isTrue(row.port_security_enabled);
  if (attrs['port_security_enabled'] !== undefined) changes.port_security_enabled = portSecurity ? 1 : 0;
  const currentGroups = original['security_groups'] as string[];
  let groups = currentGroups;
  if (attrs['security_groups'] !== undefined) {
    groups = await resolvePortGroups(trx, caller, row.project_id, (attrs['security_groups'] as string[] | null) ?? [], portSecurity, false, sink);
  } else if (!portSecurity && currentGroups.length) {
    throw conflict('PortSecurityPortHasSecurityGroup', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
  }
  const pairs =
    attrs['allowed_address_pairs'] !== undefined
      ? validatePairs((attrs['allowed_address_pairs'] as unknown[] | null) ?? [], mac)
      : (original['allowed_address_pairs'] as AddressPair[]);
  if (pairs.length && !portSecurity) {
    throw conflict('AddressPairAndPortSecurityRequired', 'Port Security must be enabled in order to have allowed address pairs on a port.');
  }
  if (attrs['allowed_address_pairs'] !== undefined) changes.allowed_address_pairs = toJson(pairs);
  if (attrs['extra_dhcp_opts'] !== undefined) {
    changes.extra_dhcp_opts = toJson(mergeDhcpOpts(original['extra_dhcp_opts'] as DhcpOpt[], validateDhcpOpts((attrs['extra_dhcp_opts'] as unknown[] | null) ?? [])));
  }
  if (attrs['binding:profile'] !== undefined) changes.binding_profile = toJson(attrs['binding:profile'] ?? {});
  if (Object.keys(changes).length) await trx.updateTable('net_port').set(changes).where('id', '=', id).execute();

  let ipsChanged = false;
  if (attrs['fixed_ips'] !== undefined) {
    const existing = original['fixed_ips'] as Allocation[];
    const subnets = await networkSubnets(trx, row.network_id);
    const owner = (changes.device_owner ?? row.device_owner) as string;
    // Existing addresses are moved aside (position -1) so that kept ones can be re-placed in order.
    const wanted = await allocateFixedIps(trx, subnets, { id, network_id: row.network_id, mac_address: mac, device_owner: owner }, fixedIpRequests(attrs['fixed_ips']) ?? [], {
      keep: existing,
      startPosition: 1000,
    });
    const wantedKeys = new Set(wanted.map((w) => `${w.subnet_id} ${w.ip_address}`));
    const autoSubnets = new Set(subnets.filter((s) => s.ip_version === 6 && ['slaac', 'dhcpv6-stateless'].some((m) => m === s.ipv6_address_mode || m === s.ipv6_ra_mode)).map((s) => s.id));
    for (const e of existing) {
      if (wantedKeys.has(`${e.subnet_id} ${e.ip_address}`)) continue;
      if (autoSubnets.has(e.subnet_id) && !isRouterPort(owner)) {
        wanted.push(e);
        continue;
      }
      await trx.deleteFrom('net_ip_allocation').where('subnet_id', '=', e.subnet_id).where('ip_address', '=', e.ip_address).where('port_id', '=', id).execute();
    }
    for (const [i, w] of wanted.entries()) {
      await trx.updateTable('net_ip_allocation').set({ position: i }).where('subnet_id', '=', w.subnet_id).where('ip_address', '=', w.ip_address).execute();
    }
    ipsChanged = JSON.stringify(existing) !== JSON.stringify(wanted.map((w) => ({ subnet_id: w.subnet_id, ip_address: w.ip_address })));
  }
  if (attrs['security_groups'] !== undefined) {
    await trx.deleteFrom('net_port_security_group').where('port_id', '=', id).execute();
    if (groups.length) await trx.insertInto('net_port_security_group').values(groups.map((g) => ({ port_id: id, security_group_id: g }))).execute();
  }
  await bumpRevision(trx, 'net_port', id);
  let current = await portViewById(trx, id);
  const host = attrs['binding:host_id'] !== undefined ? ((attrs['binding:host_id'] as string | null) ?? '') : row.binding_host_id;
  if (attrs['binding:host_id'] !== undefined && (host !== row.binding_host_id || row.binding_vif_type === 'binding_failed' || row.binding_vif_type === 'unbound')) {
    const b = binding(deps, current, net, host);
    await trx
      .updateTable('net_port')
      .set({ binding_host_id: host, binding_vif_type: b.vif_type, binding_vif_details: toJson(b.vif_details) })
      .where('id', '=', id)
      .execute();
    current = { ...current, 'binding:host_id': host, 'binding:vif_type': b.vif_type, 'binding:vif_details': b.vif_details };
  }
  await sink.emit({ kind: 'port', action: 'update', current, original });
  if (ipsChanged && isComputePort(String(current['device_owner']), String(current['device_id']))) {
    sink.after(() => deps.compute.notify({ name: 'network-changed', server_uuid: String(current['device_id']), tag: id, status: 'completed' }));
  }
  return current;
}

// ---- delete

const SERVICE_OWNERS = ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface', 'network:router_gateway', 'network:floatingip'];

export async function deletePort(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisiblePort(trx, caller, id);
    const net = await trx.selectFrom('net_network').select('project_id').where('id', '=', row.network_id).executeTakeFirstOrThrow();
    authorize(deps.enforcer, caller, 'delete_port', { tenant_id: row.project_id, project_id: row.project_id, 'network:tenant_id': net.project_id });
    checkRevision(ifMatch, row.revision_number);
    if (SERVICE_OWNERS.includes(row.device_owner) && (await serviceOwnerExists(trx, row))) {
      throw conflict('ServicePortInUse', `Port ${id} cannot be deleted directly via the port API: has device owner ${row.device_owner}.`);
    }
    await deletePortRow(deps, trx, sink, row);
  });
}

async function serviceOwnerExists(trx: Trx, row: PortRow): Promise<boolean> {
  if (row.device_owner === 'network:floatingip') {
    return Boolean(await trx.selectFrom('net_floatingip').select('id').where('id', '=', row.device_id).executeTakeFirst());
  }
  return Boolean(await trx.selectFrom('net_router').select('id').where('id', '=', row.device_id).executeTakeFirst());
}

/** Removes a port: floating IPs on it are disassociated, port forwardings to it deleted, its addresses freed. */
export async function deletePortRow(deps: NetworkDeps, trx: Trx, sink: ChangeSink, row: PortRow): Promise<void> {
  const view = (await portViews(trx, [row]))[0]!;
  const fips = await trx.selectFrom('net_floatingip').selectAll().where('fixed_port_id', '=', row.id).execute();
  const before = await fipViews(trx, fips);
  for (const [i, f] of fips.entries()) {
    const changes = { fixed_port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: nowTs(), revision_number: f.revision_number + 1 };
    await trx.updateTable('net_floatingip').set(changes).where('id', '=', f.id).execute();
    const [after] = await fipViews(trx, [{ ...f, ...changes }]);
    await sink.emit({ kind: 'floatingip', action: 'update', current: after!, original: before[i]! });
  }
  const forwardings = await trx.selectFrom('net_port_forwarding').selectAll().where('internal_port_id', '=', row.id).execute();
  await trx.deleteFrom('net_port_forwarding').where('internal_port_id', '=', row.id).execute();
  for (const pf of forwardings) await sink.emit({ kind: 'port_forwarding', action: 'delete', current: { ...pfView(pf), floatingip_id: pf.floatingip_id } });
  await trx.deleteFrom('net_tag').where('resource_id', '=', row.id).execute();
  await trx.deleteFrom('net_port').where('id', '=', row.id).execute();
  await sink.emit({ kind: 'port', action: 'delete', current: view });
  if (isComputePort(row.device_owner, row.device_id)) {
    sink.after(() => deps.compute.notify({ name: 'network-vif-deleted', server_uuid: row.device_id, tag: row.id, status: 'completed' }));
  }
}

// ---- status from the backend

/** The backend's report of a port's data plane state; tells compute when an instance's VIF is plugged or unplugged. */
export async function setPortStatus(deps: NetworkDeps, portId: string, status: string): Promise<void> {
  const before = await deps.db.selectFrom('net_port').select(['status', 'device_owner', 'device_id']).where('id', '=', portId).executeTakeFirst();
  if (!before || before.status === status) return;
  await write(deps, async (trx, sink) => {
    const res = await trx
      .updateTable('net_port')
      .set((eb) => ({ status, revision_number: eb('revision_number', '+', 1), updated_at: nowTs() }))
      .where('id', '=', portId)
      .where('status', '=', before.status)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return;
    if (!isComputePort(before.device_owner, before.device_id)) return;
    if (status === 'ACTIVE') sink.after(() => deps.compute.notify({ name: 'network-vif-plugged', server_uuid: before.device_id, tag: portId, status: 'completed' }));
    else if (before.status === 'ACTIVE' && status === 'DOWN') {
      sink.after(() => deps.compute.notify({ name: 'network-vif-unplugged', server_uuid: before.device_id, tag: portId, status: 'completed' }));
    } else if (status === 'ERROR') sink.after(() => deps.compute.notify({ name: 'network-vif-plugged', server_uuid: before.device_id, tag: portId, status: 'failed' }));
  });
}

