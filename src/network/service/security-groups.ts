import { sql } from 'kysely';
import { isUniqueViolation } from '../../core/db/database.js';
import { isTrue } from '../../core/db/columns.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery, type Qb } from '../db/list-query.js';
import { securityGroupRuleSpec, securityGroupSpec } from '../db/specs.js';
import type { NetQ, SecurityGroupRow, SecurityGroupRuleRow } from '../db/tables.js';
import { sharedScope, type Viewer } from '../db/visibility.js';
import { write, type ChangeSink, type NetworkDeps, type Trx } from './deps.js';
import { bad, conflict, httpBadRequest, NotFound } from './faults.js';
import { authorize, type Caller } from './policy.js';
import { checkQuota } from './quotas.js';
import { sharedWith } from './rbac.js';
import { normalizedCidr, ruleFingerprint, validateRule, type RuleInput } from './sg-rule-rules.js';
import { bumpRevision, checkRevision, standardNew, tagsOf } from './standard-attrs.js';

/**
 * Security groups and their rules. Every project has a `default` group
 * (made on first need, with Neutron's four rules) recorded in
 * net_default_security_group, whose primary key keeps it unique under
 * concurrent first requests.
 */

export type Dict = Record<string, unknown>;

export function ruleView(r: SecurityGroupRuleRow): Dict {
  return {
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    security_group_id: r.security_group_id,
    ethertype: r.ethertype,
    direction: r.direction,
    protocol: r.protocol,
    port_range_min: r.port_range_min,
    port_range_max: r.port_range_max,
    remote_ip_prefix: r.remote_ip_prefix,
    remote_group_id: r.remote_group_id,
    normalized_cidr: r.normalized_cidr,
    description: r.description,
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: r.revision_number,
  };
}

function groupView(g: SecurityGroupRow, rules: SecurityGroupRuleRow[], tags: string[]): Dict {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    tenant_id: g.project_id,
    project_id: g.project_id,
    stateful: isTrue(g.stateful),
    security_group_rules: rules.map(ruleView),
    tags,
    created_at: g.created_at,
    updated_at: g.updated_at,
    revision_number: g.revision_number,
  };
}

async function views(q: NetQ, groups: SecurityGroupRow[]): Promise<Dict[]> {
  const ids = groups.map((g) => g.id);
  const rules = new Map<string, SecurityGroupRuleRow[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const rows = await q.selectFrom('net_security_group_rule').selectAll().where('security_group_id', 'in', chunk).orderBy('created_at').orderBy('id').execute();
    for (const r of rows) rules.set(r.security_group_id, [...(rules.get(r.security_group_id) ?? []), r]);
  }
  const tags = await tagsOf(q, ids);
  return groups.map((g) => groupView(g, rules.get(g.id) ?? [], tags.get(g.id) ?? []));
}

function newRuleRow(projectId: string, groupId: string, input: RuleInput, description = ''): SecurityGroupRuleRow {
  return {
    id: newUuid(),
    project_id: projectId,
    security_group_id: groupId,
    direction: input.direction,
    ethertype: input.ethertype,
    protocol: input.protocol,
    port_range_min: input.port_range_min,
    port_range_max: input.port_range_max,
    remote_ip_prefix: input.remote_ip_prefix,
    remote_group_id: input.remote_group_id,
    remote_address_group_id: input.remote_address_group_id,
    normalized_cidr: normalizedCidr(input.remote_ip_prefix),
    fingerprint: ruleFingerprint(input),
    ...standardNew(description),
  };
}

const EMPTY_RULE = { protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, remote_group_id: null, remote_address_group_id: null };

function egressRules(projectId: string, groupId: string): SecurityGroupRuleRow[] {
  return ['IPv4', 'IPv6'].map((ethertype) => newRuleRow(projectId, groupId, { ...EMPTY_RULE, direction: 'egress', ethertype }));
}

