import type { IdentityDb } from './identity-db.js';
import type { EndpointRow, RegionRow, ServiceRow } from './tables.js';

export function createCatalogRepo(db: IdentityDb) {
  return {
    getRegion: (id: string): Promise<RegionRow | undefined> =>
      db.selectFrom('ks_region').selectAll().where('id', '=', id).executeTakeFirst(),
    listRegions: (parentRegionId?: string): Promise<RegionRow[]> => {
      let q = db.selectFrom('ks_region').selectAll();
      if (parentRegionId !== undefined) q = q.where('parent_region_id', '=', parentRegionId);
      return q.orderBy('id').execute();
    },
    insertRegion: async (row: RegionRow) => {
      await db.insertInto('ks_region').values(row).execute();
    },
    updateRegion: async (id: string, changes: Partial<RegionRow>) => {
      await db.updateTable('ks_region').set(changes).where('id', '=', id).execute();
    },
    deleteRegion: async (id: string) => {
      await db.deleteFrom('ks_region').where('id', '=', id).execute();
    },

    getService: (id: string): Promise<ServiceRow | undefined> =>
      db.selectFrom('ks_service').selectAll().where('id', '=', id).executeTakeFirst(),
    listServices: (filters: { type?: string; name?: string } = {}): Promise<ServiceRow[]> => {
      let q = db.selectFrom('ks_service').selectAll();
      if (filters.type !== undefined) q = q.where('type', '=', filters.type);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      return q.orderBy('type').execute();
    },
    insertService: async (row: ServiceRow) => {
      await db.insertInto('ks_service').values(row).execute();
    },
    updateService: async (id: string, changes: Partial<ServiceRow>) => {
      await db.updateTable('ks_service').set(changes).where('id', '=', id).execute();
    },
    deleteService: async (id: string) => {
      await db.deleteFrom('ks_endpoint').where('service_id', '=', id).execute();
      await db.deleteFrom('ks_service').where('id', '=', id).execute();
    },

    getEndpoint: (id: string): Promise<EndpointRow | undefined> =>
      db.selectFrom('ks_endpoint').selectAll().where('id', '=', id).executeTakeFirst(),
    listEndpoints: (filters: { serviceId?: string; interface?: string; regionId?: string } = {}): Promise<EndpointRow[]> => {
      let q = db.selectFrom('ks_endpoint').selectAll();
      if (filters.serviceId !== undefined) q = q.where('service_id', '=', filters.serviceId);
      if (filters.interface !== undefined) q = q.where('interface', '=', filters.interface);
      if (filters.regionId !== undefined) q = q.where('region_id', '=', filters.regionId);
      return q.execute();
    },
    insertEndpoint: async (row: EndpointRow) => {
      await db.insertInto('ks_endpoint').values(row).execute();
    },
    updateEndpoint: async (id: string, changes: Partial<EndpointRow>) => {
      await db.updateTable('ks_endpoint').set(changes).where('id', '=', id).execute();
    },
    deleteEndpoint: async (id: string) => {
      await db.deleteFrom('ks_project_endpoint').where('endpoint_id', '=', id).execute();
      await db.deleteFrom('ks_endpoint').where('id', '=', id).execute();
    },
  };
}

export type CatalogRepo = ReturnType<typeof createCatalogRepo>;
