import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { isUuidLike, newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { routerSpec } from '../db/specs.js';
import type { NetQ, PortRow, RouterRow, SubnetRow } from '../db/tables.js';
import { ownerScope, type Viewer } from '../db/visibility.js';
import { cidrContains, cidrsOverlap, formatCidr, parseCidr, parseIp } from '../ip/ip-address.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, badRequest, conflict, invalidInput, notFound, NotFound } from './faults.js';
import { getVisibleNetwork, requestProject } from './networks.js';
import { authorize, type Caller } from './policy.js';
import { deletePortRow, getVisiblePort, insertPort, portViewById, updatePortIn } from './ports.js';
import { checkQuota } from './quotas.js';
import { sharedWith } from './rbac.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';
import { getVisibleSubnet } from './subnets.js';

/**
 * Routers: an external gateway (a `network:router_gateway` port owned by
 * no project, SNAT on by default), interfaces (`network:router_interface`
 * ports holding the subnet's gateway IP, or a given port) and extra routes
 * whose next hops must sit on a connected subnet.
 */

export type Dict = Record<string, unknown>;

const INTERFACE_OWNERS = ['network:router_interface', 'network:router_interface_distributed', 'network:ha_router_replicated_interface'];

async function gatewayInfo(q: NetQ, r: RouterRow): Promise<Dict | null> {
  if (!r.gw_port_id || !r.gw_network_id) return null;
  const ips = await q.selectFrom('net_ip_allocation').select(['subnet_id', 'ip_address', 'position']).where('port_id', '=', r.gw_port_id).orderBy('position').execute();
  return {
    network_id: r.gw_network_id,
    enable_snat: isTrue(r.enable_snat),
    external_fixed_ips: ips.map((i) => ({ subnet_id: i.subnet_id, ip_address: i.ip_address })),
  };
}

export async function routerViews(q: NetQ, deps: NetworkDeps, rows: RouterRow[]): Promise<Dict[]> {
  const tags = await tagsOf(
    q,
    rows.map((r) => r.id),
  );
  const out: Dict[] = [];
  for (const r of rows) {
    out.push({
      id: r.id,
      name: r.name,
      tenant_id: r.project_id,
      project_id: r.project_id,
      admin_state_up: isTrue(r.admin_state_up),
      status: r.status,
      external_gateway_info: await gatewayInfo(q, r),
      routes: fromJson(r.routes, []),
      availability_zone_hints: fromJson<string[]>(r.availability_zone_hints, []),
      availability_zones: [deps.config.availabilityZone],
      description: r.description,
      tags: tags.get(r.id) ?? [],
      created_at: r.created_at,
      updated_at: r.updated_at,
      revision_number: r.revision_number,
    });
  }
  return out;
}

async function routerView(q: NetQ, deps: NetworkDeps, id: string): Promise<Dict> {
  const row = await q.selectFrom('net_router').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return (await routerViews(q, deps, [row]))[0]!;
}

export async function getVisibleRouter(q: NetQ, viewer: Viewer, id: string): Promise<RouterRow> {
  const row = await findVisible<RouterRow>(q, 'net_router', ownerScope(viewer), id);
  if (!row) throw NotFound.router(id);
  return row;
}

export async function listRouters(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  return routerViews(deps.db, deps, await selectPage<RouterRow>(deps.db, routerSpec, query, ownerScope(caller)));
}

export async function showRouter(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return (await routerViews(deps.db, deps, [await getVisibleRouter(deps.db, caller, id)]))[0]!;
}

interface GatewayRequest {
  network_id?: string;
  enable_snat?: boolean;
  external_fixed_ips?: Array<{ subnet_id?: string; ip_address?: string }>;
}

function authorizeGateway(deps: NetworkDeps, caller: Caller, action: 'create' | 'update', gw: GatewayRequest | null | undefined, owner: string): void {
  if (!gw) return;
  const target = { tenant_id: owner, project_id: owner };
  if (gw.enable_snat !== undefined) authorize(deps.enforcer, caller, `${action}_router:external_gateway_info:enable_snat`, target);
  if (gw.external_fixed_ips !== undefined) authorize(deps.enforcer, caller, `${action}_router:external_gateway_info:external_fixed_ips`, target);
}

async function fipsThrough(trx: Trx, routerId: string): Promise<boolean> {
  return Boolean(await trx.selectFrom('net_floatingip').select('id').where('router_id', '=', routerId).executeTakeFirst());
}

async function removeGateway(deps: NetworkDeps, trx: Trx, sink: ChangeSink, router: RouterRow): Promise<void> {
  if (!router.gw_port_id) return;
  if (await fipsThrough(trx, router.id)) {
    throw conflict(
      'RouterExternalGatewayInUseByFloatingIp',
      `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${router.gw_network_id} is required by one or more floating IPs.`,
    );
  }
  await trx.updateTable('net_router').set({ gw_port_id: null, gw_network_id: null }).where('id', '=', router.id).execute();
  const port = await trx.selectFrom('net_port').selectAll().where('id', '=', router.gw_port_id).executeTakeFirst();
  if (port) await deletePortRow(deps, trx, sink, port);
}

/** Sets, changes or clears a router's external gateway. */
async function setGateway(deps: NetworkDeps, trx: Trx, sink: ChangeSink, caller: Caller, router: RouterRow, gw: GatewayRequest | null): Promise<void> {
  if (!gw || !gw.network_id) {
    if (gw && (gw.enable_snat !== undefined || gw.external_fixed_ips !== undefined) && !gw.network_id && router.gw_network_id) {
      gw = { ...gw, network_id: router.gw_network_id };
    } else {
      await removeGateway(deps, trx, sink, router);
      return;
    }
  }
  const netId = gw.network_id!;
  const net = await getVisibleNetwork(trx, caller, netId);
  if (!isTrue(net.router_external)) throw badRequest('router', `Network ${netId} is not an external network`);
  const fixedIps = gw.external_fixed_ips;
  if (fixedIps) {
    const subnets = await trx.selectFrom('net_subnet').select(['id', 'gateway_ip']).where('network_id', '=', netId).execute();
    for (const f of fixedIps) {
      const gwIp = subnets.find((s) => s.id === f.subnet_id)?.gateway_ip;
      if (f.ip_address && (subnets.some((s) => s.gateway_ip === f.ip_address) || gwIp === f.ip_address)) {
        throw badRequest('router', `External IP ${f.ip_address} is the same as the gateway IP`);
      }
    }
  }
  const snat = gw.enable_snat ?? (router.gw_network_id === netId ? isTrue(router.enable_snat) : true);
  if (router.gw_port_id && router.gw_network_id === netId) {
    if (fixedIps) await updatePortIn(deps, trx, sink, caller, router.gw_port_id, { fixed_ips: fixedIps }, undefined, { system: true });
    await trx.updateTable('net_router').set({ enable_snat: snat ? 1 : 0 }).where('id', '=', router.id).execute();
    return;
  }
  await removeGateway(deps, trx, sink, router);
  const port = await insertPort(
    deps,
    trx,
    sink,
    { ...caller, isAdmin: true },
    {
      network_id: netId,
      device_owner: 'network:router_gateway',
      device_id: router.id,
      project_id: '',
      name: '',
      ...(fixedIps ? { fixed_ips: fixedIps } : {}),
    },
    { system: true },
  );
  await trx
    .updateTable('net_router')
    .set({ gw_port_id: String(port['id']), gw_network_id: netId, enable_snat: snat ? 1 : 0 })
    .where('id', '=', router.id)
    .execute();
}

export async function createRouters(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(
    deps,
    async (trx, sink) => {
      const out: Dict[] = [];
      for (const attrs of items) {
        const projectId = requestProject(caller, attrs);
        const gw = attrs['external_gateway_info'] as GatewayRequest | null | undefined;
        authorizeGateway(deps, caller, 'create', gw, projectId);
        await checkQuota(deps, trx, projectId, 'router');
        const hints = (attrs['availability_zone_hints'] as string[] | undefined) ?? [];
        for (const h of hints) if (h !== deps.config.availabilityZone) throw notFound('AvailabilityZoneNotFound', `AvailabilityZone ${h} could not be found.`);
        const row: RouterRow = {
          id: newUuid(),
          project_id: projectId,
          name: (attrs['name'] as string | undefined) ?? '',
          admin_state_up: attrs['admin_state_up'] === false ? 0 : 1,
          status: 'ACTIVE',
          gw_port_id: null,
          gw_network_id: null,
          enable_snat: 1,
          routes: '[]',
          distributed: 0,
          ha: 0,
          availability_zone_hints: toJson(hints),
          ...standardNew((attrs['description'] as string | undefined) ?? ''),
        };
        await trx.insertInto('net_router').values(row).execute();
        if (gw) await setGateway(deps, trx, sink, caller, row, gw);
        const view = await routerView(trx, deps, row.id);
        await sink.emit({ kind: 'router', action: 'create', current: view });
        out.push(view);
      }
      return out;
    },
    { uniqueRetries: 3 },
  );
}

export async function updateRouter(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  return write(
    deps,
    async (trx, sink) => {
      const row = await getVisibleRouter(trx, caller, id);
      authorize(deps.enforcer, caller, 'update_router', { tenant_id: row.project_id, project_id: row.project_id });
      checkRevision(ifMatch, row.revision_number);
      const original = await routerView(trx, deps, id);
      if (attrs['external_gateway_info'] !== undefined) {
        const gw = attrs['external_gateway_info'] as GatewayRequest | null;
        authorizeGateway(deps, caller, 'update', gw, row.project_id);
        await setGateway(deps, trx, sink, caller, row, gw);
      }
      const changes: Partial<RouterRow> = {};
      if (attrs['name'] !== undefined) changes.name = attrs['name'] as string;
      if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
      if (attrs['admin_state_up'] !== undefined) changes.admin_state_up = attrs['admin_state_up'] ? 1 : 0;
      if (attrs['routes'] !== undefined) {
        const fresh = await trx.selectFrom('net_router').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        changes.routes = toJson(await validateRoutes(trx, fresh, (attrs['routes'] as Array<{ destination: string; nexthop: string }> | null) ?? []));
      }
      if (Object.keys(changes).length) await trx.updateTable('net_router').set(changes).where('id', '=', id).execute();
      await bumpRevision(trx, 'net_router', id);
      const current = await routerView(trx, deps, id);
      await sink.emit({ kind: 'router', action: 'update', current, original });
      return current;
    },
    { uniqueRetries: 3 },
  );
}

export async function deleteRouter(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleRouter(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_router', { tenant_id: row.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    const ifaces = await interfacePorts(trx, id);
    if (ifaces.length) throw conflict('RouterInUse', `Router ${id} still has ports: ${ifaces.map((p) => p.id).join(', ')}`);
    const original = await routerView(trx, deps, id);
    await removeGateway(deps, trx, sink, row);
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    await trx.deleteFrom('net_router').where('id', '=', id).execute();
    await sink.emit({ kind: 'router', action: 'delete', current: original });
  });
}

