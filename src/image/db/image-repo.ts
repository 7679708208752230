import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { ImageDb } from './image-db.js';
import type { ImageRow, ImageStatus, ImageTables, MemberStatus, Visibility } from './tables.js';

export type SortKey = 'name' | 'status' | 'container_format' | 'disk_format' | 'size' | 'id' | 'created_at' | 'updated_at';
export type SortDir = 'asc' | 'desc';
export type FilterOp = 'eq' | 'neq' | 'in' | 'gt' | 'gte' | 'lt' | 'lte';

/** Base columns that list filters may compare. */
export type FilterColumn = Exclude<keyof ImageRow, 'deleted' | 'deleted_at'>;

export interface ColumnFilter {
  column: FilterColumn;
  op: FilterOp;
  values: Array<string | number>;
}

/** What the caller may see (Glance's `_select_images_query`). */
export interface ListScope {
  admin: boolean;
  projectId: string | null;
}

export interface ImageListQuery {
  scope: ListScope;
  visibility?: Visibility | 'all' | undefined;
  memberStatus: MemberStatus | 'all';
  columns: ColumnFilter[];
  properties: Array<{ name: string; value: string }>;
  tags: string[];
  sort: Array<{ key: SortKey; dir: SortDir }>;
  limit: number;
  marker?: ImageRow | undefined;
}

type EB = ExpressionBuilder<ImageTables, 'img_image'>;

const NULLABLE_TEXT = new Set<SortKey>(['name', 'container_format', 'disk_format']);

/** Sort expression with nulls folded to a fixed value, so every dialect orders (and pages) them alike. */
function sortExpr(eb: EB, key: SortKey): Expression<unknown> {
  if (key === 'size') return eb.fn.coalesce('img_image.size', eb.val(-1));
  if (NULLABLE_TEXT.has(key)) return eb.fn.coalesce(`img_image.${key}` as 'img_image.name', eb.val(''));
  return eb.ref(`img_image.${key}`);
}

function markerValue(marker: ImageRow, key: SortKey): string | number {
  if (key === 'size') return marker.size ?? -1;
  const v = marker[key];
  return v ?? '';
}

