import type { FastifyRequest } from 'fastify';
import { requestBaseUrl } from '../../core/http/base-url.js';
import type { CollectionSpec, ListQuery } from '../db/list-query.js';
import { bad, httpBadRequest } from '../service/faults.js';

type RawQuery = Record<string, string | string[] | undefined>;

const RESERVED = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);
const TAG_KEYS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

export function values(raw: RawQuery, key: string): string[] {
  const v = raw[key];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** `?fields=a&fields=b` (empty: all fields). */
export function parseFields(raw: RawQuery): string[] | undefined {
  const f = values(raw, 'fields').filter((x) => x !== '');
  return f.length ? f : undefined;
}

/**
 * Parses Neutron's list query string: filters (unknown keys are refused, as
 * with the filter-validation extension), sort keys/dirs, limit, marker,
 * page_reverse, fields and tag filters.
 */
export function parseListQuery(raw: RawQuery, spec: CollectionSpec): ListQuery {
  const filters: Record<string, string[]> = {};
  const invalid: string[] = [];
  for (const key of Object.keys(raw)) {
    if (RESERVED.has(key) || (TAG_KEYS.has(key) && spec.tagged)) continue;
    if (!(key in spec.filters) && key !== 'tenant_id' && key !== 'project_id') {
      invalid.push(key);
      continue;
    }
    const v = values(raw, key).filter((x) => x !== '');
    if (v.length) filters[key] = v;
  }
  if (invalid.length) throw httpBadRequest(`[${invalid.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);
  if (filters['tenant_id'] && filters['project_id']) {
    throw bad('TenantIdProjectIdFilterConflict', 'Both tenant_id and project_id passed as filters.');
  }
  if (filters['tenant_id']) {
    filters['project_id'] = filters['tenant_id'];
    delete filters['tenant_id'];
  }

  const sortKeys = values(raw, 'sort_key').filter((x) => x !== '');
  const sortDirs = values(raw, 'sort_dir').filter((x) => x !== '');
  if (sortKeys.length !== sortDirs.length) throw httpBadRequest('The number of sort_keys and sort_dirs must be same');
  const absent = sortKeys.filter((k) => !(k in spec.sorts) && k !== 'id' && k !== 'tenant_id' && k !== 'project_id');
  if (absent.length) throw httpBadRequest(`[${absent.map((k) => `'${k}'`).join(', ')}] is invalid attribute for sort_keys`);
  const badDirs = sortDirs.filter((d) => d !== 'asc' && d !== 'desc');
  if (badDirs.length) {
    throw httpBadRequest(`[${badDirs.map((k) => `'${k}'`).join(', ')}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  }

  const limitRaw = values(raw, 'limit')[0];
  let limit: number | undefined;
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw.trim())) throw httpBadRequest(`Limit must be an integer 0 or greater and not '${limitRaw}'`);
    limit = Number(limitRaw) || undefined;
  }
  const marker = values(raw, 'marker')[0] || undefined;
  const pageReverse = (values(raw, 'page_reverse')[0] ?? 'false').toLowerCase() === 'true';
  const split = (key: string) =>
    values(raw, key)
      .flatMap((v) => v.split(','))
      .filter((x) => x !== '');
  return {
    filters,
    sorts: sortKeys.map((k, i) => ({ key: k === 'tenant_id' ? 'project_id' : k, asc: sortDirs[i] === 'asc' })),
    limit,
    marker,
    pageReverse,
    fields: parseFields(raw),
    tagFilters: { all: split('tags'), any: split('tags-any'), notAll: split('not-tags'), notAny: split('not-tags-any') },
  };
}

export const baseUrl = requestBaseUrl;

/** `<collection>_links` as Neutron builds them (next/previous with marker), when a limit was given. */
export function paginationLinks(req: FastifyRequest, items: Array<Record<string, unknown>>, query: ListQuery): Array<{ rel: string; href: string }> | undefined {
  if (!query.limit) return undefined;
  const links: Array<{ rel: string; href: string }> = [];
  const path = `${baseUrl(req)}${req.url.split('?')[0]}`;
  const params = () => new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
  const short = items.length < query.limit;
  if (!(short && !query.pageReverse)) {
    const p = params();
    p.delete('marker');
    p.delete('page_reverse');
    const last = items[items.length - 1];
    if (last) p.set('marker', String(last['id']));
    links.push({ rel: 'next', href: `${path}?${p.toString()}` });
  }
  if (!(short && query.pageReverse)) {
    const p = params();
    p.delete('marker');
    const first = items[0];
    if (first) p.set('marker', String(first['id']));
    p.set('page_reverse', 'True');
    links.push({ rel: 'previous', href: `${path}?${p.toString()}` });
  }
  return links;
}

/** Keeps only the requested fields of a resource dict. */
export function selectFields<T extends Record<string, unknown>>(item: T, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return item;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in item) out[f] = item[f];
  return out;
}
