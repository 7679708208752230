import { sql, type Expression, type SqlBool, type SelectQueryBuilder } from 'kysely';
import type { ApiError } from '../../core/errors.js';
import { invalidInput } from '../service/faults.js';
import type { NetQ } from './tables.js';

/**
 * Neutron's collection query conventions in SQL: filters on attributes
 * (repeated key = OR), tag filters, sort keys with `id` as final tie-break,
 * and keyset pagination from a marker (`page_reverse` walks backwards). The
 * base table is always aliased `t`.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Qb = SelectQueryBuilder<any, any, any>;

export type ValueType = 'string' | 'bool' | 'int';

export interface FilterDef {
  /** Column on `t` (default: the attribute name). */
  column?: string;
  type?: ValueType;
  /** A filter that is not a plain column comparison. */
  custom?: (values: string[]) => Expression<SqlBool>;
}

export interface SortDef {
  column: string;
  type: ValueType;
  nullable?: boolean;
}

export interface CollectionSpec {
  table: string;
  filters: Record<string, FilterDef>;
  sorts: Record<string, SortDef>;
  /** Supports tags / tags-any / not-tags / not-tags-any. */
  tagged: boolean;
  markerNotFound(id: string): ApiError;
}

export interface ListQuery {
  /** Attribute filters, values as sent (empty strings already dropped). */
  filters: Record<string, string[]>;
  sorts: Array<{ key: string; asc: boolean }>;
  limit?: number | undefined;
  marker?: string | undefined;
  pageReverse: boolean;
  fields?: string[] | undefined;
  /** tags, tags-any, not-tags, not-tags-any (comma-separated values split). */
  tagFilters: { all: string[]; any: string[]; notAll: string[]; notAny: string[] };
}

export function emptyQuery(): ListQuery {
  return { filters: {}, sorts: [], pageReverse: false, tagFilters: { all: [], any: [], notAll: [], notAny: [] } };
}

export function convertFilterValue(attr: string, value: string, type: ValueType): string | number {
  if (type === 'bool') {
    const v = value.toLowerCase();
    if (v === 'true' || v === '1') return 1;
    if (v === 'false' || v === '0') return 0;
    throw invalidInput(`'${value}' cannot be converted to boolean`);
  }
  if (type === 'int') {
    if (!/^-?\d+$/.test(value)) throw invalidInput(`'${value}' is not an integer`);
    return Number(value);
  }
  return value;
}

const col = (c: string) => sql.ref(c.includes('.') ? c : `t.${c}`);

function sortExpr(def: SortDef) {
  if (!def.nullable) return col(def.column);
  // NULLs sort as '' / -1 so that keyset comparisons stay total on every dialect.
  return def.type === 'string' ? sql`coalesce(${col(def.column)}, '')` : sql`coalesce(${col(def.column)}, -1)`;
}

export function applyFilters(qb: Qb, spec: CollectionSpec, query: ListQuery): Qb {
  for (const [attr, values] of Object.entries(query.filters)) {
    const def = spec.filters[attr];
    if (!def || values.length === 0) continue;
    if (def.custom) {
      qb = qb.where(def.custom(values));
      continue;
    }
    const converted = values.map((v) => convertFilterValue(attr, v, def.type ?? 'string'));
    const c = col(def.column ?? attr);
    qb = converted.length === 1 ? qb.where(c, '=', converted[0]) : qb.where(c, 'in', converted);
  }
  const tf = query.tagFilters;
  if (spec.tagged) {
    const hasTag = (tag: string) => sql<SqlBool>`exists (select 1 from net_tag g where g.resource_id = t.id and g.tag = ${tag})`;
    for (const tag of tf.all) qb = qb.where(hasTag(tag));
    if (tf.any.length) qb = qb.where(sql<SqlBool>`exists (select 1 from net_tag g where g.resource_id = t.id and g.tag in (${sql.join(tf.any)}))`);
    if (tf.notAll.length) qb = qb.where(sql<SqlBool>`not (${sql.join(tf.notAll.map(hasTag), sql` and `)})`);
    if (tf.notAny.length) {
      qb = qb.where(sql<SqlBool>`not exists (select 1 from net_tag g where g.resource_id = t.id and g.tag in (${sql.join(tf.notAny)}))`);
    }
  }
  return qb;
}

/**
 * Runs a list: `scoped` is the base query (visibility applied), to which
 * filters, order, marker and limit are added. Returns rows in API order.
 */
export async function selectPage<Row>(q: NetQ, spec: CollectionSpec, query: ListQuery, scoped: (qb: Qb) => Qb): Promise<Row[]> {
  const base = () => scoped((q as unknown as { selectFrom(t: unknown): Qb }).selectFrom(sql`${sql.table(spec.table)} as t` as never).selectAll('t'));
  const sorts = [...query.sorts.filter((s) => s.key !== 'id').map((s) => ({ def: spec.sorts[s.key]!, asc: s.asc }))];
  const idSort = query.sorts.find((s) => s.key === 'id');
  sorts.push({ def: { column: 'id', type: 'string' }, asc: idSort ? idSort.asc : true });
  const reverse = query.pageReverse;
  let qb = applyFilters(base(), spec, query);

  if (query.marker !== undefined && query.limit) {
    const marker = (await base().where('t.id', '=', query.marker).executeTakeFirst()) as Record<string, unknown> | undefined;
    if (!marker) throw spec.markerNotFound(query.marker);
    // Keyset: rows strictly after (or before, reversed) the marker in sort order.
    const ors = sorts.map((s, i) => {
      const parts = sorts.slice(0, i).map((p) => sql`${sortExpr(p.def)} = ${markerValue(marker, p.def)}`);
      const forward = s.asc !== reverse;
      parts.push(forward ? sql`${sortExpr(s.def)} > ${markerValue(marker, s.def)}` : sql`${sortExpr(s.def)} < ${markerValue(marker, s.def)}`);
      return sql`(${sql.join(parts, sql` and `)})`;
    });
    qb = qb.where(sql<SqlBool>`(${sql.join(ors, sql` or `)})`);
  }
  for (const s of sorts) qb = qb.orderBy(sortExpr(s.def), s.asc !== reverse ? 'asc' : 'desc');
  if (query.limit) qb = qb.limit(query.limit);
  const rows = (await qb.execute()) as Row[];
  return reverse ? rows.reverse() : rows;
}

function markerValue(marker: Record<string, unknown>, def: SortDef): unknown {
  const v = marker[def.column.includes('.') ? def.column.split('.').pop()! : def.column];
  if (v === null || v === undefined) return def.type === 'string' ? '' : -1;
  return v;
}

/** One row by id through a visibility scope (undefined when missing or invisible). */
export async function findVisible<Row>(q: NetQ, table: string, scope: (qb: Qb) => Qb, id: string): Promise<Row | undefined> {
  const base = (q as unknown as { selectFrom(t: unknown): Qb }).selectFrom(sql`${sql.table(table)} as t` as never).selectAll('t');
  return (await scope(base).where('t.id', '=', id).executeTakeFirst()) as Row | undefined;
}