export async function interfacePorts(q: NetQ, routerId: string): Promise<PortRow[]> {
  return q.selectFrom('net_port').selectAll().where('device_id', '=', routerId).where('device_owner', 'in', INTERFACE_OWNERS).execute();
}

/** Subnets the router is connected to: its interfaces' and its gateway network's. */
async function connectedSubnets(q: NetQ, router: RouterRow): Promise<{ interfaces: SubnetRow[]; gateway: SubnetRow[] }> {
  const ports = await interfacePorts(q, router.id);
  const ids = ports.length
    ? (await q.selectFrom('net_ip_allocation').select('subnet_id').where('port_id', 'in', ports.map((p) => p.id)).execute()).map((r) => r.subnet_id)
    : [];
  const interfaces = ids.length ? await q.selectFrom('net_subnet').selectAll().where('id', 'in', ids).execute() : [];
  const gateway = router.gw_network_id ? await q.selectFrom('net_subnet').selectAll().where('network_id', '=', router.gw_network_id).execute() : [];
  return { interfaces, gateway };
}

async function checkNoOverlap(q: NetQ, router: RouterRow, newSubnets: SubnetRow[]): Promise<void> {
  const { interfaces, gateway } = await connectedSubnets(q, router);
  for (const s of newSubnets) {
    if (interfaces.some((i) => i.id === s.id)) throw badRequest('router', `Router already has a port on subnet ${s.id}`);
    const c = parseCidr(s.cidr)!;
    for (const other of [...interfaces, ...gateway]) {
      if (other.id !== s.id && cidrsOverlap(parseCidr(other.cidr)!, c)) {
        throw badRequest('router', `Cidr ${s.cidr} of subnet ${s.id} overlaps with cidr ${other.cidr} of subnet ${other.id}`);
      }
    }
  }
}

