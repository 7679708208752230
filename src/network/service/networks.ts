import { sql } from 'kysely';
import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { isUniqueViolation } from '../../core/db/database.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { networkSpec } from '../db/specs.js';
import type { NetQ, NetworkRow } from '../db/tables.js';
import { networkScope, type Viewer } from '../db/visibility.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, conflict, httpBadRequest, notFound, NotFound } from './faults.js';
import { allowed, authorize, type Caller } from './policy.js';
import { checkQuotaForEach } from './quotas.js';
import { setWildcard, sharedWith } from './rbac.js';
import { ensureDefaultGroup } from './security-groups.js';
import { allocateTenantSegment, completeSegment, segmentConfig, segmentInUse, segmentKey, validateProviderSegment, type SegmentSpec } from './segments.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';
import { deleteSubnetRows } from './subnets.js';
import { fipViews } from './floating-ips.js';

export type Dict = Record<string, unknown>;

/** Ports that go away with their network instead of blocking its deletion (Neutron's AUTO_DELETE_PORT_OWNERS). */
export const AUTO_DELETE_OWNERS = ['network:dhcp', 'network:distributed', 'network:floatingip_agent_gateway'];

export function networkView(n: NetworkRow, extra: { subnets: string[]; shared: boolean; tags: string[]; az: string }): Dict {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.project_id,
    project_id: n.project_id,
    admin_state_up: isTrue(n.admin_state_up),
    status: n.status,
    subnets: extra.subnets,
    shared: extra.shared,
    mtu: n.mtu,
    'router:external': isTrue(n.router_external),
    port_security_enabled: isTrue(n.port_security_enabled),
    'provider:network_type': n.network_type,
    'provider:physical_network': n.physical_network,
    'provider:segmentation_id': n.segmentation_id,
    availability_zone_hints: fromJson<string[]>(n.availability_zone_hints, []),
    availability_zones: [extra.az],
    l2_adjacency: true,
    description: n.description,
    tags: extra.tags,
    created_at: n.created_at,
    updated_at: n.updated_at,
    revision_number: n.revision_number,
  };
}

/** Full views (admin form) of network rows, as seen by `viewerProject` (for `shared`). */
export async function networkViews(q: NetQ, deps: NetworkDeps, rows: NetworkRow[], viewerProject: string): Promise<Dict[]> {
  const ids = rows.map((r) => r.id);
  const subnets = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (!chunk.length) break;
    const rs = await q.selectFrom('net_subnet').select(['id', 'network_id']).where('network_id', 'in', chunk).orderBy('seq').execute();
    for (const s of rs) subnets.set(s.network_id, [...(subnets.get(s.network_id) ?? []), s.id]);
  }
  const shared = await sharedWith(q, 'network', ids, viewerProject);
  const tags = await tagsOf(q, ids);
  return rows.map((r) => networkView(r, { subnets: subnets.get(r.id) ?? [], shared: shared.has(r.id), tags: tags.get(r.id) ?? [], az: deps.config.availabilityZone }));
}

export async function networkViewById(q: NetQ, deps: NetworkDeps, id: string, viewerProject: string): Promise<Dict> {
  const row = await q.selectFrom('net_network').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return (await networkViews(q, deps, [row], viewerProject))[0]!;
}

export async function getVisibleNetwork(q: NetQ, viewer: Viewer, id: string): Promise<NetworkRow> {
  const row = await findVisible<NetworkRow>(q, 'net_network', networkScope(viewer), id);
  if (!row) throw NotFound.network(id);
  return row;
}

export async function listNetworks(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  const rows = await selectPage<NetworkRow>(deps.db, networkSpec(caller.projectId), query, networkScope(caller));
  return networkViews(deps.db, deps, rows, caller.projectId);
}

export async function showNetwork(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  const row = await getVisibleNetwork(deps.db, caller, id);
  return (await networkViews(deps.db, deps, [row], caller.projectId))[0]!;
}

export function requestProject(caller: Caller, attrs: Dict): string {
  const t = attrs['tenant_id'] as string | undefined;
  const p = attrs['project_id'] as string | undefined;
  if (t !== undefined && p !== undefined && t !== p) throw httpBadRequest("'project_id' and 'tenant_id' do not match");
  const wanted = p ?? t;
  if (wanted !== undefined && wanted !== caller.projectId && !caller.isAdmin) {
    throw httpBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin or advsvc privileges");
  }
  return wanted ?? caller.projectId;
}

const PROVIDER_KEYS = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'];

function checkAzHints(deps: NetworkDeps, hints: unknown): string[] {
  const list = (hints as string[] | undefined) ?? [];
  for (const h of list) if (h !== deps.config.availabilityZone) throw notFound('AvailabilityZoneNotFound', `AvailabilityZone ${h} could not be found.`);
  return list;
}

export interface CreateNetworkOptions {
  /** Skip policy checks (the service's own first-start network). */
  system?: boolean;
}

