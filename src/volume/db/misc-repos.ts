import type { Db } from './resource-repo.js';
import type { GroupTypeRow, QosSpecsRow, ServiceRow } from './tables.js';

/** QoS specs (admin objects, few): name unique, specs as JSON. */
export function createQosRepo(db: Db) {
  return {
    insert: async (row: QosSpecsRow) => void (await db.insertInto('vol_qos_specs').values(row).execute()),
    get: (id: string) => db.selectFrom('vol_qos_specs').selectAll().where('id', '=', id).executeTakeFirst(),
    list: () => db.selectFrom('vol_qos_specs').selectAll().orderBy('created_at').orderBy('id').execute(),
    update: async (id: string, patch: Partial<QosSpecsRow>) => void (await db.updateTable('vol_qos_specs').set(patch).where('id', '=', id).execute()),
    delete: async (id: string) => void (await db.deleteFrom('vol_qos_specs').where('id', '=', id).execute()),
    associatedTypes: (id: string) => db.selectFrom('vol_types').select(['id', 'name']).where('qos_specs_id', '=', id).execute(),
  };
}
export type QosRepo = ReturnType<typeof createQosRepo>;

/** Cinder's services table: API-visible services with heartbeats, and each volume backend's reported capabilities. */
export function createServiceRepo(db: Db) {
  return {
    list: () => db.selectFrom('vol_services').selectAll().orderBy('binary').orderBy('host').execute(),
    get: (host: string, binary: string) => db.selectFrom('vol_services').selectAll().where('host', '=', host).where('binary', '=', binary).executeTakeFirst(),
    insert: async (row: ServiceRow) => void (await db.insertInto('vol_services').values(row).execute()),
    update: async (id: string, patch: Partial<ServiceRow>) => void (await db.updateTable('vol_services').set(patch).where('id', '=', id).execute()),
  };
}
export type ServiceRepo = ReturnType<typeof createServiceRepo>;

/** Group types with their group specs. */
export function createGroupTypeRepo(db: Db) {
  return {
    async insert(row: GroupTypeRow, specs: Record<string, string>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('vol_group_types').values(row).execute();
        const rows = Object.entries(specs).map(([key, value]) => ({ group_type_id: row.id, key, value }));
        if (rows.length) await trx.insertInto('vol_group_type_specs').values(rows).execute();
      });
    },
    get: (id: string) => db.selectFrom('vol_group_types').selectAll().where('id', '=', id).executeTakeFirst(),
    getByName: (name: string) => db.selectFrom('vol_group_types').selectAll().where('name', '=', name).executeTakeFirst(),
    list: () => db.selectFrom('vol_group_types').selectAll().orderBy('created_at').orderBy('id').execute(),
    update: async (id: string, patch: Partial<GroupTypeRow>) => void (await db.updateTable('vol_group_types').set(patch).where('id', '=', id).execute()),
    async delete(id: string): Promise<void> {
      await db.deleteFrom('vol_group_type_specs').where('group_type_id', '=', id).execute();
      await db.deleteFrom('vol_group_types').where('id', '=', id).execute();
    },
    async specs(id: string): Promise<Record<string, string>> {
      const rows = await db.selectFrom('vol_group_type_specs').select(['key', 'value']).where('group_type_id', '=', id).execute();
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
    async setSpecs(id: string, specs: Record<string, string>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const keys = Object.keys(specs);
        if (keys.length) await trx.deleteFrom('vol_group_type_specs').where('group_type_id', '=', id).where('key', 'in', keys).execute();
        const rows = Object.entries(specs).map(([key, value]) => ({ group_type_id: id, key, value }));
        if (rows.length) await trx.insertInto('vol_group_type_specs').values(rows).execute();
      });
    },
    async deleteSpec(id: string, key: string): Promise<boolean> {
      const r = await db.deleteFrom('vol_group_type_specs').where('group_type_id', '=', id).where('key', '=', key).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async inUse(id: string): Promise<boolean> {
      return Boolean(await db.selectFrom('vol_groups').select('id').where('group_type_id', '=', id).limit(1).executeTakeFirst());
    },
    async groupVolumeTypes(groupId: string): Promise<string[]> {
      return (await db.selectFrom('vol_group_volume_types').select('volume_type_id').where('group_id', '=', groupId).execute()).map((r) => r.volume_type_id);
    },
    async setGroupVolumeTypes(groupId: string, typeIds: string[]): Promise<void> {
      await db.deleteFrom('vol_group_volume_types').where('group_id', '=', groupId).execute();
      if (typeIds.length) await db.insertInto('vol_group_volume_types').values(typeIds.map((t) => ({ group_id: groupId, volume_type_id: t }))).execute();
    },
  };
}
export type GroupTypeRepo = ReturnType<typeof createGroupTypeRepo>;