/** The project's default group id, creating it (and its rules) when missing. */
export async function ensureDefaultGroup(trx: Trx, projectId: string, sink?: ChangeSink): Promise<string> {
  const existing = await trx.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirst();
  if (existing) return existing.security_group_id;
  const id = newUuid();
  await trx.insertInto('net_security_group').values({ id, project_id: projectId, name: 'default', stateful: 1, ...standardNew('Default security group') }).execute();
  const claimed = await trx
    .insertInto('net_default_security_group')
    .values({ project_id: projectId, security_group_id: id })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (Number(claimed.numInsertedOrUpdatedRows ?? 0n) === 0) {
    // Another request made it first: drop ours, use theirs.
    await trx.deleteFrom('net_security_group').where('id', '=', id).execute();
    const winner = await trx.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', projectId).executeTakeFirstOrThrow();
    return winner.security_group_id;
  }
  const rules = [
    ...egressRules(projectId, id),
    ...['IPv4', 'IPv6'].map((ethertype) => newRuleRow(projectId, id, { ...EMPTY_RULE, direction: 'ingress', ethertype, remote_group_id: id })),
  ];
  await trx.insertInto('net_security_group_rule').values(rules).execute();
  if (sink) {
    const [view] = await views(trx, [(await trx.selectFrom('net_security_group').selectAll().where('id', '=', id).executeTakeFirstOrThrow())]);
    await sink.emit({ kind: 'security_group', action: 'create', current: view! });
  }
  return id;
}

/** Makes sure the default group exists outside any other transaction (list/show paths). */
export async function ensureDefaultGroupFor(deps: NetworkDeps, projectId: string): Promise<void> {
  if (!projectId) return;
  const existing = await deps.db.selectFrom('net_default_security_group').select('project_id').where('project_id', '=', projectId).executeTakeFirst();
  if (existing) return;
  await write(deps, (trx, sink) => ensureDefaultGroup(trx, projectId, sink));
}