async function insertNetwork(deps: NetworkDeps, trx: Trx, sink: ChangeSink, caller: Caller, attrs: Dict, projectId: string): Promise<Dict> {
  const seg = segmentConfig(deps.config);
  const provider = PROVIDER_KEYS.some((k) => attrs[k] !== undefined && attrs[k] !== null);
  let segment: SegmentSpec;
  if (provider) {
    segment = validateProviderSegment(seg, {
      network_type: attrs['provider:network_type'],
      physical_network: attrs['provider:physical_network'],
      segmentation_id: attrs['provider:segmentation_id'],
    });
    if (segment.segmentation_id !== null || segment.network_type === 'flat') {
      const key = segmentKey(segment);
      if (key && (await trx.selectFrom('net_network').select('id').where('segment_key', '=', key).executeTakeFirst())) throw segmentInUse(segment);
    }
    segment = await completeSegment(trx, seg, segment);
  } else {
    segment = await allocateTenantSegment(trx, seg);
  }
  const row: NetworkRow = {
    id: newUuid(),
    project_id: projectId,
    name: (attrs['name'] as string | undefined) ?? '',
    admin_state_up: attrs['admin_state_up'] === false ? 0 : 1,
    status: 'ACTIVE',
    mtu: seg.mtu(segment.network_type),
    router_external: attrs['router:external'] === true ? 1 : 0,
    port_security_enabled: attrs['port_security_enabled'] === false ? 0 : 1,
    network_type: segment.network_type,
    physical_network: segment.physical_network,
    segmentation_id: segment.segmentation_id,
    segment_key: segmentKey(segment),
    availability_zone_hints: toJson(checkAzHints(deps, attrs['availability_zone_hints'])),
    ...standardNew((attrs['description'] as string | undefined) ?? ''),
  };
  await trx.insertInto('net_network').values(row).execute();
  if (attrs['shared'] === true) await setWildcard(trx, 'network', row.id, 'access_as_shared', projectId, true);
  if (attrs['router:external'] === true) await setWildcard(trx, 'network', row.id, 'access_as_external', projectId, true);
  if (projectId) await ensureDefaultGroup(trx, projectId, sink);
  // A new network has no subnets or tags yet; `shared` is what was asked.
  const view = networkView(row, { subnets: [], shared: attrs['shared'] === true, tags: [], az: deps.config.availabilityZone });
  await sink.emit({ kind: 'network', action: 'create', current: view });
  return view;
}

export async function createNetworks(deps: NetworkDeps, caller: Caller, items: Dict[], options: CreateNetworkOptions = {}): Promise<Dict[]> {
  for (const attrs of items) {
    if (options.system) break;
    if (attrs['shared'] !== undefined) authorize(deps.enforcer, caller, 'create_network:shared');
    if (attrs['router:external'] !== undefined) authorize(deps.enforcer, caller, 'create_network:router:external');
    if (PROVIDER_KEYS.some((k) => attrs[k] !== undefined)) authorize(deps.enforcer, caller, 'create_network:provider');
  }
  try {
    return await write(
      deps,
      async (trx, sink) => {
        await checkQuotaForEach(deps, trx, items.map((attrs) => requestProject(caller, attrs)), 'network');
        const out: Dict[] = [];
        for (const attrs of items) out.push(await insertNetwork(deps, trx, sink, caller, attrs, requestProject(caller, attrs)));
        return out;
      },
      // A tenant segment picked concurrently by another request: try again with another one.
      { uniqueRetries: 12 },
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('SegmentInUse', 'Unable to create the network: the requested segment is in use.');
    throw err;
  }
}

export async function updateNetwork(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  return write(deps, async (trx, sink) => {
    const row = await getVisibleNetwork(trx, caller, id);
    const target = { tenant_id: row.project_id, project_id: row.project_id };
    authorize(deps.enforcer, caller, 'update_network', target);
    if (attrs['shared'] !== undefined) authorize(deps.enforcer, caller, 'update_network:shared', target);
    if (attrs['router:external'] !== undefined) authorize(deps.enforcer, caller, 'update_network:router:external', target);
    if (PROVIDER_KEYS.some((k) => attrs[k] !== undefined)) authorize(deps.enforcer, caller, 'update_network:provider', target);
    checkRevision(ifMatch, row.revision_number);
    const original = (await networkViews(trx, deps, [row], caller.projectId))[0]!;
    for (const k of PROVIDER_KEYS) {
      if (attrs[k] !== undefined && attrs[k] !== original[k]) throw bad('InvalidInput', 'Invalid input for operation: Plugin does not support updating provider attributes.');
    }
    const changes: Partial<NetworkRow> = {};
    if (attrs['name'] !== undefined) changes.name = attrs['name'] as string;
    if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
    if (attrs['admin_state_up'] !== undefined) changes.admin_state_up = attrs['admin_state_up'] ? 1 : 0;
    if (attrs['port_security_enabled'] !== undefined) changes.port_security_enabled = attrs['port_security_enabled'] ? 1 : 0;
    if (attrs['shared'] !== undefined) {
      if (attrs['shared'] === false) {
        const others = await trx
          .selectFrom('net_port')
          .select('id')
          .where('network_id', '=', id)
          .where('project_id', 'not in', [row.project_id, ''])
          .where(sql.ref('device_owner'), 'not like', 'network:%')
          .executeTakeFirst();
        const otherGrants = await trx
          .selectFrom('net_rbac')
          .select('id')
          .where('object_type', '=', 'network')
          .where('object_id', '=', id)
          .where('action', '=', 'access_as_shared')
          .where('target_tenant', '!=', '*')
          .executeTakeFirst();
        if (others && !otherGrants) {
          throw conflict('InvalidSharedSetting', `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`);
        }
      }
      await setWildcard(trx, 'network', id, 'access_as_shared', row.project_id, attrs['shared'] === true);
    }
    if (attrs['router:external'] !== undefined) {
      if (attrs['router:external'] === false && isTrue(row.router_external)) {
        const gw = await trx.selectFrom('net_port').select('id').where('network_id', '=', id).where('device_owner', '=', 'network:router_gateway').executeTakeFirst();
        if (gw) throw conflict('ExternalNetworkInUse', `External network ${id} cannot be updated to be made non-external, since it has existing gateway ports.`);
        await trx.deleteFrom('net_rbac').where('object_type', '=', 'network').where('object_id', '=', id).where('action', '=', 'access_as_external').execute();
      }
      if (attrs['router:external'] === true) await setWildcard(trx, 'network', id, 'access_as_external', row.project_id, true);
      changes.router_external = attrs['router:external'] ? 1 : 0;
    }
    if (Object.keys(changes).length) await trx.updateTable('net_network').set(changes).where('id', '=', id).execute();
    await bumpRevision(trx, 'net_network', id);
    const current = await networkViewById(trx, deps, id, caller.projectId);
    await sink.emit({ kind: 'network', action: 'update', current, original });
    return current;
  });
}

export async function deleteNetwork(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleNetwork(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_network', { tenant_id: row.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    await deleteNetworkRow(deps, trx, sink, row, caller.projectId);
  });
}

