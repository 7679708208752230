import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';

export type SortDir = 'asc' | 'desc';
export interface SortKey {
  /** Column name (already mapped from the API's key, e.g. display_name → name). */
  column: string;
  dir: SortDir;
}

export interface PageRequest {
  sort: SortKey[];
  limit?: number;
  offset?: number;
  /** The row the previous page ended with (all sort columns present). */
  marker?: Record<string, unknown>;
}

/**
 * Sorting and keyset pagination shared by every Cinder list. Nullable text
 * columns sort as '' so every dialect orders NULLs alike; `id` always ends the
 * key so the order is total and a marker names one position.
 */
export function applyPage<DB, TB extends keyof DB, O>(
  qb: SelectQueryBuilder<DB, TB, O>,
  table: string,
  page: PageRequest,
  nullable: ReadonlySet<string>,
): SelectQueryBuilder<DB, TB, O> {
  const keys = withTieBreaker(page.sort);
  const colExpr = (c: string) =>
    nullable.has(c) ? sql`coalesce(${sql.ref(`${table}.${c}`)}, '')` : sql`${sql.ref(`${table}.${c}`)}`;
  if (page.marker) {
    const marker = page.marker;
    const value = (c: string) => {
      const v = marker[c];
      return nullable.has(c) ? (v ?? '') : v;
    };
    // (k1 > m1) OR (k1 = m1 AND k2 > m2) OR … in each key's direction.
    const ors = keys.map((k, i) => {
      const eqs = keys.slice(0, i).map((p) => sql`${colExpr(p.column)} = ${value(p.column)}`);
      const cmp = k.dir === 'asc' ? sql`${colExpr(k.column)} > ${value(k.column)}` : sql`${colExpr(k.column)} < ${value(k.column)}`;
      return sql.join([...eqs, cmp], sql` and `);
    });
    qb = qb.where(sql<SqlBool>`(${sql.join(ors.map((o) => sql`(${o})`), sql` or `)})` as unknown as Expression<SqlBool>) as typeof qb;
  }
  for (const k of keys) qb = qb.orderBy(colExpr(k.column) as never, k.dir);
  if (page.limit !== undefined) qb = qb.limit(page.limit);
  if (page.offset) {
    if (page.limit === undefined) qb = qb.limit(1_000_000_000);
    qb = qb.offset(page.offset);
  }
  return qb;
}

export function withTieBreaker(sort: SortKey[]): SortKey[] {
  const keys = [...sort];
  const dir = keys[0]?.dir ?? 'desc';
  if (!keys.some((k) => k.column === 'created_at')) keys.push({ column: 'created_at', dir });
  if (!keys.some((k) => k.column === 'id')) keys.push({ column: 'id', dir });
  return keys;
}
