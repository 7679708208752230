import type { Db } from './resource-repo.js';
import type { EncryptionRow, VolumeTypeRow } from './tables.js';

/** Volume types with their extra specs, project access, encryption and the per-project default types. */
export function createTypeRepo(db: Db) {
  return {
    async insert(row: VolumeTypeRow, specs: Record<string, string>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('vol_types').values(row).execute();
        const rows = Object.entries(specs).map(([key, value]) => ({ type_id: row.id, key, value }));
        if (rows.length) await trx.insertInto('vol_type_extra_specs').values(rows).execute();
      });
    },
    async get(id: string): Promise<VolumeTypeRow | undefined> {
      return db.selectFrom('vol_types').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async getByName(name: string): Promise<VolumeTypeRow | undefined> {
      return db.selectFrom('vol_types').selectAll().where('name', '=', name).executeTakeFirst();
    },
    async list(): Promise<VolumeTypeRow[]> {
      return db.selectFrom('vol_types').selectAll().orderBy('name').execute();
    },
    async update(id: string, patch: Partial<VolumeTypeRow>): Promise<void> {
      await db.updateTable('vol_types').set(patch).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('vol_type_extra_specs').where('type_id', '=', id).execute();
        await trx.deleteFrom('vol_type_access').where('type_id', '=', id).execute();
        await trx.deleteFrom('vol_type_encryption').where('type_id', '=', id).execute();
        await trx.deleteFrom('vol_types').where('id', '=', id).execute();
      });
    },
    async specs(id: string): Promise<Record<string, string>> {
      const rows = await db.selectFrom('vol_type_extra_specs').select(['key', 'value']).where('type_id', '=', id).execute();
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
    async specsOf(ids: string[]): Promise<Map<string, Record<string, string>>> {
      const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
      if (!ids.length) return out;
      for (const r of await db.selectFrom('vol_type_extra_specs').selectAll().where('type_id', 'in', ids).execute()) out.get(r.type_id)![r.key] = r.value;
      return out;
    },
    async setSpecs(id: string, specs: Record<string, string>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const keys = Object.keys(specs);
        if (keys.length) await trx.deleteFrom('vol_type_extra_specs').where('type_id', '=', id).where('key', 'in', keys).execute();
        const rows = Object.entries(specs).map(([key, value]) => ({ type_id: id, key, value }));
        if (rows.length) await trx.insertInto('vol_type_extra_specs').values(rows).execute();
      });
    },
    async deleteSpec(id: string, key: string): Promise<boolean> {
      const r = await db.deleteFrom('vol_type_extra_specs').where('type_id', '=', id).where('key', '=', key).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async accessList(id: string): Promise<string[]> {
      return (await db.selectFrom('vol_type_access').select('project_id').where('type_id', '=', id).execute()).map((r) => r.project_id);
    },
    async projectTypeIds(projectId: string): Promise<string[]> {
      return (await db.selectFrom('vol_type_access').select('type_id').where('project_id', '=', projectId).execute()).map((r) => r.type_id);
    },
    async addAccess(id: string, projectId: string): Promise<void> {
      await db.insertInto('vol_type_access').values({ type_id: id, project_id: projectId }).execute();
    },
    async removeAccess(id: string, projectId: string): Promise<boolean> {
      const r = await db.deleteFrom('vol_type_access').where('type_id', '=', id).where('project_id', '=', projectId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async encryption(id: string): Promise<EncryptionRow | undefined> {
      return db.selectFrom('vol_type_encryption').selectAll().where('type_id', '=', id).executeTakeFirst();
    },
    async insertEncryption(row: EncryptionRow): Promise<void> {
      await db.insertInto('vol_type_encryption').values(row).execute();
    },
    async updateEncryption(id: string, patch: Partial<EncryptionRow>): Promise<void> {
      await db.updateTable('vol_type_encryption').set(patch).where('type_id', '=', id).execute();
    },
    async deleteEncryption(id: string): Promise<void> {
      await db.deleteFrom('vol_type_encryption').where('type_id', '=', id).execute();
    },
    async defaultTypeOf(projectId: string): Promise<string | undefined> {
      return (await db.selectFrom('vol_default_types').select('volume_type_id').where('project_id', '=', projectId).executeTakeFirst())?.volume_type_id;
    },
    async listDefaultTypes(): Promise<Array<{ project_id: string; volume_type_id: string }>> {
      return db.selectFrom('vol_default_types').selectAll().execute();
    },
    async setDefaultType(projectId: string, typeId: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('vol_default_types').where('project_id', '=', projectId).execute();
        await trx.insertInto('vol_default_types').values({ project_id: projectId, volume_type_id: typeId }).execute();
      });
    },
    async deleteDefaultType(projectId: string): Promise<boolean> {
      const r = await db.deleteFrom('vol_default_types').where('project_id', '=', projectId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async typeInUse(id: string): Promise<boolean> {
      const v = await db.selectFrom('vol_volumes').select('id').where('volume_type_id', '=', id).limit(1).executeTakeFirst();
      if (v) return true;
      const g = await db.selectFrom('vol_group_volume_types').select('group_id').where('volume_type_id', '=', id).limit(1).executeTakeFirst();
      return Boolean(g);
    },
  };
}
export type TypeRepo = ReturnType<typeof createTypeRepo>;