/** Deletes a network with its subnets, after freeing unassociated floating IPs on it; refuses while ports use it. */
export async function deleteNetworkRow(deps: NetworkDeps, trx: Trx, sink: ChangeSink, row: NetworkRow, viewerProject: string): Promise<void> {
  const id = row.id;
  const original = (await networkViews(trx, deps, [row], viewerProject))[0]!;
  // Unassociated floating IPs allocated from this network go with it.
  const fips = await trx.selectFrom('net_floatingip').selectAll().where('floating_network_id', '=', id).where('fixed_port_id', 'is', null).execute();
  const fipDicts = await fipViews(trx, fips);
  for (const [i, f] of fips.entries()) {
    await trx.deleteFrom('net_port_forwarding').where('floatingip_id', '=', f.id).execute();
    await trx.deleteFrom('net_floatingip').where('id', '=', f.id).execute();
    await trx.deleteFrom('net_port').where('id', '=', f.floating_port_id).execute();
    await trx.deleteFrom('net_tag').where('resource_id', '=', f.id).execute();
    await sink.emit({ kind: 'floatingip', action: 'delete', current: fipDicts[i]! });
  }
  const ports = await trx.selectFrom('net_port').select(['id', 'device_owner']).where('network_id', '=', id).execute();
  const blocking = ports.filter((p) => !AUTO_DELETE_OWNERS.includes(p.device_owner));
  if (blocking.length) {
    throw conflict(
      'NetworkInUse',
      `Unable to complete operation on network ${id}. There are one or more ports still in use on the network, id for these ports is: ${blocking.map((p) => p.id).join(',')}.`,
    );
  }
  if (ports.length) await trx.deleteFrom('net_port').where('network_id', '=', id).execute();
  const subnets = await trx.selectFrom('net_subnet').selectAll().where('network_id', '=', id).execute();
  await deleteSubnetRows(trx, sink, subnets);
  await trx.deleteFrom('net_rbac').where('object_type', '=', 'network').where('object_id', '=', id).execute();
  await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
  await trx.deleteFrom('net_network').where('id', '=', id).execute();
  await sink.emit({ kind: 'network', action: 'delete', current: original });
}

/** Strips what a caller may not see (provider attributes for non-admins). */
export function redactNetwork(deps: NetworkDeps, caller: Caller, view: Dict): Dict {
  if (allowed(deps.enforcer, caller, 'get_network:provider', { tenant_id: view['project_id'] })) return view;
  const out = { ...view };
  for (const k of PROVIDER_KEYS) delete out[k];
  return out;
}
