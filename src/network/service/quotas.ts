import { sql } from 'kysely';
import type { NetQ } from '../db/tables.js';
import type { NetworkConfig, NetworkDeps, Trx } from './deps.js';
import { overQuota } from './faults.js';
import { authorize, type Caller } from './policy.js';
import { Errors } from '../../core/errors.js';

/**
 * Per-project quotas (Neutron's DbQuotaDriver semantics). A creation locks
 * the project's (resource) lock row, counts what the project has and
 * refuses with 409 OverQuota if the new total would pass the limit — inside
 * the creating transaction, so concurrent creations cannot overshoot.
 */

export const QUOTA_RESOURCES = [
  'network',
  'subnet',
  'subnetpool',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
  'rbac_policy',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

const TABLE: Record<QuotaResource, 'net_network' | 'net_subnet' | 'net_subnetpool' | 'net_port' | 'net_router' | 'net_floatingip' | 'net_security_group' | 'net_security_group_rule' | 'net_rbac'> = {
  network: 'net_network',
  subnet: 'net_subnet',
  subnetpool: 'net_subnetpool',
  port: 'net_port',
  router: 'net_router',
  floatingip: 'net_floatingip',
  security_group: 'net_security_group',
  security_group_rule: 'net_security_group_rule',
  rbac_policy: 'net_rbac',
};

export function defaultQuotas(config: NetworkConfig): Record<QuotaResource, number> {
  const q = config.quotas;
  return {
    network: q.network,
    subnet: q.subnet,
    subnetpool: q.subnetpool,
    port: q.port,
    router: q.router,
    floatingip: q.floatingip,
    security_group: q.securityGroup,
    security_group_rule: q.securityGroupRule,
    rbac_policy: q.rbacPolicy,
  };
}

export async function effectiveQuotas(q: NetQ, config: NetworkConfig, projectId: string): Promise<Record<QuotaResource, number>> {
  const out = defaultQuotas(config);
  const rows = await q.selectFrom('net_quota').selectAll().where('project_id', '=', projectId).execute();
  for (const r of rows) if (r.resource in out) out[r.resource as QuotaResource] = r.hard_limit;
  return out;
}

export async function usage(q: NetQ, resource: QuotaResource, projectId: string): Promise<number> {
  const row = await q
    .selectFrom(TABLE[resource])
    .select(sql<number>`count(*)`.as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Refuses the creation of `count` more `resource`s for the project when it would pass the limit. */
export async function checkQuota(deps: NetworkDeps, trx: Trx, projectId: string, resource: QuotaResource, count = 1): Promise<void> {
  if (!projectId || count <= 0) return;
  const defaultLimit = defaultQuotas(deps.config)[resource];
  if (deps.dialect === 'sqlite') {
    // SQLite serializes writers: the limit and the usage in one statement are enough.
    // (An unlimited resource is not counted: CASE evaluates only the branch it takes.)
    const lim = sql`coalesce((select hard_limit from net_quota where project_id = ${projectId} and resource = ${resource}), ${defaultLimit})`;
    const row = await sql<{ lim: number; used: number }>`select ${lim} as lim,
        case when ${lim} < 0 then 0 else (select count(*) from ${sql.table(TABLE[resource])} where project_id = ${projectId}) end as used`.execute(trx);
    const limit = Number(row.rows[0]?.lim ?? defaultLimit);
    if (limit >= 0 && Number(row.rows[0]?.used ?? 0) + count > limit) throw overQuota([resource]);
    return;
  }
  const override = await trx.selectFrom('net_quota').select('hard_limit').where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
  const limit = override ? override.hard_limit : defaultLimit;
  if (limit < 0) return;
  if (limit < count) throw overQuota([resource]);
  // Serialize this project's creations of this resource (row lock held to commit).
  await trx.insertInto('net_quota_lock').values({ project_id: projectId, resource }).onConflict((oc) => oc.doNothing()).execute();
  await trx.selectFrom('net_quota_lock').select('project_id').where('project_id', '=', projectId).where('resource', '=', resource).forUpdate().execute();
  if ((await usage(trx, resource, projectId)) + count > limit) throw overQuota([resource]);
}

// ---- the quotas API


function target(projectId: string) {
  return { tenant_id: projectId, project_id: projectId };
}

/** Projects with at least one non-default limit (admin only). */
export async function listQuotas(deps: NetworkDeps, caller: Caller): Promise<Array<Record<string, unknown>>> {
  authorize(deps.enforcer, caller, 'update_quota');
  const projects = [...new Set((await deps.db.selectFrom('net_quota').select('project_id').execute()).map((r) => r.project_id))].sort();
  const out = [];
  for (const p of projects) out.push({ ...(await effectiveQuotas(deps.db, deps.config, p)), project_id: p, tenant_id: p });
  return out;
}

export async function showQuota(deps: NetworkDeps, caller: Caller, projectId: string): Promise<Record<QuotaResource, number>> {
  authorize(deps.enforcer, caller, 'get_quota', target(projectId));
  return effectiveQuotas(deps.db, deps.config, projectId);
}

export function showDefaultQuota(deps: NetworkDeps, caller: Caller, projectId: string): Record<QuotaResource, number> {
  authorize(deps.enforcer, caller, 'get_quota', target(projectId));
  return defaultQuotas(deps.config);
}

export async function quotaDetails(deps: NetworkDeps, caller: Caller, projectId: string): Promise<Record<string, { limit: number; used: number; reserved: number }>> {
  authorize(deps.enforcer, caller, 'get_quota', target(projectId));
  const limits = await effectiveQuotas(deps.db, deps.config, projectId);
  const out: Record<string, { limit: number; used: number; reserved: number }> = {};
  for (const r of QUOTA_RESOURCES) out[r] = { limit: limits[r], used: await usage(deps.db, r, projectId), reserved: 0 };
  return out;
}

export async function updateQuota(deps: NetworkDeps, caller: Caller, projectId: string, body: Record<string, unknown>): Promise<Record<QuotaResource, number>> {
  authorize(deps.enforcer, caller, 'update_quota', target(projectId));
  const checkLimit = body['check_limit'] === true;
  const values: Array<[QuotaResource, number]> = [];
  for (const [k, v] of Object.entries(body)) {
    if (k === 'force' || k === 'check_limit') continue;
    if (!(QUOTA_RESOURCES as readonly string[]).includes(k)) throw Errors.badRequest(`Unrecognized attribute(s) '${k}'`, { code: 'HTTPBadRequest' });
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 2 ** 31 - 1) {
      throw Errors.badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not a valid quota value.`, { code: 'InvalidInput' });
    }
    if (checkLimit && n >= 0 && (await usage(deps.db, k as QuotaResource, projectId)) > n) {
      throw Errors.badRequest(`Invalid input for operation: Quota limit ${n} for ${k} must be greater than or equal to already used and reserved.`, { code: 'InvalidQuotaValue' });
    }
    values.push([k as QuotaResource, n]);
  }
  for (const [resource, limit] of values) {
    await deps.db
      .insertInto('net_quota')
      .values({ project_id: projectId, resource, hard_limit: limit })
      .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: limit }))
      .execute();
  }
  return effectiveQuotas(deps.db, deps.config, projectId);
}

export async function resetQuota(deps: NetworkDeps, caller: Caller, projectId: string): Promise<void> {
  authorize(deps.enforcer, caller, 'delete_quota', target(projectId));
  await deps.db.deleteFrom('net_quota').where('project_id', '=', projectId).execute();
}

/** Checks a bulk creation: one more `resource` for each entry of `projects` (repeats add up). */
export async function checkQuotaForEach(deps: NetworkDeps, trx: Trx, projects: string[], resource: QuotaResource): Promise<void> {
  const counts = new Map<string, number>();
  for (const p of projects) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const [p, n] of counts) await checkQuota(deps, trx, p, resource, n);
}
