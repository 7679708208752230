import { findVisible } from '../db/list-query.js';
import type { NetQ } from '../db/tables.js';
import { networkScope, ownerScope, portScope, sharedScope, subnetScope, type Viewer } from '../db/visibility.js';
import type { Qb } from '../db/list-query.js';
import { write, type NetworkDeps } from './deps.js';
import { NotFound } from './faults.js';
import { authorize, type Caller } from './policy.js';
import { bumpRevision, validateTags, TAG_MAX } from './standard-attrs.js';
import { Errors } from '../../core/errors.js';

/**
 * The standard-attr-tag API: /v2.0/{collection}/{id}/tags[/{tag}] on every
 * taggable resource. Tag changes bump the resource's revision.
 */

type Table = 'net_network' | 'net_subnet' | 'net_port' | 'net_router' | 'net_subnetpool' | 'net_floatingip' | 'net_security_group';

interface Taggable {
  table: Table;
  singular: string;
  scope: (viewer: Viewer) => (qb: Qb) => Qb;
  updateRule: string;
}

export const TAGGABLE: Record<string, Taggable> = {
  networks: { table: 'net_network', singular: 'network', scope: networkScope, updateRule: 'update_network' },
  subnets: { table: 'net_subnet', singular: 'subnet', scope: subnetScope, updateRule: 'update_subnet' },
  ports: { table: 'net_port', singular: 'port', scope: portScope, updateRule: 'update_port' },
  routers: { table: 'net_router', singular: 'router', scope: ownerScope, updateRule: 'update_router' },
  subnetpools: { table: 'net_subnetpool', singular: 'subnetpool', scope: (v) => sharedScope(v, 'subnetpool', 'shared'), updateRule: 'update_subnetpool' },
  floatingips: { table: 'net_floatingip', singular: 'floatingip', scope: ownerScope, updateRule: 'update_floatingip' },
  'security-groups': { table: 'net_security_group', singular: 'security_group', scope: (v) => sharedScope(v, 'security_group'), updateRule: 'update_security_group' },
};

export const TAGGABLE_SINGULARS = Object.values(TAGGABLE).map((t) => t.singular);

async function parent(q: NetQ, caller: Caller, collection: string, id: string): Promise<{ t: Taggable; projectId: string }> {
  const t = TAGGABLE[collection];
  if (!t) throw Errors.notFoundMessage('The resource could not be found.');
  const row = await findVisible<{ project_id: string }>(q, t.table, t.scope(caller), id);
  if (!row) throw NotFound.tagResource(t.singular, id);
  return { t, projectId: row.project_id };
}

async function current(q: NetQ, id: string): Promise<string[]> {
  return (await q.selectFrom('net_tag').select('tag').where('resource_id', '=', id).orderBy('tag').execute()).map((r) => r.tag);
}

function checkTag(tag: string): void {
  if (tag.length === 0 || tag.length > TAG_MAX) throw Errors.badRequest(`Invalid input for operation: '${tag}' is not a valid tag.`, { code: 'InvalidInput' });
}

export async function listTags(deps: NetworkDeps, caller: Caller, collection: string, id: string): Promise<string[]> {
  await parent(deps.db, caller, collection, id);
  return current(deps.db, id);
}

export async function hasTag(deps: NetworkDeps, caller: Caller, collection: string, id: string, tag: string): Promise<void> {
  await parent(deps.db, caller, collection, id);
  if (!(await current(deps.db, id)).includes(tag)) throw NotFound.tag(tag);
}

export async function addTag(deps: NetworkDeps, caller: Caller, collection: string, id: string, tag: string): Promise<void> {
  checkTag(tag);
  await write(deps, async (trx) => {
    const { t, projectId } = await parent(trx, caller, collection, id);
    authorize(deps.enforcer, caller, t.updateRule, { tenant_id: projectId, project_id: projectId, 'network:tenant_id': projectId });
    const r = await trx.insertInto('net_tag').values({ resource_id: id, tag }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) await bumpRevision(trx, t.table, id);
  });
}

export async function replaceTags(deps: NetworkDeps, caller: Caller, collection: string, id: string, tags: unknown): Promise<string[]> {
  const list = validateTags(tags);
  return write(deps, async (trx) => {
    const { t, projectId } = await parent(trx, caller, collection, id);
    authorize(deps.enforcer, caller, t.updateRule, { tenant_id: projectId, project_id: projectId, 'network:tenant_id': projectId });
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    if (list.length) await trx.insertInto('net_tag').values(list.map((tag) => ({ resource_id: id, tag }))).execute();
    await bumpRevision(trx, t.table, id);
    return list;
  });
}

export async function removeTag(deps: NetworkDeps, caller: Caller, collection: string, id: string, tag: string): Promise<void> {
  await write(deps, async (trx) => {
    const { t, projectId } = await parent(trx, caller, collection, id);
    authorize(deps.enforcer, caller, t.updateRule, { tenant_id: projectId, project_id: projectId, 'network:tenant_id': projectId });
    const r = await trx.deleteFrom('net_tag').where('resource_id', '=', id).where('tag', '=', tag).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw NotFound.tag(tag);
    await bumpRevision(trx, t.table, id);
  });
}

export async function removeAllTags(deps: NetworkDeps, caller: Caller, collection: string, id: string): Promise<void> {
  await write(deps, async (trx) => {
    const { t, projectId } = await parent(trx, caller, collection, id);
    authorize(deps.enforcer, caller, t.updateRule, { tenant_id: projectId, project_id: projectId, 'network:tenant_id': projectId });
    await trx.deleteFrom('net_tag').where('resource_id', '=', id).execute();
    await bumpRevision(trx, t.table, id);
  });
}