/** Images, their properties, tags and store locations. */
export function createImageRepo(db: ImageDb) {
  return {
    async get(id: string, options: { includeDeleted?: boolean } = {}): Promise<ImageRow | undefined> {
      let q = db.selectFrom('img_image').selectAll().where('id', '=', id);
      if (!options.includeDeleted) q = q.where('deleted', '=', 0);
      return q.executeTakeFirst();
    },

    async insert(row: ImageRow, properties: Record<string, string>, tags: string[]): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('img_image').values(row).execute();
        const props = Object.entries(properties);
        if (props.length) await trx.insertInto('img_property').values(props.map(([name, value]) => ({ image_id: row.id, name, value }))).execute();
        const unique = [...new Set(tags)];
        if (unique.length) await trx.insertInto('img_tag').values(unique.map((value) => ({ image_id: row.id, value }))).execute();
      });
    },

    /**
     * Applies changes; when `fromStatus` is given the row must still be in one
     * of those statuses (an atomic status transition). Returns whether a row changed.
     */
    async update(id: string, changes: Partial<ImageRow>, fromStatus?: ImageStatus[]): Promise<boolean> {
      let q = db.updateTable('img_image').set(changes).where('id', '=', id).where('deleted', '=', 0);
      if (fromStatus) q = q.where('status', 'in', fromStatus);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    /**
     * Applies a PATCH in one transaction: only the columns, properties and
     * tags it changed are written, so work going on meanwhile (an upload
     * finishing, an import task writing its properties) is not undone by a
     * stale copy. With `whileStatus`, the image must still be in one of those
     * statuses (disk/container format changes are only allowed while queued).
     */
    async save(
      id: string,
      changes: Partial<ImageRow>,
      properties: { set: Record<string, string>; remove: string[] },
      tags: { add: string[]; remove: string[] },
      whileStatus?: ImageStatus[],
    ): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        let q = trx.updateTable('img_image').set(changes).where('id', '=', id).where('deleted', '=', 0);
        if (whileStatus) q = q.where('status', 'in', whileStatus);
        const r = await q.executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        const touched = [...properties.remove, ...Object.keys(properties.set)];
        if (touched.length) await trx.deleteFrom('img_property').where('image_id', '=', id).where('name', 'in', touched).execute();
        const set = Object.entries(properties.set);
        if (set.length) await trx.insertInto('img_property').values(set.map(([name, value]) => ({ image_id: id, name, value }))).execute();
        if (tags.remove.length) await trx.deleteFrom('img_tag').where('image_id', '=', id).where('value', 'in', tags.remove).execute();
        for (const value of new Set(tags.add)) {
          await trx
            .insertInto('img_tag')
            .values({ image_id: id, value })
            .onConflict((oc) => oc.columns(['image_id', 'value']).doNothing())
            .execute();
        }
        return true;
      });
    },

    /** Soft-deletes the image; its tags, members, properties and locations go. */
    async markDeleted(id: string, now: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable('img_image')
          .set({ deleted: 1, deleted_at: now, status: 'deleted', updated_at: now })
          .where('id', '=', id)
          .where('deleted', '=', 0)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) return false;
        await trx.deleteFrom('img_tag').where('image_id', '=', id).execute();
        await trx.deleteFrom('img_member').where('image_id', '=', id).execute();
        await trx.deleteFrom('img_location').where('image_id', '=', id).execute();
        return true;
      });
    },

    async properties(id: string): Promise<Record<string, string>> {
      const rows = await db.selectFrom('img_property').select(['name', 'value']).where('image_id', '=', id).execute();
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    },

    async propertiesFor(ids: string[]): Promise<Map<string, Record<string, string>>> {
      const out = new Map<string, Record<string, string>>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('img_property').selectAll().where('image_id', 'in', ids).execute();
      for (const r of rows) {
        const p = out.get(r.image_id) ?? {};
        p[r.name] = r.value;
        out.set(r.image_id, p);
      }
      return out;
    },

    async setProperty(id: string, name: string, value: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('img_property').where('image_id', '=', id).where('name', '=', name).execute();
        await trx.insertInto('img_property').values({ image_id: id, name, value }).execute();
      });
    },

    /** Inserts a property that must not exist yet (a lock); false when it exists. */
    async claimProperty(id: string, name: string, value: string): Promise<boolean> {
      try {
        await db.insertInto('img_property').values({ image_id: id, name, value }).execute();
        return true;
      } catch {
        return false;
      }
    },

    async deleteProperty(id: string, name: string, onlyIfValue?: string): Promise<void> {
      let q = db.deleteFrom('img_property').where('image_id', '=', id).where('name', '=', name);
      if (onlyIfValue !== undefined) q = q.where('value', '=', onlyIfValue);
      await q.execute();
    },

    async tags(id: string): Promise<string[]> {
      const rows = await db.selectFrom('img_tag').select('value').where('image_id', '=', id).orderBy('value').execute();
      return rows.map((r) => r.value);
    },

    async tagsFor(ids: string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('img_tag').selectAll().where('image_id', 'in', ids).orderBy('value').execute();
      for (const r of rows) out.set(r.image_id, [...(out.get(r.image_id) ?? []), r.value]);
      return out;
    },

    async addTag(id: string, value: string): Promise<void> {
      await db
        .insertInto('img_tag')
        .values({ image_id: id, value })
        .onConflict((oc) => oc.columns(['image_id', 'value']).doNothing())
        .execute();
    },

    async removeTag(id: string, value: string): Promise<boolean> {
      const r = await db.deleteFrom('img_tag').where('image_id', '=', id).where('value', '=', value).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },

    async locations(id: string): Promise<string[]> {
      const rows = await db.selectFrom('img_location').select('store_id').where('image_id', '=', id).orderBy('store_id').execute();
      return rows.map((r) => r.store_id);
    },

    async locationsFor(ids: string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (!ids.length) return out;
      const rows = await db.selectFrom('img_location').selectAll().where('image_id', 'in', ids).orderBy('store_id').execute();
      for (const r of rows) out.set(r.image_id, [...(out.get(r.image_id) ?? []), r.store_id]);
      return out;
    },

    async addLocation(id: string, storeId: string, now: string): Promise<void> {
      await db
        .insertInto('img_location')
        .values({ image_id: id, store_id: storeId, created_at: now })
        .onConflict((oc) => oc.columns(['image_id', 'store_id']).doNothing())
        .execute();
    },

    async removeLocation(id: string, storeId: string): Promise<void> {
      await db.deleteFrom('img_location').where('image_id', '=', id).where('store_id', '=', storeId).execute();
    },

    /** Every image id the database knows (deleted ones too), for orphan-file detection. */
    async idsWithLocation(storeId: string): Promise<Set<string>> {
      const rows = await db.selectFrom('img_location').select('image_id').where('store_id', '=', storeId).execute();
      return new Set(rows.map((r) => r.image_id));
    },

    async inStatus(statuses: ImageStatus[]): Promise<ImageRow[]> {
      return db.selectFrom('img_image').selectAll().where('deleted', '=', 0).where('status', 'in', statuses).execute();
    },

    async findByName(name: string): Promise<ImageRow[]> {
      return db.selectFrom('img_image').selectAll().where('deleted', '=', 0).where('name', '=', name).execute();
    },

    /** Usage figures of a project for its quotas. */
    async usage(owner: string): Promise<{ count: number; sizeBytes: number; stagingBytes: number; uploading: number }> {
      const rows = await db
        .selectFrom('img_image')
        .select(['status', 'size', 'id'])
        .where('owner', '=', owner)
        .where('deleted', '=', 0)
        .where('status', '!=', 'killed')
        .execute();
      const copies = await db
        .selectFrom('img_location')
        .innerJoin('img_image', 'img_image.id', 'img_location.image_id')
        .select(['img_location.image_id'])
        .where('img_image.owner', '=', owner)
        .where('img_image.deleted', '=', 0)
        .execute();
      const perImage = new Map<string, number>();
      for (const c of copies) perImage.set(c.image_id, (perImage.get(c.image_id) ?? 0) + 1);
      let sizeBytes = 0;
      let stagingBytes = 0;
      let uploading = 0;
      for (const r of rows) {
        sizeBytes += (r.size ?? 0) * (perImage.get(r.id) ?? 0);
        if (r.status === 'uploading' || r.status === 'importing') stagingBytes += r.size ?? 0;
        if (r.status === 'saving' || r.status === 'uploading' || r.status === 'importing') uploading++;
      }
      return { count: rows.length, sizeBytes, stagingBytes, uploading };
    },

    /** Whether a project may see a shared image through a membership (any status). */
    async list(query: ImageListQuery): Promise<ImageRow[]> {
      const { scope } = query;
      let q = db.selectFrom('img_image').selectAll('img_image').where('img_image.deleted', '=', 0).where('img_image.status', '!=', 'killed');

      if (!scope.admin) {
        q = q.where((eb) => {
          const memberCond = (() => {
            let m = eb
              .selectFrom('img_member')
              .select('img_member.image_id')
              .whereRef('img_member.image_id', '=', 'img_image.id')
              .where('img_member.member', '=', scope.projectId ?? '');
            if (query.memberStatus !== 'all') m = m.where('img_member.status', '=', query.memberStatus);
            return eb.and([eb('img_image.visibility', '=', 'shared'), eb.exists(m)]);
          })();
          const ors: Expression<SqlBool>[] = [eb('img_image.visibility', 'in', ['public', 'community'])];
          if (scope.projectId) ors.push(eb('img_image.owner', '=', scope.projectId), memberCond);
          return eb.or(ors);
        });
      }

      if (query.visibility !== undefined) {
        if (query.visibility !== 'all') q = q.where('img_image.visibility', '=', query.visibility);
      } else if (scope.projectId === null) {
        q = q.where('img_image.visibility', '!=', 'community');
      } else {
        const owner = scope.projectId;
        q = q.where((eb) => eb.or([eb('img_image.owner', '=', owner), eb('img_image.visibility', '!=', 'community')]));
      }

      for (const f of query.columns) {
        const col = `img_image.${f.column}` as const;
        q = q.where((eb) => {
          const ref = eb.ref(col);
          switch (f.op) {
            case 'in':
              return f.values.length ? eb(ref, 'in', f.values) : eb.val(false);
            case 'eq':
              return eb(ref, '=', f.values[0]!);
            case 'neq':
              return eb(ref, '!=', f.values[0]!);
            case 'gt':
              return eb(ref, '>', f.values[0]!);
            case 'gte':
              return eb(ref, '>=', f.values[0]!);
            case 'lt':
              return eb(ref, '<', f.values[0]!);
            case 'lte':
              return eb(ref, '<=', f.values[0]!);
          }
        });
      }
      for (const p of query.properties) {
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('img_property')
              .select('img_property.image_id')
              .whereRef('img_property.image_id', '=', 'img_image.id')
              .where('img_property.name', '=', p.name)
              .where('img_property.value', '=', p.value),
          ),
        );
      }
      for (const t of query.tags) {
        q = q.where((eb) =>
          eb.exists(
            eb.selectFrom('img_tag').select('img_tag.image_id').whereRef('img_tag.image_id', '=', 'img_image.id').where('img_tag.value', '=', t),
          ),
        );
      }

      const sort = [...query.sort];
      const defaultDir = sort[0]?.dir ?? 'desc';
      for (const k of ['created_at', 'id'] as const) if (!sort.some((s) => s.key === k)) sort.push({ key: k, dir: defaultDir });

      const marker = query.marker;
      if (marker) {
        // Keyset pagination: rows strictly after the marker in the sort order.
        q = q.where((eb) =>
          eb.or(
            sort.map((s, i) => {
              const eqs = sort.slice(0, i).map((p) => eb(sortExpr(eb, p.key), '=', markerValue(marker, p.key)));
              const cmp = eb(sortExpr(eb, s.key), s.dir === 'asc' ? '>' : '<', markerValue(marker, s.key));
              return eb.and([...eqs, cmp]);
            }),
          ),
        );
      }
      for (const s of sort) q = q.orderBy((eb) => sortExpr(eb, s.key), s.dir);
      return q.limit(query.limit).execute();
    },
  };
}

export type ImageRepo = ReturnType<typeof createImageRepo>;
