import { fromJson, isTrue, toJson } from '../../core/db/columns.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery } from '../db/list-query.js';
import { subnetpoolSpec } from '../db/specs.js';
import type { NetQ, SubnetPoolRow } from '../db/tables.js';
import { sharedScope, type Viewer } from '../db/visibility.js';
import { bits, cidrLast, cidrWithin, cidrsOverlap, formatCidr, mergeCidrs, parseCidr, type Cidr } from '../ip/ip-address.js';
import { write, type NetworkDeps, type Trx } from './deps.js';
import { bad, conflict, NotFound } from './faults.js';
import { authorize, type Caller } from './policy.js';
import { checkQuota } from './quotas.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';
import { requestProject } from './networks.js';

/**
 * Subnet pools (subnet_allocation): prefixes from which subnets get a CIDR
 * by prefix length. Allocation locks the pool row (a revision bump) so
 * concurrent requests never receive overlapping CIDRs.
 */

export type Dict = Record<string, unknown>;

export function poolView(p: SubnetPoolRow, tags: string[]): Dict {
  return {
    id: p.id,
    name: p.name,
    tenant_id: p.project_id,
    project_id: p.project_id,
    prefixes: fromJson<string[]>(p.prefixes, []),
    ip_version: p.ip_version,
    default_prefixlen: String(p.default_prefixlen),
    min_prefixlen: String(p.min_prefixlen),
    max_prefixlen: String(p.max_prefixlen),
    default_quota: p.default_quota,
    is_default: isTrue(p.is_default),
    shared: isTrue(p.shared),
    address_scope_id: p.address_scope_id,
    description: p.description,
    tags,
    created_at: p.created_at,
    updated_at: p.updated_at,
    revision_number: p.revision_number,
  };
}

async function views(q: NetQ, rows: SubnetPoolRow[]): Promise<Dict[]> {
  const tags = await tagsOf(
    q,
    rows.map((r) => r.id),
  );
  return rows.map((r) => poolView(r, tags.get(r.id) ?? []));
}

const scope = (viewer: Viewer) => sharedScope(viewer, 'subnetpool', 'shared');

export async function getUsablePool(q: NetQ, viewer: Viewer, id: string): Promise<SubnetPoolRow> {
  const row = await findVisible<SubnetPoolRow>(q, 'net_subnetpool', scope(viewer), id);
  if (!row) throw NotFound.subnetpool(id);
  return row;
}

export async function defaultPoolFor(q: NetQ, ipVersion: number): Promise<SubnetPoolRow | undefined> {
  return q.selectFrom('net_subnetpool').selectAll().where('is_default', '=', 1).where('ip_version', '=', ipVersion).executeTakeFirst();
}

export async function listPools(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  return views(deps.db, await selectPage<SubnetPoolRow>(deps.db, subnetpoolSpec(), query, scope(caller)));
}

export async function showPool(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return (await views(deps.db, [await getUsablePool(deps.db, caller, id)]))[0]!;
}

