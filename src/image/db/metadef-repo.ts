import type { ImageDb } from './image-db.js';
import type { MdItemRow, MdNamespaceRow, MdNsResourceTypeRow, MdResourceTypeRow } from './tables.js';

/** Metadata definitions: namespaces, resource types and their associations, properties/objects/tags. */
export function createMetadefRepo(db: ImageDb) {
  return {
    async namespace(name: string): Promise<MdNamespaceRow | undefined> {
      return db.selectFrom('img_md_namespace').selectAll().where('namespace', '=', name).executeTakeFirst();
    },
    async namespaces(): Promise<MdNamespaceRow[]> {
      return db.selectFrom('img_md_namespace').selectAll().orderBy('namespace').execute();
    },
    async insertNamespace(row: MdNamespaceRow): Promise<void> {
      await db.insertInto('img_md_namespace').values(row).execute();
    },
    async updateNamespace(id: string, changes: Partial<MdNamespaceRow>): Promise<void> {
      await db.updateTable('img_md_namespace').set(changes).where('id', '=', id).execute();
    },
    async deleteNamespace(id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('img_md_item').where('namespace_id', '=', id).execute();
        await trx.deleteFrom('img_md_ns_resource_type').where('namespace_id', '=', id).execute();
        await trx.deleteFrom('img_md_namespace').where('id', '=', id).execute();
      });
    },

    async resourceTypes(): Promise<MdResourceTypeRow[]> {
      return db.selectFrom('img_md_resource_type').selectAll().orderBy('name').execute();
    },
    async ensureResourceType(name: string, now: string, isProtected = false): Promise<void> {
      await db
        .insertInto('img_md_resource_type')
        .values({ name, protected: isProtected ? 1 : 0, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },
    async associations(namespaceIds: string[]): Promise<MdNsResourceTypeRow[]> {
      if (!namespaceIds.length) return [];
      return db.selectFrom('img_md_ns_resource_type').selectAll().where('namespace_id', 'in', namespaceIds).orderBy('resource_type').execute();
    },
    async association(namespaceId: string, resourceType: string): Promise<MdNsResourceTypeRow | undefined> {
      return db
        .selectFrom('img_md_ns_resource_type')
        .selectAll()
        .where('namespace_id', '=', namespaceId)
        .where('resource_type', '=', resourceType)
        .executeTakeFirst();
    },
    async insertAssociation(row: MdNsResourceTypeRow): Promise<void> {
      await db.insertInto('img_md_ns_resource_type').values(row).execute();
    },
    async deleteAssociation(namespaceId: string, resourceType: string): Promise<boolean> {
      const r = await db
        .deleteFrom('img_md_ns_resource_type')
        .where('namespace_id', '=', namespaceId)
        .where('resource_type', '=', resourceType)
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async items(namespaceId: string, kind: MdItemRow['kind']): Promise<MdItemRow[]> {
      return db.selectFrom('img_md_item').selectAll().where('namespace_id', '=', namespaceId).where('kind', '=', kind).orderBy('name').execute();
    },
    async item(namespaceId: string, kind: MdItemRow['kind'], name: string): Promise<MdItemRow | undefined> {
      return db
        .selectFrom('img_md_item')
        .selectAll()
        .where('namespace_id', '=', namespaceId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .executeTakeFirst();
    },
    async insertItem(row: MdItemRow): Promise<void> {
      await db.insertInto('img_md_item').values(row).execute();
    },
    /** Renames and/or rewrites an item. */
    async updateItem(namespaceId: string, kind: MdItemRow['kind'], name: string, changes: Partial<MdItemRow>): Promise<void> {
      await db
        .updateTable('img_md_item')
        .set(changes)
        .where('namespace_id', '=', namespaceId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .execute();
    },
    async deleteItems(namespaceId: string, kind: MdItemRow['kind'], name?: string): Promise<number> {
      let q = db.deleteFrom('img_md_item').where('namespace_id', '=', namespaceId).where('kind', '=', kind);
      if (name !== undefined) q = q.where('name', '=', name);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type MetadefRepo = ReturnType<typeof createMetadefRepo>;
