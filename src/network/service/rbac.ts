import { sql } from 'kysely';
import { isUniqueViolation } from '../../core/db/database.js';
import { newUuid } from '../../core/ids.js';
import { findVisible, selectPage, type ListQuery, type Qb } from '../db/list-query.js';
import { rbacSpec } from '../db/specs.js';
import type { NetQ, RbacRow } from '../db/tables.js';
import { networkScope, sharedScope, type Viewer } from '../db/visibility.js';
import { write, type NetworkDeps, type Trx } from './deps.js';
import { conflict, httpBadRequest, invalidInput, NotFound } from './faults.js';
import { authorize, type Caller } from './policy.js';
import { checkQuota } from './quotas.js';

/**
 * RBAC policies (Neutron's rbac-policies): sharing a network, security
 * group or subnet pool with one project or with all (`*`), and making a
 * network usable as external. A network's `shared` and `router:external`
 * flags are views over these entries.
 */

export type Dict = Record<string, unknown>;

const ACTIONS: Record<string, string[]> = {
  network: ['access_as_shared', 'access_as_external'],
  security_group: ['access_as_shared'],
  subnetpool: ['access_as_shared'],
};

export function rbacView(r: RbacRow): Dict {
  return {
    id: r.id,
    object_type: r.object_type,
    object_id: r.object_id,
    action: r.action,
    target_tenant: r.target_tenant,
    tenant_id: r.project_id,
    project_id: r.project_id,
  };
}

/** Adds or removes the wildcard entry behind `shared` / `router:external`. */
export async function setWildcard(trx: Trx, objectType: string, objectId: string, action: string, ownerProject: string, on: boolean): Promise<void> {
  if (on) {
    await trx
      .insertInto('net_rbac')
      .values({ id: newUuid(), project_id: ownerProject, object_type: objectType, object_id: objectId, action, target_tenant: '*' })
      .onConflict((oc) => oc.doNothing())
      .execute();
  } else {
    await trx.deleteFrom('net_rbac').where('object_type', '=', objectType).where('object_id', '=', objectId).where('action', '=', action).where('target_tenant', '=', '*').execute();
  }
}

/** Object ids (of the given ids) shared with the project (`*` or itself). */
export async function sharedWith(q: NetQ, objectType: string, ids: string[], projectId: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (!chunk.length) break;
    const rows = await q
      .selectFrom('net_rbac')
      .select('object_id')
      .where('object_type', '=', objectType)
      .where('action', '=', 'access_as_shared')
      .where('target_tenant', 'in', ['*', projectId])
      .where('object_id', 'in', chunk)
      .execute();
    for (const r of rows) out.add(r.object_id);
  }
  return out;
}

function scope(viewer: Viewer) {
  return (qb: Qb): Qb => (viewer.isAdmin ? qb : qb.where('t.project_id', '=', viewer.projectId));
}

export async function listPolicies(deps: NetworkDeps, caller: Caller, query: ListQuery): Promise<Dict[]> {
  const rows = await selectPage<RbacRow>(deps.db, rbacSpec, query, scope(caller));
  return rows.map(rbacView);
}

async function getPolicy(q: NetQ, caller: Caller, id: string): Promise<RbacRow> {
  const row = await findVisible<RbacRow>(q, 'net_rbac', scope(caller), id);
  if (!row) throw NotFound.rbacPolicy(id);
  return row;
}

export async function showPolicy(deps: NetworkDeps, caller: Caller, id: string): Promise<Dict> {
  return rbacView(await getPolicy(deps.db, caller, id));
}

async function objectOwner(trx: Trx, caller: Caller, objectType: string, objectId: string): Promise<string> {
  const table = objectType === 'network' ? 'net_network' : objectType === 'security_group' ? 'net_security_group' : 'net_subnetpool';
  const s = objectType === 'network' ? networkScope(caller) : sharedScope(caller, objectType, objectType === 'subnetpool' ? 'shared' : undefined);
  const row = await findVisible<{ project_id: string }>(trx, table, s, objectId);
  if (!row || (!caller.isAdmin && row.project_id !== caller.projectId)) {
    throw objectType === 'network' ? NotFound.network(objectId) : objectType === 'security_group' ? NotFound.securityGroup(objectId) : NotFound.subnetpool(objectId);
  }
  return row.project_id;
}

