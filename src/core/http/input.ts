import { Errors } from '../errors.js';

/**
 * Small validators for request bodies, with OpenStack-style messages
 * ("Invalid input for field 'x': …"). They throw 400 ApiErrors.
 */
export type Json = Record<string, unknown>;

export function requireObject(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw Errors.badRequest(`Invalid input for field '${field}': expected an object.`);
  }
  return value as Json;
}

/** The object under `key` in the body (`{"project": {...}}`), required. */
export function envelope(body: unknown, key: string): Json {
  const root = requireObject(body ?? null, 'body');
  if (!(key in root)) throw Errors.badRequest(`'${key}' is a required property`);
  return requireObject(root[key], key);
}

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  nullable?: boolean;
  pattern?: RegExp;
}

export function optString(o: Json, key: string, rule: StringRule = {}): string | null | undefined {
  const v = o[key];
  if (v === undefined) {
    if (rule.required) throw Errors.badRequest(`'${key}' is a required property`);
    return undefined;
  }
  if (v === null) {
    if (rule.nullable) return null;
    throw Errors.badRequest(`Invalid input for field '${key}': None is not of type 'string'`);
  }
  if (typeof v !== 'string') throw Errors.badRequest(`Invalid input for field '${key}': ${JSON.stringify(v)} is not of type 'string'`);
  if (rule.min !== undefined && v.length < rule.min) throw Errors.badRequest(`Invalid input for field '${key}': '${v}' is too short`);
  if (rule.max !== undefined && v.length > rule.max) throw Errors.badRequest(`Invalid input for field '${key}': '${v.slice(0, 40)}…' is too long`);
  if (rule.pattern && !rule.pattern.test(v)) throw Errors.badRequest(`Invalid input for field '${key}': '${v}' does not match ${rule.pattern}`);
  return v;
}

export function reqString(o: Json, key: string, rule: Omit<StringRule, 'required' | 'nullable'> = {}): string {
  return optString(o, key, { ...rule, required: true }) as string;
}

export function optBool(o: Json, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw Errors.badRequest(`Invalid input for field '${key}': ${JSON.stringify(v)} is not of type 'boolean'`);
  return v;
}

export function optInt(o: Json, key: string, rule: { min?: number; max?: number; nullable?: boolean } = {}): number | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null && rule.nullable) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw Errors.badRequest(`Invalid input for field '${key}': ${JSON.stringify(v)} is not of type 'integer'`);
  if (rule.min !== undefined && v < rule.min) throw Errors.badRequest(`Invalid input for field '${key}': ${v} is less than the minimum of ${rule.min}`);
  if (rule.max !== undefined && v > rule.max) throw Errors.badRequest(`Invalid input for field '${key}': ${v} is greater than the maximum of ${rule.max}`);
  return v;
}

export function optObject(o: Json, key: string): Json | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  return requireObject(v, key);
}

export function optStringArray(o: Json, key: string, rule: { max?: number; itemMax?: number } = {}): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw Errors.badRequest(`Invalid input for field '${key}': expected a list of strings`);
  }
  if (rule.max !== undefined && v.length > rule.max) throw Errors.badRequest(`Invalid input for field '${key}': too many items (max ${rule.max})`);
  if (rule.itemMax !== undefined && v.some((x: string) => x.length > rule.itemMax!)) {
    throw Errors.badRequest(`Invalid input for field '${key}': an item is too long`);
  }
  return v as string[];
}

/** Query-string boolean as OpenStack APIs read it (`true`/`1`/`yes`, `false`/`0`/`no`, bare key = true). */
export function queryBool(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  const s = String(Array.isArray(value) ? value[0] : value).toLowerCase();
  if (s === '' || s === 'true' || s === '1' || s === 'yes' || s === 'on') return true;
  if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false;
  throw Errors.badRequest(`Invalid boolean value: ${s}`);
}

export function queryString(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return String(Array.isArray(value) ? value[value.length - 1] : value);
}