function parsePrefixes(prefixes: string[]): { version: 4 | 6; cidrs: Cidr[] } {
  const cidrs = prefixes.map((p) => {
    const c = parseCidr(p);
    if (!c) throw bad('InvalidInput', `Invalid input for operation: '${p}' is not a valid IP subnet.`);
    return c;
  });
  const versions = new Set(cidrs.map((c) => c.version));
  if (versions.size > 1) throw bad('PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
  return { version: (cidrs[0]?.version ?? 4) as 4 | 6, cidrs: mergeCidrs(cidrs) };
}

function checkBounds(version: 4 | 6, min: number, def: number, max: number): void {
  const fail = (type: string, len: number, base: string, baseLen: number) =>
    bad('IllegalSubnetPoolPrefixBounds', `Illegal prefix bounds: ${type}=${len}, ${base}=${baseLen}.`);
  if (max > bits(version)) throw fail('max_prefixlen', max, 'max_allowed', bits(version));
  if (min > max) throw fail('min_prefixlen', min, 'max_prefixlen', max);
  if (def < min) throw fail('default_prefixlen', def, 'min_prefixlen', min);
  if (def > max) throw fail('default_prefixlen', def, 'max_prefixlen', max);
}

async function checkSingleDefault(trx: Trx, version: number, exceptId?: string): Promise<void> {
  const other = await defaultPoolFor(trx, version);
  if (other && other.id !== exceptId) {
    throw bad('InvalidInput', 'Invalid input for operation: A default subnetpool for this IP family has already been set. Only one default may exist per IP family.');
  }
}

export async function createPools(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(deps, async (trx) => {
    const out: Dict[] = [];
    for (const attrs of items) {
      if (attrs['shared'] !== undefined) authorize(deps.enforcer, caller, 'create_subnetpool:shared');
      if (attrs['is_default'] !== undefined) authorize(deps.enforcer, caller, 'create_subnetpool:is_default');
      if (attrs['address_scope_id']) throw bad('InvalidInput', 'Invalid input for operation: address scopes are not supported.');
      const projectId = requestProject(caller, attrs);
      await checkQuota(deps, trx, projectId, 'subnetpool');
      const { version, cidrs } = parsePrefixes(attrs['prefixes'] as string[]);
      const min = (attrs['min_prefixlen'] as number | undefined) ?? (version === 4 ? 8 : 64);
      const max = (attrs['max_prefixlen'] as number | undefined) ?? bits(version);
      const def = (attrs['default_prefixlen'] as number | undefined) ?? min;
      checkBounds(version, min, def, max);
      if (attrs['is_default'] === true) await checkSingleDefault(trx, version);
      const row: SubnetPoolRow = {
        id: newUuid(),
        project_id: projectId,
        name: attrs['name'] as string,
        ip_version: version,
        prefixes: toJson(cidrs.map(formatCidr)),
        default_prefixlen: def,
        min_prefixlen: min,
        max_prefixlen: max,
        default_quota: (attrs['default_quota'] as number | null | undefined) ?? null,
        is_default: attrs['is_default'] === true ? 1 : 0,
        shared: attrs['shared'] === true ? 1 : 0,
        address_scope_id: null,
        ...standardNew((attrs['description'] as string | undefined) ?? ''),
      };
      await trx.insertInto('net_subnetpool').values(row).execute();
      out.push(poolView(row, []));
    }
    return out;
  });
}

export async function updatePool(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  return write(deps, async (trx) => {
    const row = await getUsablePool(trx, caller, id);
    authorize(deps.enforcer, caller, 'update_subnetpool', { tenant_id: row.project_id });
    if (attrs['is_default'] !== undefined) authorize(deps.enforcer, caller, 'update_subnetpool:is_default');
    checkRevision(ifMatch, row.revision_number);
    const version = row.ip_version as 4 | 6;
    const changes: Partial<SubnetPoolRow> = {};
    if (attrs['prefixes'] !== undefined) {
      const { version: v, cidrs } = parsePrefixes(attrs['prefixes'] as string[]);
      if (v !== version) throw bad('PrefixVersionMismatch', 'Cannot mix IPv4 and IPv6 prefixes in a subnet pool.');
      const old = fromJson<string[]>(row.prefixes, []).map((p) => parseCidr(p)!);
      for (const o of old) {
        if (!cidrs.some((c) => cidrWithin(o, c))) {
          throw bad('IllegalSubnetPoolPrefixUpdate', `Illegal update to prefixes: Existing prefix ${formatCidr(o)} must be a subset of the new prefixes.`);
        }
      }
      changes.prefixes = toJson(cidrs.map(formatCidr));
    }
    const min = (attrs['min_prefixlen'] as number | undefined) ?? row.min_prefixlen;
    const max = (attrs['max_prefixlen'] as number | undefined) ?? row.max_prefixlen;
    const def = (attrs['default_prefixlen'] as number | undefined) ?? row.default_prefixlen;
    checkBounds(version, min, def, max);
    changes.min_prefixlen = min;
    changes.max_prefixlen = max;
    changes.default_prefixlen = def;
    if (attrs['name'] !== undefined) changes.name = attrs['name'] as string;
    if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
    if (attrs['default_quota'] !== undefined) changes.default_quota = attrs['default_quota'] as number | null;
    if (attrs['is_default'] !== undefined) {
      if (attrs['is_default'] === true) await checkSingleDefault(trx, version, id);
      changes.is_default = attrs['is_default'] ? 1 : 0;
    }
    await trx.updateTable('net_subnetpool').set(changes).where('id', '=', id).execute();
    await bumpRevision(trx, 'net_subnetpool', id);
    return (await views(trx, [await trx.selectFrom('net_subnetpool').selectAll().where('id', '=', id).executeTakeFirstOrThrow()]))[0]!;
  });
}

export async function deletePool(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx) => {
    const row = await getUsablePool(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_subnetpool', { tenant_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    const used = await trx.selectFrom('net_subnet').select('id').where('subnetpool_id', '=', id).executeTakeFirst();
    if (used) throw bad('SubnetPoolDeleteError', 'Unable to delete subnet pool: Subnet pool has existing allocations.');
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    await trx.deleteFrom('net_subnetpool').where('id', '=', id).execute();
  });
}

