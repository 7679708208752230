import { sql, type Kysely, type SqlBool } from 'kysely';
import { isoNow } from '../../core/ids.js';
import { applyPage, type PageRequest } from './list-query.js';
import type { VolumeTables } from './tables.js';

export type Db = Kysely<VolumeTables>;

/** Filters a list understands: exact column matches, `~` substring matches, metadata key/values, owner. */
export interface ListFilter {
  projectId?: string;
  eq?: Record<string, string | number | null | Array<string | number>>;
  like?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Extra raw condition (e.g. hiding migration targets). */
  where?: ReturnType<typeof sql<SqlBool>>;
}

type Tables = 'vol_volumes' | 'vol_snapshots' | 'vol_backups' | 'vol_groups' | 'vol_group_snapshots' | 'vol_transfers' | 'vol_messages' | 'vol_attachments';

/**
 * The operations every Cinder resource table shares. Status changes go
 * through `transition`, a conditional UPDATE, so two racing requests cannot
 * both move a resource out of the same state.
 */
export function createResourceRepo<T extends Tables>(db: Db, table: T, options: { metadataType?: string; nullable: ReadonlySet<string>; timestamps?: boolean }) {
  type Row = VolumeTables[T];
  // Generic over the table: Kysely's static typing cannot follow a table name type parameter.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const anyDb = db as unknown as Kysely<any>;
  const t = table as string;
  const stamp = (patch: Partial<Row>) => (options.timestamps === false ? patch : { updated_at: isoNow(), ...patch });

  function filtered(f: ListFilter) {
    let qb = anyDb.selectFrom(t);
    if (f.projectId !== undefined) qb = qb.where(`${t}.project_id`, '=', f.projectId);
    for (const [col, v] of Object.entries(f.eq ?? {})) {
      if (v === null) qb = qb.where(`${t}.${col}`, 'is', null);
      else if (Array.isArray(v)) qb = v.length ? qb.where(`${t}.${col}`, 'in', v) : qb.where(sql<SqlBool>`1 = 0`);
      else qb = qb.where(`${t}.${col}`, '=', v);
    }
    for (const [col, v] of Object.entries(f.like ?? {})) {
      qb = qb.where(sql<SqlBool>`lower(coalesce(${sql.ref(`${table}.${col}`)}, '')) like ${`%${v.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`} escape '\\'`);
    }
    for (const [k, v] of Object.entries(f.metadata ?? {})) {
      qb = qb.where(({ exists, selectFrom }: { exists: any; selectFrom: any }) => // eslint-disable-line @typescript-eslint/no-explicit-any

        exists(
          selectFrom('vol_metadata')
            .select('vol_metadata.key')
            .where('vol_metadata.resource_type', '=', options.metadataType ?? table)
            .whereRef('vol_metadata.resource_id', '=', `${table}.id`)
            .where('vol_metadata.key', '=', k)
            .where('vol_metadata.value', '=', v),
        ),
      );
    }
    if (f.where) qb = qb.where(f.where);
    return qb;
  }

  return {
    async insert(row: Row): Promise<void> {
      await anyDb.insertInto(t).values(row as unknown as Record<string, unknown>).execute();
    },
    async get(id: string): Promise<Row | undefined> {
      return (await anyDb.selectFrom(t).selectAll().where('id', '=', id).executeTakeFirst()) as Row | undefined;
    },
    async update(id: string, patch: Partial<Row>): Promise<void> {
      await anyDb.updateTable(t).set(stamp(patch) as Record<string, unknown>).where('id', '=', id).execute();
    },
    /** Applies `patch` only if the row's status is one of `from`; true when it did. */
    async transition(id: string, from: readonly string[], patch: Partial<Row>, extra?: Record<string, unknown>): Promise<boolean> {
      let qb = anyDb.updateTable(t).set(stamp(patch) as Record<string, unknown>).where('id', '=', id).where('status', 'in', [...from]);
      for (const [k, v] of Object.entries(extra ?? {})) qb = v === null ? qb.where(k, 'is', null) : qb.where(k, '=', v);
      const r = await qb.executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async delete(id: string): Promise<boolean> {
      const r = await anyDb.deleteFrom(t).where('id', '=', id).executeTakeFirst();
      if (options.metadataType) await db.deleteFrom('vol_metadata').where('resource_type', '=', options.metadataType).where('resource_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    },
    async list(f: ListFilter, page: PageRequest): Promise<Row[]> {
      return (await applyPage(filtered(f).selectAll(t), table, page, options.nullable).execute()) as unknown as Row[];
    },
    async count(f: ListFilter): Promise<number> {
      const r = await filtered(f).select(sql<number>`count(*)`.as('n')).executeTakeFirst();
      return Number((r as { n: number } | undefined)?.n ?? 0);
    },
    async sum(f: ListFilter, column: string): Promise<number> {
      const r = await filtered(f).select(sql<number>`coalesce(sum(${sql.ref(`${table}.${column}`)}), 0)`.as('n')).executeTakeFirst();
      return Number((r as { n: number } | undefined)?.n ?? 0);
    },
    async all(f: ListFilter): Promise<Row[]> {
      return (await filtered(f).selectAll(t).execute()) as unknown as Row[];
    },
  };
}
export type ResourceRepo<T extends Tables> = ReturnType<typeof createResourceRepo<T>>;

/** User metadata of volumes, snapshots and backups (key/value rows, so lists can filter on them in SQL). */
export function createMetadataRepo(db: Db) {
  return {
    async get(type: string, id: string): Promise<Record<string, string>> {
      const rows = await db.selectFrom('vol_metadata').select(['key', 'value']).where('resource_type', '=', type).where('resource_id', '=', id).execute();
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
    async getMany(type: string, ids: string[]): Promise<Map<string, Record<string, string>>> {
      const out = new Map<string, Record<string, string>>(ids.map((id) => [id, {}]));
      if (!ids.length) return out;
      const rows = await db.selectFrom('vol_metadata').selectAll().where('resource_type', '=', type).where('resource_id', 'in', ids).execute();
      for (const r of rows) out.get(r.resource_id)![r.key] = r.value;
      return out;
    },
    /** Merges (replace=false) or replaces all metadata, in one transaction. */
    async set(type: string, id: string, values: Record<string, string>, replace: boolean): Promise<void> {
      await db.transaction().execute(async (trx) => {
        if (replace) await trx.deleteFrom('vol_metadata').where('resource_type', '=', type).where('resource_id', '=', id).execute();
        else if (Object.keys(values).length) {
          await trx.deleteFrom('vol_metadata').where('resource_type', '=', type).where('resource_id', '=', id).where('key', 'in', Object.keys(values)).execute();
        }
        const rows = Object.entries(values).map(([key, value]) => ({ resource_type: type, resource_id: id, key, value }));
        if (rows.length) await trx.insertInto('vol_metadata').values(rows).execute();
      });
    },
    async deleteKey(type: string, id: string, key: string): Promise<boolean> {
      const r = await db.deleteFrom('vol_metadata').where('resource_type', '=', type).where('resource_id', '=', id).where('key', '=', key).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async deleteAll(type: string, id: string): Promise<void> {
      await db.deleteFrom('vol_metadata').where('resource_type', '=', type).where('resource_id', '=', id).execute();
    },
  };
}
export type MetadataRepo = ReturnType<typeof createMetadataRepo>;