export async function createPolicies(deps: NetworkDeps, caller: Caller, items: Dict[]): Promise<Dict[]> {
  return write(deps, async (trx) => {
    const out: Dict[] = [];
    for (const attrs of items) {
      const objectType = attrs['object_type'] as string;
      const action = attrs['action'] as string;
      const objectId = attrs['object_id'] as string;
      const target = attrs['target_tenant'] as string;
      if (!ACTIONS[objectType]) throw invalidInput(`Invalid input for object_type. Reason: '${objectType}' is not in ${JSON.stringify(Object.keys(ACTIONS))}.`);
      if (!ACTIONS[objectType]!.includes(action)) throw invalidInput(`Invalid action '${action}' for object type '${objectType}'. Valid actions: ${ACTIONS[objectType]!.join(', ')}`);
      if (target === '*') authorize(deps.enforcer, caller, 'create_rbac_policy:target_tenant', {});
      const owner = await objectOwner(trx, caller, objectType, objectId);
      const projectId = (attrs['project_id'] as string | undefined) ?? (caller.isAdmin ? owner : caller.projectId);
      if (projectId !== caller.projectId && !caller.isAdmin) throw httpBadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
      await checkQuota(deps, trx, projectId, 'rbac_policy');
      const row: RbacRow = { id: newUuid(), project_id: projectId, object_type: objectType, object_id: objectId, action, target_tenant: target };
      try {
        await trx.insertInto('net_rbac').values(row).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
        throw err;
      }
      if (objectType === 'network' && action === 'access_as_external') {
        await trx.updateTable('net_network').set({ router_external: 1 }).where('id', '=', objectId).execute();
      }
      out.push(rbacView(row));
    }
    return out;
  });
}

/** Whether removing an entry would strand ports of projects it gave access to. */
async function inUse(trx: Trx, row: RbacRow, newTarget?: string): Promise<boolean> {
  if (row.object_type !== 'network' || row.action !== 'access_as_shared') return false;
  const net = await trx.selectFrom('net_network').select('project_id').where('id', '=', row.object_id).executeTakeFirst();
  if (!net) return false;
  const others = await trx
    .selectFrom('net_rbac')
    .select('target_tenant')
    .where('object_type', '=', 'network')
    .where('object_id', '=', row.object_id)
    .where('action', '=', 'access_as_shared')
    .where('id', '!=', row.id)
    .execute();
  const stillAllowed = new Set([...others.map((o) => o.target_tenant), ...(newTarget ? [newTarget] : [])]);
  if (stillAllowed.has('*')) return false;
  let q = trx
    .selectFrom('net_port')
    .select('project_id')
    .where('network_id', '=', row.object_id)
    .where('project_id', 'not in', [net.project_id, ''])
    .where(sql.ref('device_owner'), 'not like', 'network:%');
  if (row.target_tenant !== '*') q = q.where('project_id', '=', row.target_tenant);
  const users = await q.execute();
  return users.some((u) => !stillAllowed.has(u.project_id));
}

export async function updatePolicy(deps: NetworkDeps, caller: Caller, id: string, attrs: Dict): Promise<Dict> {
  return write(deps, async (trx) => {
    const row = await getPolicy(trx, caller, id);
    authorize(deps.enforcer, caller, 'update_rbac_policy', { tenant_id: row.project_id });
    const target = attrs['target_tenant'] as string | undefined;
    if (target !== undefined && target !== row.target_tenant) {
      if (target === '*') authorize(deps.enforcer, caller, 'update_rbac_policy:target_tenant', {});
      if (await inUse(trx, row, target)) throw rbacInUse(row);
      try {
        await trx.updateTable('net_rbac').set({ target_tenant: target }).where('id', '=', id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
        throw err;
      }
    }
    return rbacView(await getPolicy(trx, caller, id));
  });
}

function rbacInUse(row: RbacRow): Error {
  return conflict('RbacPolicyInUse', `RBAC policy on object ${row.object_id} cannot be removed because other objects depend on it.`);
}

export async function deletePolicy(deps: NetworkDeps, caller: Caller, id: string): Promise<void> {
  await write(deps, async (trx) => {
    const row = await getPolicy(trx, caller, id);
    authorize(deps.enforcer, caller, 'delete_rbac_policy', { tenant_id: row.project_id });
    if (await inUse(trx, row)) throw rbacInUse(row);
    if (row.object_type === 'network' && row.action === 'access_as_external') {
      const rest = await trx
        .selectFrom('net_rbac')
        .select('id')
        .where('object_type', '=', 'network')
        .where('object_id', '=', row.object_id)
        .where('action', '=', 'access_as_external')
        .where('id', '!=', id)
        .executeTakeFirst();
      if (!rest) {
        const gw = await trx.selectFrom('net_port').select('id').where('network_id', '=', row.object_id).where('device_owner', '=', 'network:router_gateway').executeTakeFirst();
        if (gw) throw rbacInUse(row);
        await trx.updateTable('net_network').set({ router_external: 0 }).where('id', '=', row.object_id).execute();
      }
    }
    await trx.deleteFrom('net_rbac').where('id', '=', id).execute();
  });
}