function interfaceInfo(router: RouterRow, port: Dict): Dict {
  const ips = port['fixed_ips'] as Array<{ subnet_id: string }>;
  return {
    id: router.id,
    tenant_id: router.project_id,
    project_id: router.project_id,
    port_id: port['id'],
    network_id: port['network_id'],
    subnet_id: ips[0]?.subnet_id ?? null,
    subnet_ids: ips.map((i) => i.subnet_id),
  };
}

function interfaceTarget(body: Dict): { subnetId?: string; portId?: string } {
  const subnetId = body['subnet_id'];
  const portId = body['port_id'];
  if (subnetId !== undefined && portId !== undefined && subnetId !== null && portId !== null) {
    if (typeof portId === 'string' && typeof subnetId === 'string') return { subnetId, portId };
  }
  if ((subnetId === undefined || subnetId === null) && (portId === undefined || portId === null)) {
    throw badRequest('router', 'Either subnet_id or port_id must be specified');
  }
  for (const [k, v] of [
    ['subnet_id', subnetId],
    ['port_id', portId],
  ] as const) {
    if (v !== undefined && v !== null && (typeof v !== 'string' || !isUuidLike(v))) throw invalidInput(`Invalid input for ${k}. Reason: '${String(v)}' is not a valid UUID.`);
  }
  return { ...(typeof subnetId === 'string' ? { subnetId } : {}), ...(typeof portId === 'string' ? { portId } : {}) };
}

