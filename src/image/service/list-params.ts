import { Errors } from '../../core/errors.js';
import type { ColumnFilter, FilterColumn, FilterOp, ImageListQuery, SortDir, SortKey } from '../db/image-repo.js';
import type { MemberStatus, Visibility } from '../db/tables.js';
import { toStoredTime } from './time.js';

/** Query parameters of GET /v2/images as repeated key/value pairs, in order. */
export type QueryPairs = Array<[string, string]>;

const SORT_KEYS: SortKey[] = ['name', 'status', 'container_format', 'disk_format', 'size', 'id', 'created_at', 'updated_at'];
const OPERATOR_COLUMNS = new Set(['name', 'id', 'status', 'container_format', 'disk_format']);
const TIME_COLUMNS = new Set(['created_at', 'updated_at']);
const INT_COLUMNS = new Set(['size', 'virtual_size', 'min_disk', 'min_ram']);
const PLAIN_COLUMNS = new Set(['owner', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size', 'min_disk', 'min_ram']);
const TIME_OPS: Record<string, FilterOp> = { gt: 'gt', gte: 'gte', lt: 'lt', lte: 'lte', eq: 'eq', neq: 'neq' };

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 1000;

export interface ParsedList {
  query: Omit<ImageListQuery, 'scope' | 'marker'>;
  markerId?: string;
}

/** Parses Glance's list parameters with its validation messages. */
export function parseListParams(pairs: QueryPairs): ParsedList {
  const rest: QueryPairs = [];
  let limit = DEFAULT_LIMIT;
  let markerId: string | undefined;
  let memberStatus: MemberStatus | 'all' = 'accepted';
  let visibility: Visibility | 'all' | undefined;
  const tags: string[] = [];
  const sortKeys: string[] = [];
  const sortDirs: string[] = [];
  let newSort: string | undefined;

  for (const [k, v] of pairs) {
    switch (k) {
      case 'limit': {
        if (!/^-?\d+$/.test(v.trim())) throw Errors.badRequest('limit param must be an integer');
        const n = Number(v);
        if (n < 0) throw Errors.badRequest('limit param must be positive');
        limit = Math.min(n, MAX_LIMIT);
        break;
      }
      case 'marker':
        markerId = v;
        break;
      case 'member_status':
        if (!['pending', 'accepted', 'rejected', 'all'].includes(v)) throw Errors.badRequest(`Invalid status: ${v}`);
        memberStatus = v as MemberStatus | 'all';
        break;
      case 'visibility':
        if (v === '') break;
        if (!['community', 'public', 'private', 'shared', 'all'].includes(v)) throw Errors.badRequest(`Invalid visibility value: ${v}`);
        visibility = v as Visibility | 'all';
        break;
      case 'tag':
        tags.push(v.trim());
        break;
      case 'sort':
        newSort = v;
        break;
      case 'sort_key':
        sortKeys.push(v.trim());
        break;
      case 'sort_dir':
        sortDirs.push(v.trim());
        break;
      case 'changes-since':
        throw Errors.badRequest('The "changes-since" filter is no longer available on v2.');
      default:
        rest.push([k, v]);
    }
  }

  const sort: Array<{ key: SortKey; dir: SortDir }> = [];
  const checkKey = (key: string): SortKey => {
    if (!SORT_KEYS.includes(key as SortKey)) {
      throw Errors.badRequest(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
    }
    return key as SortKey;
  };
  const checkDir = (dir: string): SortDir => {
    if (dir !== 'asc' && dir !== 'desc') throw Errors.badRequest(`Invalid sort direction: ${dir}`);
    return dir;
  };
  if (newSort !== undefined) {
    if (sortKeys.length || sortDirs.length) throw Errors.badRequest('Old and new sorting syntax cannot be combined');
    for (const part of newSort.trim().split(',')) {
      const [key, dir] = part.split(':', 2) as [string, string | undefined];
      sort.push({ key: checkKey(key.trim()), dir: checkDir((dir ?? '').trim() || 'desc') });
    }
  } else {
    const keys = sortKeys.map(checkKey);
    const dirs = sortDirs.map(checkDir);
    if (dirs.length > 1 && dirs.length !== keys.length) throw Errors.badRequest('Number of sort dirs does not match the number of sort keys');
    if (!keys.length) keys.push('created_at');
    keys.forEach((key, i) => sort.push({ key, dir: dirs.length > 1 ? dirs[i]! : (dirs[0] ?? 'desc') }));
  }

  const columns: ColumnFilter[] = [];
  const properties: Array<{ name: string; value: string }> = [];
  let osHidden = false;
  for (const [k, v] of rest) {
    if (k === 'os_hidden' || k === 'protected') {
      const b = v.toLowerCase();
      if (b !== 'true' && b !== 'false') throw Errors.badRequest(`Invalid value '${v}' for '${k}': must be true or false`);
      if (k === 'os_hidden') osHidden = b === 'true';
      else columns.push({ column: 'protected', op: 'eq', values: [b === 'true' ? 1 : 0] });
    } else if (k === 'size_min' || k === 'size_max') {
      if (!/^\d+$/.test(v.trim())) throw Errors.badRequest('Unable to filter on a range with a non-numeric value.');
      columns.push({ column: 'size', op: k === 'size_min' ? 'gte' : 'lte', values: [Number(v)] });
    } else if (OPERATOR_COLUMNS.has(k)) {
      columns.push(operatorFilter(k as FilterColumn, v));
    } else if (TIME_COLUMNS.has(k)) {
      columns.push(...timeFilter(k as FilterColumn, v));
    } else if (PLAIN_COLUMNS.has(k)) {
      if (INT_COLUMNS.has(k)) {
        if (!/^-?\d+$/.test(v.trim())) throw Errors.badRequest(`Invalid value '${v}' for '${k}': must be an integer`);
        columns.push({ column: k as FilterColumn, op: 'eq', values: [Number(v)] });
      } else columns.push({ column: k as FilterColumn, op: 'eq', values: [v] });
    } else if (k === 'visibility' || k === 'deleted') {
      // handled above / never shown
    } else {
      properties.push({ name: k, value: v });
    }
  }
  columns.push({ column: 'os_hidden', op: 'eq', values: [osHidden ? 1 : 0] });

  return {
    query: { visibility, memberStatus, columns, properties, tags, sort, limit },
    ...(markerId !== undefined ? { markerId } : {}),
  };
}

/** `value`, `eq:value` or `in:a,b,"c,d"`. */
function operatorFilter(column: FilterColumn, raw: string): ColumnFilter {
  const m = /^([a-z]+):(.*)$/s.exec(raw);
  if (!m || !['eq', 'in'].includes(m[1]!)) {
    if (m && /^[a-z]+$/.test(m[1]!) && !['eq', 'in'].includes(m[1]!)) {
      throw Errors.badRequest(`Unable to filter by unknown operator '${m[1]}'.`);
    }
    return { column, op: 'eq', values: [raw] };
  }
  if (m[1] === 'eq') return { column, op: 'eq', values: [m[2]!] };
  return { column, op: 'in', values: splitIn(m[2]!) };
}

/** Splits `a,b,"c,d"` (quoted items may contain commas). */
function splitIn(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (quoted) throw Errors.badRequest(`Invalid filter value ${s}. The quote is not closed.`);
  out.push(cur);
  return out;
}

function timeFilter(column: FilterColumn, raw: string): ColumnFilter[] {
  const m = /^([a-z]+):(.*)$/.exec(raw);
  let op: FilterOp = 'eq';
  let value = raw;
  if (m && TIME_OPS[m[1]!]) {
    op = TIME_OPS[m[1]!]!;
    value = m[2]!;
  } else if (m && /^[a-z]+$/.test(m[1]!)) {
    throw Errors.badRequest(`Unable to filter by unknown operator '${m[1]}'.`);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw Errors.badRequest(`Invalid date format: ${value}`);
  const at = toStoredTime(new Date(t));
  // Times are shown to the second but stored finer: `eq` means within that second.
  if (op === 'eq') return [{ column, op: 'gte', values: [at] }, { column, op: 'lt', values: [toStoredTime(new Date(t + 1000))] }];
  if (op === 'gt' || op === 'lte') return [{ column, op: op === 'gt' ? 'gte' : 'lt', values: [toStoredTime(new Date(t + 1000))] }];
  return [{ column, op, values: [at] }];
}