async function defaultGroupProject(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<string[]> {
  const wanted = query.filters['project_id'];
  if (caller.isAdmin && wanted) return wanted;
  return [caller.projectId];
}

export async function getVisibleGroup(q: NetQ, viewer: Viewer, id: string): Promise<SecurityGroupRow> {
  const row = await findVisible<SecurityGroupRow>(q, 'net_security_group', sharedScope(viewer, 'security_group'), id);
  if (!row) throw NotFound.securityGroup(id);
  return row;
}

export async function listGroups(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  for (const p of await defaultGroupProject(deps, caller, query)) await ensureDefaultGroupFor(deps, p);
  const rows = await selectPage<SecurityGroupRow>(deps.db, securityGroupSpec(caller.projectId), query, sharedScope(caller, 'security_group'));
  return views(deps.db, rows);
}

export async function showGroup(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  await ensureDefaultGroupFor(deps, caller.projectId);
  const [view] = await views(deps.db, [await getVisibleGroup(deps.db, caller, id)]);
  return view!;
}

function ownerOf(caller: Caller, attrs: Dict): string {
  const p = (attrs['project_id'] ?? attrs['tenant_id']) as string | undefined;
  if (p !== undefined && p !== caller.projectId && !caller.isAdmin) {
    throw httpBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
  }
  return p ?? caller.projectId;
}

export async function createGroups(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(deps, async (trx, sink) => {
    const out: Dict[] = [];
    const byProject = new Map<string, number>();
    for (const attrs of items) {
      const projectId = ownerOf(caller, attrs);
      byProject.set(projectId, (byProject.get(projectId) ?? 0) + 1);
    }
    for (const [projectId, n] of byProject) {
      await ensureDefaultGroup(trx, projectId, sink);
      await checkQuota(deps, trx, projectId, 'security_group', n);
      await checkQuota(deps, trx, projectId, 'security_group_rule', 2 * n);
    }
    for (const attrs of items) {
      const name = (attrs['name'] as string | undefined) ?? '';
      if (name.toLowerCase() === 'default') throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      const projectId = ownerOf(caller, attrs);
      const row: SecurityGroupRow = {
        id: newUuid(),
        project_id: projectId,
        name,
        stateful: attrs['stateful'] === false ? 0 : 1,
        ...standardNew((attrs['description'] as string | undefined) ?? ''),
      };
      await trx.insertInto('net_security_group').values(row).execute();
      await trx.insertInto('net_security_group_rule').values(egressRules(projectId, row.id)).execute();
      const [view] = await views(trx, [row]);
      await sink.emit({ kind: 'security_group', action: 'create', current: view! });
      out.push(view!);
    }
    return out;
  });
}

export async function updateGroup(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict, ifMatch?: number): Promise<Dict> {
  return write(deps, async (trx, sink) => {
    const row = await getVisibleGroup(trx, caller, id);
    authorize(deps.enforcer, caller, 'update_security_group', { tenant_id: row.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    const [original] = await views(trx, [row]);
    const isDefault = row.name === 'default' && (await isDefaultGroup(trx, row));
    if (attrs['name'] !== undefined && attrs['name'] !== row.name) {
      if (isDefault) throw conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      if (String(attrs['name']).toLowerCase() === 'default') throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    }
    const changes: Partial<SecurityGroupRow> = {};
    if (attrs['name'] !== undefined) changes.name = attrs['name'] as string;
    if (attrs['description'] !== undefined) changes.description = attrs['description'] as string;
    if (attrs['stateful'] !== undefined) {
      const inUse = await trx.selectFrom('net_port_security_group').select('port_id').where('security_group_id', '=', id).executeTakeFirst();
      if (inUse && Boolean(attrs['stateful']) !== isTrue(row.stateful)) {
        throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      }
      changes.stateful = attrs['stateful'] ? 1 : 0;
    }
    if (Object.keys(changes).length) await trx.updateTable('net_security_group').set(changes).where('id', '=', id).execute();
    await bumpRevision(trx, 'net_security_group', id);
    const [current] = await views(trx, [await getVisibleGroup(trx, caller, id)]);
    await sink.emit({ kind: 'security_group', action: 'update', current: current!, original: original! });
    return current!;
  });
}

async function isDefaultGroup(q: NetQ, row: SecurityGroupRow): Promise<boolean> {
  const d = await q.selectFrom('net_default_security_group').select('security_group_id').where('project_id', '=', row.project_id).executeTakeFirst();
  return d?.security_group_id === row.id;
}

export async function deleteGroup(deps: NetworkDeps, caller: Caller, id: string, ifMatch?: number): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleGroup(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_security_group', { tenant_id: row.project_id, project_id: row.project_id });
    checkRevision(ifMatch, row.revision_number);
    if (!caller.isAdmin && (await isDefaultGroup(trx, row))) {
      throw conflict('SecurityGroupCannotRemoveDefault', 'Insufficient rights for removing default security group.');
    }
    const inUse = await trx.selectFrom('net_port_security_group').select('port_id').where('security_group_id', '=', id).executeTakeFirst();
    if (inUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
    const [view] = await views(trx, [row]);
    // Rules of other groups that point at this one go with it (Neutron's FK cascade).
    await trx.deleteFrom('net_security_group_rule').where('remote_group_id', '=', id).execute();
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    await trx.deleteFrom('net_security_group').where('id', '=', id).execute();
    await sink.emit({ kind: 'security_group', action: 'delete', current: view! });
  });
}

// ---- rules

function ruleScope(viewer: Viewer) {
  return (qb: Qb) =>
    viewer.isAdmin
      ? qb
      : qb.where((eb) =>
          eb.or([
            eb('t.project_id', '=', viewer.projectId),
            sql<boolean>`exists (select 1 from net_security_group g where g.id = t.security_group_id and g.project_id = ${viewer.projectId})` as never,
          ]),
        );
}

export async function listRules(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  for (const p of await defaultGroupProject(deps, caller, query)) await ensureDefaultGroupFor(deps, p);
  const rows = await selectPage<SecurityGroupRuleRow>(deps.db, securityGroupRuleSpec, query, ruleScope(caller));
  return rows.map(ruleView);
}

async function getVisibleRule(q: NetQ, viewer: Viewer, id: string): Promise<SecurityGroupRuleRow> {
  const row = await findVisible<SecurityGroupRuleRow>(q, 'net_security_group_rule', ruleScope(viewer), id);
  if (!row) throw NotFound.securityGroupRule(id);
  return row;
}

export async function showRule(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return ruleView(await getVisibleRule(deps.db, caller, id));
}

export interface RuleRequest extends RuleInput {
  security_group_id: string;
  description: string;
  project_id?: string | undefined;
}

export async function createRules(deps: NetworkDeps, caller: Caller, requests: RuleRequest[]): Promise<Dict[]> {
  const validated = requests.map((r) => ({ ...r, ...validateRule(r) }));
  return write(deps, async (trx, sink) => {
    const keys = new Set<string>();
    const rows: SecurityGroupRuleRow[] = [];
    const counts = new Map<string, number>();
    for (const r of validated) {
      const projectId = ownerOf(caller, { project_id: r.project_id });
      if (r.remote_group_id) await getRemoteGroup(trx, caller, projectId, r.remote_group_id);
      const group = await getVisibleGroup(trx, caller, r.security_group_id);
      if (!caller.isAdmin && group.project_id !== caller.projectId) throw NotFound.securityGroup(r.security_group_id);
      authorize(deps.enforcer, caller, 'create_security_group_rule', { tenant_id: group.project_id, project_id: group.project_id });
      const row = newRuleRow(projectId, group.id, r, r.description);
      const key = `${group.id} ${row.fingerprint}`;
      if (keys.has(key)) throw conflict('DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.');
      keys.add(key);
      const dup = await trx
        .selectFrom('net_security_group_rule')
        .select('id')
        .where('security_group_id', '=', group.id)
        .where('fingerprint', '=', row.fingerprint)
        .executeTakeFirst();
      if (dup) throw conflict('SecurityGroupRuleExists', `Security group rule already exists. Rule id is ${dup.id}.`);
      counts.set(projectId, (counts.get(projectId) ?? 0) + 1);
      rows.push(row);
    }
    for (const [projectId, n] of counts) await checkQuota(deps, trx, projectId, 'security_group_rule', n);
    try {
      await trx.insertInto('net_security_group_rule').values(rows).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('SecurityGroupRuleExists', 'Security group rule already exists.');
      throw err;
    }
    for (const row of rows) {
      await bumpRevision(trx, 'net_security_group', row.security_group_id);
      await sink.emit({ kind: 'security_group_rule', action: 'create', current: ruleView(row) });
    }
    return rows.map(ruleView);
  });
}

async function getRemoteGroup(q: NetQ, caller: Caller, projectId: string, id: string): Promise<void> {
  if (!(await usableGroup(q, caller, projectId, id))) throw NotFound.securityGroup(id);
}

/** Whether a project may use a group: its own, any for admins, or shared with it by RBAC. */
async function usableGroup(q: NetQ, caller: Caller, projectId: string, id: string): Promise<boolean> {
  const row = await q.selectFrom('net_security_group').select(['id', 'project_id']).where('id', '=', id).executeTakeFirst();
  if (!row) return false;
  if (caller.isAdmin || row.project_id === projectId) return true;
  return (await sharedWith(q, 'security_group', [id], projectId)).has(id);
}

export async function deleteRule(deps: NetworkDeps, caller: Caller, id: string): Promise<void> {
  await write(deps, async (trx, sink) => {
    const row = await getVisibleRule(trx, caller, id);
    const group = await trx.selectFrom('net_security_group').select('project_id').where('id', '=', row.security_group_id).executeTakeFirst();
    authorize(deps.enforcer, caller, 'delete_security_group_rule', { tenant_id: group?.project_id ?? row.project_id, project_id: row.project_id });
    await trx.deleteFrom('net_security_group_rule').where('id', '=', id).execute();
    await bumpRevision(trx, 'net_security_group', row.security_group_id);
    await sink.emit({ kind: 'security_group_rule', action: 'delete', current: ruleView(row) });
  });
}

/**
 * The groups a port gets: the given ones (each must be usable by the port's
 * project), or the project's default group when none were given and the
 * port is protected.
 */
export async function resolvePortGroups(trx: Trx, caller: Caller, projectId: string, requested: string[] | undefined, portSecurity: boolean, isNetworkDevice: boolean, sink?: ChangeSink): Promise<string[]> {
  if (requested === undefined) {
    if (!portSecurity || isNetworkDevice || !projectId) return [];
    return [await ensureDefaultGroup(trx, projectId, sink)];
  }
  if (requested.length && !portSecurity) {
    throw bad('PortSecurityAndIPRequiredForSecurityGroups', 'Port security must be enabled and port must have an IP address in order to use security groups.');
  }
  const unique = [...new Set(requested)];
  for (const id of unique) if (!(await usableGroup(trx, caller, projectId, id))) throw NotFound.securityGroup(id);
  return unique;
}