export async function addInterface(deps: NetworkDeps, caller: Caller, routerId: string, body: Dict): Promise<Dict> {
  const target = interfaceTarget(body);
  if (target.portId && target.subnetId) throw badRequest('router', 'Cannot specify both subnet-id and port-id');
  return write(
    deps,
    async (trx, sink) => {
      const router = await getVisibleRouter(trx, caller, routerId);
      authorize(deps.enforcer, caller, 'add_router_interface', { tenant_id: router.project_id, project_id: router.project_id });
      let port: Dict;
      if (target.portId) {
        const row = await getVisiblePort(trx, caller, target.portId);
        if (row.device_id) {
          throw conflict('PortInUse', `Unable to complete operation on port ${row.id} for network ${row.network_id}. Port already has an attached device ${row.device_id}.`);
        }
        const ips = await trx.selectFrom('net_ip_allocation').select('subnet_id').where('port_id', '=', row.id).execute();
        if (!ips.length) throw badRequest('router', 'Router port must have at least one fixed IP');
        const subnets = await trx.selectFrom('net_subnet').selectAll().where('id', 'in', ips.map((i) => i.subnet_id)).execute();
        if (subnets.filter((s) => s.ip_version === 4).length > 1) throw badRequest('router', 'Cannot have multiple IPv4 subnets on router port');
        await checkNoOverlap(trx, router, subnets);
        await trx.deleteFrom('net_port_security_group').where('port_id', '=', row.id).execute();
        port = await updatePortIn(deps, trx, sink, caller, row.id, { device_owner: 'network:router_interface', device_id: router.id }, undefined, { system: true });
      } else {
        const subnet = await getVisibleSubnet(trx, caller, target.subnetId!);
        if (!caller.isAdmin && subnet.project_id !== router.project_id) {
          const net = await trx.selectFrom('net_network').select('project_id').where('id', '=', subnet.network_id).executeTakeFirstOrThrow();
          if (net.project_id !== router.project_id) {
            if (!(await sharedWith(trx, 'network', [subnet.network_id], router.project_id)).has(subnet.network_id)) throw badRequest('router', `Subnet ${subnet.id} is not owned by the router's project`);
          }
        }
        if (!subnet.gateway_ip) throw badRequest('router', 'Subnet for router interface must have a gateway IP');
        if (subnet.ip_version === 6 && subnet.ipv6_ra_mode === null && subnet.ipv6_address_mode !== null) {
          throw badRequest('router', `IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`);
        }
        await checkNoOverlap(trx, router, [subnet]);
        const existingV6 =
          subnet.ip_version === 6
            ? (await interfacePorts(trx, router.id)).find((p) => p.network_id === subnet.network_id && p.device_owner === 'network:router_interface')
            : undefined;
        const v6Port = existingV6
          ? await trx
              .selectFrom('net_ip_allocation as a')
              .innerJoin('net_subnet as s', 's.id', 'a.subnet_id')
              .select('a.port_id')
              .where('a.port_id', '=', existingV6.id)
              .where('s.ip_version', '=', 6)
              .executeTakeFirst()
          : undefined;
        if (existingV6 && v6Port) {
          const current = await portViewById(trx, existingV6.id);
          const fixed = [...(current['fixed_ips'] as Dict[]), { subnet_id: subnet.id, ip_address: subnet.gateway_ip }];
          port = await updatePortIn(deps, trx, sink, caller, existingV6.id, { fixed_ips: fixed }, undefined, { system: true });
          port = { ...port, fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }] };
        } else {
          port = await insertPort(
            deps,
            trx,
            sink,
            { ...caller, isAdmin: true },
            {
              network_id: subnet.network_id,
              project_id: router.project_id,
              fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
              device_owner: 'network:router_interface',
              device_id: router.id,
              name: '',
            },
            { system: true },
          );
        }
      }
      await bumpRevision(trx, 'net_router', router.id);
      const info = interfaceInfo(router, port);
      await sink.emit({ kind: 'router_interface', action: 'add', current: { router_id: router.id, port_id: String(port['id']), subnet_ids: info['subnet_ids'] as string[] } });
      return info;
    },
    { uniqueRetries: 3 },
  );
}

