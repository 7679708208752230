import { isUuidLike } from '../../core/ids.js';
import { httpBadRequest, invalidInput } from '../service/faults.js';
import { canonicalIp, parseCidr, parseIp } from '../ip/ip-address.js';
import { normalizeMac } from '../ip/mac.js';

/**
 * Request bodies the Neutron way: each resource declares which attributes
 * may be POSTed or PUT, which are required, and a converter/validator per
 * attribute. Messages follow neutron's API layer, which clients show.
 */

export type Json = Record<string, unknown>;
export type Converter = (value: unknown, attr: string) => unknown;

export interface AttrRule {
  post?: boolean;
  put?: boolean;
  required?: boolean;
  convert?: Converter;
}

export type AttrRules = Record<string, AttrRule>;

/** Thrown by converters: becomes "Invalid input for <attr>. Reason: <reason>." */
export class ValidationFailure extends Error {}

const fail = (reason: string): never => {
  throw new ValidationFailure(reason);
};

/** The resource dict under `key` (`{"network": {...}}`). */
export function unwrap(body: unknown, key: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !(key in (body as Json))) {
    throw httpBadRequest(`Resource body required`);
  }
  const inner = (body as Json)[key];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw httpBadRequest(`Body contains invalid data`);
  return inner as Json;
}

/** Single (`{"port": {}}`) or bulk (`{"ports": [{}, {}]}`) create bodies. */
export function unwrapCreate(body: unknown, singular: string, plural: string): { items: Json[]; bulk: boolean } {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Array.isArray((body as Json)[plural])) {
    const list = (body as Json)[plural] as unknown[];
    if (list.length === 0) throw httpBadRequest('Resources required');
    return {
      items: list.map((item) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) throw httpBadRequest('Body contains invalid data');
        // Bulk items may be wrapped too ({"ports": [{"port": {...}}]}), as neutronclient once sent.
        const inner = (item as Json)[singular];
        return (inner && typeof inner === 'object' && !Array.isArray(inner) ? inner : item) as Json;
      }),
      bulk: true,
    };
  }
  return { items: [unwrap(body, singular)], bulk: false };
}

/** Validates and converts a body against the rules; returns only the given attributes. */
export function parseAttrs(input: Json, rules: AttrRules, mode: 'create' | 'update'): Json {
  const unknown = Object.keys(input).filter((k) => !(k in rules));
  if (unknown.length) throw httpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  const out: Json = {};
  for (const [attr, rule] of Object.entries(rules)) {
    if (!(attr in input)) {
      if (mode === 'create' && rule.required) throw httpBadRequest(`Failed to parse request. Required attribute '${attr}' not specified`);
      continue;
    }
    if (mode === 'create' && !rule.post) throw httpBadRequest(`Attribute '${attr}' not allowed in POST`);
    if (mode === 'update' && !rule.put) throw httpBadRequest(`Cannot update read-only attribute ${attr}`);
    const value = input[attr];
    try {
      out[attr] = rule.convert ? rule.convert(value, attr) : value;
    } catch (err) {
      if (err instanceof ValidationFailure) throw invalidInput(`Invalid input for ${attr}. Reason: ${err.message}.`);
      throw err;
    }
  }
  return out;
}

// ---- converters (neutron_lib validators and converters)

export const str =
  (max = 255): Converter =>
  (v) => {
    if (typeof v !== 'string') return fail(`'${String(v)}' is not a valid string`);
    if (v.length > max) return fail(`'${v}' exceeds maximum length of ${max}`);
    return v;
  };

export const nullableStr =
  (max = 255): Converter =>
  (v, a) =>
    v === null ? null : str(max)(v, a);

export const bool: Converter = (v) => {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  return fail(`'${String(v)}' cannot be converted to boolean`);
};

export const int =
  (min?: number, max?: number): Converter =>
  (v) => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return fail(`'${String(v)}' is not an integer`);
    if (min !== undefined && n < min) return fail(`'${n}' is too small - must be at least '${min}'`);
    if (max !== undefined && n > max) return fail(`'${n}' is too large - must be no larger than '${max}'`);
    return n;
  };

export const nullableInt =
  (min?: number, max?: number): Converter =>
  (v, a) =>
    v === null ? null : int(min, max)(v, a);

export const uuid: Converter = (v) => {
  if (typeof v !== 'string' || !isUuidLike(v)) return fail(`'${String(v)}' is not a valid UUID`);
  return v;
};

export const nullableUuid: Converter = (v, a) => (v === null ? null : uuid(v, a));

/** Any string id (project ids are Keystone hex ids, not UUIDs). */
export const projectId: Converter = (v) => {
  if (typeof v !== 'string' || v.length > 255) return fail(`'${String(v)}' is not a valid string`);
  return v;
};

export const ipAddress: Converter = (v) => {
  const c = typeof v === 'string' ? canonicalIp(v) : null;
  if (c === null) return fail(`'${String(v)}' is not a valid IP address`);
  return c;
};

export const nullableIp: Converter = (v, a) => (v === null ? null : ipAddress(v, a));

export const cidr: Converter = (v) => {
  if (typeof v !== 'string') return fail(`'${String(v)}' is not a valid IP subnet`);
  if (!v.includes('/')) {
    if (parseIp(v)) return fail(`'${v}' is not a recognized CIDR, '${v}/${v.includes(':') ? 128 : 32}' is recommended`);
    return fail(`'${v}' is not a valid IP subnet`);
  }
  if (!parseCidr(v)) return fail(`'${v}' is not a valid IP subnet`);
  return v;
};

export const mac: Converter = (v) => {
  const m = typeof v === 'string' ? normalizeMac(v) : null;
  if (m === null) return fail(`'${String(v)}' is not a valid MAC address`);
  return m;
};

export const oneOf =
  (values: Array<string | null>): Converter =>
  (v) => {
    if (!values.includes(v as string | null)) return fail(`'${String(v)}' is not in ${JSON.stringify(values).replaceAll('"', "'")}`);
    return v;
  };

export const list =
  (item: Converter, max?: number): Converter =>
  (v, a) => {
    if (!Array.isArray(v)) return fail(`'${JSON.stringify(v)}' is not a list`);
    if (max !== undefined && v.length > max) return fail(`'${v.length}' exceeds maximum of ${max} items`);
    return v.map((x) => item(x, a));
  };

export const nullToEmptyList =
  (item: Converter, max?: number): Converter =>
  (v, a) =>
    v === null ? [] : list(item, max)(v, a);

export const dict: Converter = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(`'${String(v)}' is not a dictionary`);
  return v;
};

export const nullableDict: Converter = (v, a) => (v === null ? null : dict(v, a));

export const any: Converter = (v) => v;

export function noDuplicates<T>(values: T[], key: (v: T) => string = (v) => JSON.stringify(v)): void {
  const seen = new Set<string>();
  for (const v of values) {
    const k = key(v);
    if (seen.has(k)) fail(`Duplicate items in the list: '${k}'`);
    seen.add(k);
  }
}

/** A converter that runs `check` after `base` (for cross-item rules). */
export const withCheck =
  (base: Converter, check: (v: unknown) => void): Converter =>
  (v, a) => {
    const out = base(v, a);
    check(out);
    return out;
  };

export { fail as validationFailure };

/** A JSON object body (router interface actions, tag lists). */
export function requireBody(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw httpBadRequest('Body contains invalid data');
  return body as Json;
}