/** A CIDR for a new subnet from the pool: the given one (checked) or the lowest free block of the prefix length. */
export async function allocateSubnetCidr(trx: Trx, pool: SubnetPoolRow, explicit: string | undefined, prefixlen: number | undefined): Promise<string> {
  await bumpRevision(trx, 'net_subnetpool', pool.id);
  const version = pool.ip_version as 4 | 6;
  const prefixes = fromJson<string[]>(pool.prefixes, []).map((p) => parseCidr(p)!);
  const taken = (await trx.selectFrom('net_subnet').select('cidr').where('subnetpool_id', '=', pool.id).execute())
    .map((r) => parseCidr(r.cidr)!)
    .sort((a, b) => (a.network < b.network ? -1 : a.network > b.network ? 1 : 0));
  const checkQuotaFor = (c: Cidr) => {
    if (pool.default_quota === null) return;
    const unit = version === 4 ? 32 : 64;
    const size = (x: Cidr) => 1n << BigInt(Math.max(0, unit - x.prefix));
    const used = taken.reduce((n, x) => n + size(x), 0n);
    if (used + size(c) > BigInt(pool.default_quota)) throw conflict('SubnetPoolQuotaExceeded', 'Per-tenant subnet pool prefix quota exceeded.');
  };
  if (explicit) {
    const c = parseCidr(explicit)!;
    if (c.version !== version) throw bad('BadRequest', `Bad subnets request: Cannot allocate IPv${c.version} subnet from IPv${version} subnet pool.`);
    if (!prefixes.some((p) => cidrWithin(c, p))) throw bad('BadRequest', `Bad subnets request: Cidr ${explicit} is not within the prefixes of subnet pool ${pool.id}.`);
    if (c.prefix < pool.min_prefixlen || c.prefix > pool.max_prefixlen) {
      throw bad('BadRequest', `Bad subnets request: Prefix length ${c.prefix} is outside [${pool.min_prefixlen}, ${pool.max_prefixlen}].`);
    }
    if (taken.some((t) => cidrsOverlap(t, c))) throw conflict('SubnetAllocationError', `Failed to allocate subnet: Cidr ${explicit} overlaps a subnet of the pool.`);
    checkQuotaFor(c);
    return explicit;
  }
  const len = prefixlen ?? pool.default_prefixlen;
  if (len < pool.min_prefixlen || len > pool.max_prefixlen) {
    throw bad('BadRequest', `Bad subnets request: Prefix length ${len} is outside [${pool.min_prefixlen}, ${pool.max_prefixlen}].`);
  }
  const size = 1n << BigInt(bits(version) - len);
  for (const p of prefixes) {
    if (p.prefix > len) continue;
    let cand = p.network;
    const end = cidrLast(p);
    while (cand + size - 1n <= end) {
      const c: Cidr = { version, network: cand, prefix: len, address: cand };
      const clash = taken.find((t) => cidrsOverlap(t, c));
      if (!clash) {
        checkQuotaFor(c);
        return formatCidr(c);
      }
      // Jump past the clashing subnet, aligned to the block size.
      const after = cidrLast(clash) + 1n;
      cand = ((after + size - 1n) / size) * size;
    }
  }
  throw conflict('SubnetAllocationError', 'Failed to allocate subnet: Insufficient prefix space to allocate subnet size /' + len + '.');
}