export async function removeInterface(deps: NetworkDeps, caller: Caller, routerId: string, body: Dict): Promise<Dict> {
  const target = interfaceTarget(body);
  return write(deps, async (trx, sink) => {
    const router = await getVisibleRouter(trx, caller, routerId);
    authorize(deps.enforcer, caller, 'remove_router_interface', { tenant_id: router.project_id, project_id: router.project_id });
    const ifaces = await interfacePorts(trx, router.id);
    let port: PortRow | undefined;
    let subnetIds: string[];
    if (target.portId) {
      port = ifaces.find((p) => p.id === target.portId);
      if (!port) throw notFound('RouterInterfaceNotFound', `Router ${router.id} does not have an interface with id ${target.portId}`);
      const ips = await trx.selectFrom('net_ip_allocation').select('subnet_id').where('port_id', '=', port.id).execute();
      subnetIds = ips.map((i) => i.subnet_id);
      if (target.subnetId && !subnetIds.includes(target.subnetId)) {
        throw bad('SubnetMismatchForPort', `Subnet ${target.subnetId} on port ${port.id} does not match the requested subnet`);
      }
    } else {
      const allocs = ifaces.length
        ? await trx.selectFrom('net_ip_allocation').selectAll().where('port_id', 'in', ifaces.map((p) => p.id)).where('subnet_id', '=', target.subnetId!).execute()
        : [];
      port = allocs[0] ? ifaces.find((p) => p.id === allocs[0]!.port_id) : undefined;
      if (!port) throw notFound('RouterInterfaceNotFoundForSubnet', `Router ${router.id} has no interface on subnet ${target.subnetId}`);
      subnetIds = [target.subnetId!];
    }
    await checkInterfaceUnused(trx, router, subnetIds);
    const before = await portViewById(trx, port.id);
    const remaining = (before['fixed_ips'] as Array<{ subnet_id: string; ip_address: string }>).filter((f) => !subnetIds.includes(f.subnet_id));
    if (!target.portId && remaining.length) {
      await updatePortIn(deps, trx, sink, caller, port.id, { fixed_ips: remaining }, undefined, { system: true });
    } else {
      await deletePortRow(deps, trx, sink, port);
    }
    await bumpRevision(trx, 'net_router', router.id);
    await sink.emit({ kind: 'router_interface', action: 'remove', current: { router_id: router.id, port_id: port.id, subnet_ids: subnetIds } });
    return {
      id: router.id,
      tenant_id: router.project_id,
      project_id: router.project_id,
      port_id: port.id,
      network_id: port.network_id,
      subnet_id: subnetIds[0] ?? null,
      subnet_ids: subnetIds,
    };
  });
}

