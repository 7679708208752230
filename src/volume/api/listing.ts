import { Errors } from '../../core/errors.js';
import type { SortKey } from '../db/list-query.js';
import type { Req, VolumeApi } from './context.js';

export const MAX_LIMIT = 1000;

export interface ListParams {
  limit: number | undefined;
  offset: number | undefined;
  marker: string | undefined;
  sort: SortKey[];
  /** Every other query parameter (filters), last value wins. */
  filters: Record<string, string>;
}

const PAGING = new Set(['limit', 'offset', 'marker', 'sort', 'sort_key', 'sort_dir', 'with_count']);

export function queryValue(v: string | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function nonNegativeInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw.trim())) throw Errors.badRequest(`${name} param must be an integer`);
  return Number(raw);
}

/**
 * Cinder's paging and sorting parameters: `limit`, `marker`, `offset`,
 * `sort=k1:dir,k2` or the legacy `sort_key`/`sort_dir` (not both), keys
 * mapped through `columns` (API name → column; unknown keys are 400).
 */
export function parseListParams(req: Req, columns: Record<string, string>): ListParams {
  const q = req.query;
  const limitRaw = queryValue(q['limit']);
  let limit = nonNegativeInt('limit', limitRaw);
  if (limit !== undefined && limit > MAX_LIMIT) limit = MAX_LIMIT;
  const offset = nonNegativeInt('offset', queryValue(q['offset']));
  const marker = queryValue(q['marker']);
  const sortParam = queryValue(q['sort']);
  const sortKey = queryValue(q['sort_key']);
  const sortDir = queryValue(q['sort_dir']);
  if (sortParam && (sortKey || sortDir)) throw Errors.badRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  const pairs: Array<[string, string | undefined]> = sortParam
    ? sortParam.split(',').map((s) => {
        const [k, d] = s.split(':').map((x) => x.trim());
        return [k ?? '', d];
      })
    : sortKey
      ? sortKey.split(',').map((k, i) => [k.trim(), sortDir?.split(',')[i]?.trim() ?? sortDir?.split(',')[0]?.trim()])
      : [];
  const sort: SortKey[] = [];
  for (const [key, dirRaw] of pairs) {
    const column = columns[key];
    if (!column) throw Errors.badRequest(`Invalid input received: Invalid sort key ${key}`);
    const dir = (dirRaw ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw Errors.badRequest(`Invalid input received: Unknown sort direction, must be 'desc' or 'asc'`);
    sort.push({ column, dir });
  }
  if (!sort.length) sort.push({ column: 'created_at', dir: 'desc' });
  const filters: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    const value = queryValue(v);
    if (value !== undefined && !PAGING.has(k)) filters[k] = value;
  }
  return { limit, offset, marker, sort, filters };
}

/** Python literal_eval for filter values: `{'Type': 'work'}` becomes an object; anything unparsable stays a string. */
export function literalValue(raw: string): unknown {
  const s = raw.trim();
  if (s.startsWith('{') || s.startsWith('[')) {
    try {
      return JSON.parse(s.replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false').replace(/\bNone\b/g, 'null'));
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * The `<collection>_links` next link: present when the page is full (an
 * explicit limit, or the max), pointing at the same URL with `marker` set to
 * the last item and every other parameter kept.
 */
export function nextLinks(api: VolumeApi, req: Req, path: string, items: Array<{ id: string }>, limit: number | undefined): Array<{ rel: string; href: string }> | undefined {
  const effective = limit ?? MAX_LIMIT;
  if (!items.length || items.length < effective) return undefined;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) {
    if (k === 'marker' || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
  }
  if (!params.has('limit') && limit !== undefined) params.set('limit', String(limit));
  params.set('marker', items[items.length - 1]!.id);
  return [{ rel: 'next', href: `${api.base(req)}/${path}?${params.toString()}` }];
}

/** Boolean-ish query values as Cinder reads them before 3.2 (anything but false-like is true). */
export function lenientBool(raw: string): boolean {
  return !['false', '0', 'no', 'off', 'n', 'f'].includes(raw.trim().toLowerCase());
}

/** Strict boolean (3.2+): 400 for a value that is not a boolean. */
export function strictBool(name: string, raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on', 'y', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'n', 'f'].includes(s)) return false;
  throw Errors.badRequest(`Invalid input received: ${name}=${raw} is not a valid boolean`);
}
