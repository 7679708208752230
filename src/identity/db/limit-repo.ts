import type { IdentityDb } from './identity-db.js';
import type { LimitRow, RegisteredLimitRow } from './tables.js';

export interface LimitFilters {
  serviceId?: string;
  regionId?: string;
  resourceName?: string;
  projectId?: string;
  domainId?: string;
}

/** Unified limits: registered (default) limits and project/domain limits. */
export function createLimitRepo(db: IdentityDb) {
  return {
    getRegistered: (id: string): Promise<RegisteredLimitRow | undefined> =>
      db.selectFrom('ks_registered_limit').selectAll().where('id', '=', id).executeTakeFirst(),
    listRegistered(f: LimitFilters = {}): Promise<RegisteredLimitRow[]> {
      let q = db.selectFrom('ks_registered_limit').selectAll();
      if (f.serviceId !== undefined) q = q.where('service_id', '=', f.serviceId);
      if (f.regionId !== undefined) q = q.where('region_id', '=', f.regionId);
      if (f.resourceName !== undefined) q = q.where('resource_name', '=', f.resourceName);
      return q.orderBy('service_id').orderBy('resource_name').orderBy('id').execute();
    },
    /** The registered limit a project limit refers to (same service, region, resource). */
    findRegistered(serviceId: string, regionId: string | null, resourceName: string): Promise<RegisteredLimitRow | undefined> {
      let q = db.selectFrom('ks_registered_limit').selectAll().where('service_id', '=', serviceId).where('resource_name', '=', resourceName);
      q = regionId === null ? q.where('region_id', 'is', null) : q.where('region_id', '=', regionId);
      return q.executeTakeFirst();
    },
    async insertRegistered(row: RegisteredLimitRow): Promise<void> {
      await db.insertInto('ks_registered_limit').values(row).execute();
    },
    async updateRegistered(id: string, changes: Partial<RegisteredLimitRow>): Promise<void> {
      await db.updateTable('ks_registered_limit').set(changes).where('id', '=', id).execute();
    },
    async deleteRegistered(id: string): Promise<void> {
      await db.deleteFrom('ks_registered_limit').where('id', '=', id).execute();
    },

    get: (id: string): Promise<LimitRow | undefined> => db.selectFrom('ks_limit').selectAll().where('id', '=', id).executeTakeFirst(),
    list(f: LimitFilters = {}): Promise<LimitRow[]> {
      let q = db.selectFrom('ks_limit').selectAll();
      if (f.serviceId !== undefined) q = q.where('service_id', '=', f.serviceId);
      if (f.regionId !== undefined) q = q.where('region_id', '=', f.regionId);
      if (f.resourceName !== undefined) q = q.where('resource_name', '=', f.resourceName);
      if (f.projectId !== undefined) q = q.where('project_id', '=', f.projectId);
      if (f.domainId !== undefined) q = q.where('domain_id', '=', f.domainId);
      return q.orderBy('service_id').orderBy('resource_name').orderBy('id').execute();
    },
    async countFor(serviceId: string, regionId: string | null, resourceName: string): Promise<number> {
      let q = db.selectFrom('ks_limit').select((eb) => eb.fn.countAll<number>().as('n')).where('service_id', '=', serviceId).where('resource_name', '=', resourceName);
      q = regionId === null ? q.where('region_id', 'is', null) : q.where('region_id', '=', regionId);
      return Number((await q.executeTakeFirst())?.n ?? 0);
    },
    async insert(row: LimitRow): Promise<void> {
      await db.insertInto('ks_limit').values(row).execute();
    },
    async update(id: string, changes: Partial<LimitRow>): Promise<void> {
      await db.updateTable('ks_limit').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_limit').where('id', '=', id).execute();
    },
    async deleteForTarget(targetId: string): Promise<void> {
      await db.deleteFrom('ks_limit').where((eb) => eb.or([eb('project_id', '=', targetId), eb('domain_id', '=', targetId)])).execute();
    },
  };
}

export type LimitRepo = ReturnType<typeof createLimitRepo>;