async function checkInterfaceUnused(trx: Trx, router: RouterRow, subnetIds: string[]): Promise<void> {
  const subnets = subnetIds.length ? await trx.selectFrom('net_subnet').selectAll().where('id', 'in', subnetIds).execute() : [];
  const fips = await trx.selectFrom('net_floatingip').select(['fixed_ip_address', 'fixed_port_id']).where('router_id', '=', router.id).where('fixed_port_id', 'is not', null).execute();
  for (const s of subnets) {
    const c = parseCidr(s.cidr)!;
    for (const f of fips) {
      const ip = f.fixed_ip_address ? parseIp(f.fixed_ip_address) : null;
      if (ip && cidrContains(c, ip.version, ip.value)) {
        throw conflict('RouterInterfaceInUseByFloatingIP', `Router interface for subnet ${s.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`);
      }
    }
    for (const r of fromJson<Array<{ nexthop: string }>>(router.routes, [])) {
      const ip = parseIp(r.nexthop);
      if (ip && cidrContains(c, ip.version, ip.value)) {
        throw conflict('RouterInterfaceInUseByRoute', `Router interface for subnet ${s.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`);
      }
    }
  }
}

async function validateRoutes(trx: Trx, router: RouterRow, routes: Array<{ destination: string; nexthop: string }>): Promise<Array<{ destination: string; nexthop: string }>> {
  if (routes.length > 30) throw bad('RoutesExhausted', `Unable to complete operation for ${router.id}. The number of routes exceeds the maximum 30.`);
  const { interfaces, gateway } = await connectedSubnets(trx, router);
  const connected = [...interfaces, ...gateway].map((s) => parseCidr(s.cidr)!);
  const ownIps = new Set(
    (
      await trx
        .selectFrom('net_ip_allocation as a')
        .innerJoin('net_port as p', 'p.id', 'a.port_id')
        .select('a.ip_address')
        .where('p.device_id', '=', router.id)
        .execute()
    ).map((r) => r.ip_address),
  );
  const out: Array<{ destination: string; nexthop: string }> = [];
  const seen = new Set<string>();
  const invalid = (reason: string) => bad('InvalidRoutes', `Invalid format for routes: ${JSON.stringify(routes)}, ${reason}`);
  for (const r of routes) {
    const dest = parseCidr(r.destination, { requirePrefix: true });
    const hop = parseIp(r.nexthop);
    if (!dest || !hop) throw invalid('the route is malformed');
    if (dest.version !== hop.version) throw invalid('the nexthop and destination are of different IP versions');
    if (!connected.some((c) => cidrContains(c, hop.version, hop.value))) throw invalid('the nexthop is not connected with router');
    if (ownIps.has(r.nexthop)) throw invalid('the nexthop is used by router');
    const key = `${formatCidr(dest)} ${r.nexthop}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ destination: r.destination, nexthop: r.nexthop });
  }
  return out;
}

/** extraroute-atomic: add or remove some routes without replacing the list. */
export async function editRoutes(deps: NetworkDeps, caller: Caller, id: string, routes: Array<{ destination: string; nexthop: string }>, op: 'add' | 'remove'): Promise<Dict> {
  return write(deps, async (trx, sink) => {
    const row = await getVisibleRouter(trx, caller, id);
    authorize(deps.enforcer, caller, 'update_router', { tenant_id: row.project_id, project_id: row.project_id });
    const original = await routerView(trx, deps, id);
    const key = (r: { destination: string; nexthop: string }) => `${formatCidr(parseCidr(r.destination)!)} ${parseIp(r.nexthop) ? r.nexthop : ''}`;
    const current = fromJson<Array<{ destination: string; nexthop: string }>>(row.routes, []);
    const drop = new Set(routes.map(key));
    const next = op === 'add' ? [...current, ...routes.filter((r) => !current.some((c) => key(c) === key(r)))] : current.filter((c) => !drop.has(key(c)));
    await trx.updateTable('net_router').set({ routes: toJson(await validateRoutes(trx, row, next)) }).where('id', '=', id).execute();
    await bumpRevision(trx, 'net_router', id);
    const view = await routerView(trx, deps, id);
    await sink.emit({ kind: 'router', action: 'update', current: view, original });
    return view;
  });
}
