import type { IdentityDb } from './identity-db.js';
import { GLOBAL_ROLE_DOMAIN, type AssignmentRow, type AssignmentType, type ImpliedRoleRow, type RoleRow } from './tables.js';

export function createRoleRepo(db: IdentityDb) {
  return {
    async get(id: string): Promise<RoleRow | undefined> {
      return db.selectFrom('ks_role').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async getByName(name: string, domainId: string | null = null): Promise<RoleRow | undefined> {
      return db
        .selectFrom('ks_role')
        .selectAll()
        .where('name', '=', name)
        .where('domain_id', '=', domainId ?? GLOBAL_ROLE_DOMAIN)
        .executeTakeFirst();
    },
    async list(filters: { name?: string; domainId?: string | null } = {}): Promise<RoleRow[]> {
      let q = db.selectFrom('ks_role').selectAll();
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      if (filters.domainId !== undefined) q = q.where('domain_id', '=', filters.domainId ?? GLOBAL_ROLE_DOMAIN);
      return q.orderBy('name').execute();
    },
    async all(): Promise<RoleRow[]> {
      return db.selectFrom('ks_role').selectAll().execute();
    },
    async insert(row: RoleRow): Promise<void> {
      await db.insertInto('ks_role').values(row).execute();
    },
    async update(id: string, changes: Partial<RoleRow>): Promise<void> {
      await db.updateTable('ks_role').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_assignment').where('role_id', '=', id).execute();
      await db.deleteFrom('ks_implied_role').where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)])).execute();
      await db.deleteFrom('ks_role').where('id', '=', id).execute();
    },
    async implications(): Promise<ImpliedRoleRow[]> {
      return db.selectFrom('ks_implied_role').selectAll().execute();
    },
    async getImplication(prior: string, implied: string): Promise<ImpliedRoleRow | undefined> {
      return db.selectFrom('ks_implied_role').selectAll().where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst();
    },
    async addImplication(prior: string, implied: string): Promise<void> {
      await db
        .insertInto('ks_implied_role')
        .values({ prior_role_id: prior, implied_role_id: implied })
        .onConflict((oc) => oc.columns(['prior_role_id', 'implied_role_id']).doNothing())
        .execute();
    },
    async removeImplication(prior: string, implied: string): Promise<number> {
      const r = await db.deleteFrom('ks_implied_role').where('prior_role_id', '=', prior).where('implied_role_id', '=', implied).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export interface AssignmentFilter {
  types?: AssignmentType[];
  actorIds?: string[];
  targetIds?: string[];
  roleIds?: string[];
  inherited?: boolean;
}

export function createAssignmentRepo(db: IdentityDb) {
  return {
    async list(filter: AssignmentFilter = {}): Promise<AssignmentRow[]> {
      let q = db.selectFrom('ks_assignment').selectAll();
      if (filter.types) q = q.where('type', 'in', filter.types);
      if (filter.actorIds) {
        if (filter.actorIds.length === 0) return [];
        q = q.where('actor_id', 'in', filter.actorIds);
      }
      if (filter.targetIds) {
        if (filter.targetIds.length === 0) return [];
        q = q.where('target_id', 'in', filter.targetIds);
      }
      if (filter.roleIds) {
        if (filter.roleIds.length === 0) return [];
        q = q.where('role_id', 'in', filter.roleIds);
      }
      if (filter.inherited !== undefined) q = q.where('inherited', '=', filter.inherited ? 1 : 0);
      return q.execute();
    },
    async exists(row: AssignmentRow): Promise<boolean> {
      const r = await db
        .selectFrom('ks_assignment')
        .select('role_id')
        .where('type', '=', row.type)
        .where('actor_id', '=', row.actor_id)
        .where('target_id', '=', row.target_id)
        .where('role_id', '=', row.role_id)
        .where('inherited', '=', row.inherited)
        .executeTakeFirst();
      return r !== undefined;
    },
    async add(row: AssignmentRow): Promise<void> {
      // Idempotent even when two grants race.
      await db.insertInto('ks_assignment').values(row).onConflict((oc) => oc.columns(['type', 'actor_id', 'target_id', 'role_id', 'inherited']).doNothing()).execute();
    },
    async remove(row: AssignmentRow): Promise<number> {
      const r = await db
        .deleteFrom('ks_assignment')
        .where('type', '=', row.type)
        .where('actor_id', '=', row.actor_id)
        .where('target_id', '=', row.target_id)
        .where('role_id', '=', row.role_id)
        .where('inherited', '=', row.inherited)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async removeForActor(actorId: string): Promise<void> {
      await db.deleteFrom('ks_assignment').where('actor_id', '=', actorId).execute();
    },
    async removeForTarget(targetId: string): Promise<void> {
      await db.deleteFrom('ks_assignment').where('target_id', '=', targetId).execute();
    },
  };
}

export type RoleRepo = ReturnType<typeof createRoleRepo>;
export type AssignmentRepo = ReturnType<typeof createAssignmentRepo>;
