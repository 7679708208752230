import { Errors } from '../../core/errors.js';
import { requireObject, type Json } from '../../core/http/input.js';

export { requireObject, type Json };

const META_KEY = /^[a-zA-Z0-9-_:. /]{1,255}$/;

/** The object under `key` in the body; a missing or non-object body is 400 as in Cinder. */
export function bodyOf(body: unknown, key: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.badRequest('Malformed request body');
  const inner = (body as Json)[key];
  if (inner === undefined) throw Errors.badRequest(`Missing required element '${key}' in request body.`);
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) throw Errors.badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(inner)}. ${JSON.stringify(inner)} is not of type 'object'`);
  return inner as Json;
}

/** Metadata: an object of string keys (Cinder's key pattern) to string values of at most 255 characters. */
export function parseMetadata(value: unknown, field = 'metadata'): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'object'`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (!META_KEY.test(k)) throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${k}. '${k}' does not match any of the regexes`);
    if (typeof v !== 'string') throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
    if (v.length > 255) throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${v.slice(0, 20)}… is too long`);
    out[k] = v;
  }
  return out;
}

export function optionalString(o: Json, key: string, max = 255): string | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') throw Errors.badRequest(`Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`);
  if (v.length > max) throw Errors.badRequest(`Invalid input for field/attribute ${key}. Value: ${v.slice(0, 20)}… is too long`);
  return v;
}

/** A positive integer given as a number or a string of digits (Cinder accepts both). */
export function positiveInt(value: unknown, field: string, message?: string): number {
  let n: number;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && /^\s*[0-9]+\s*$/.test(value)) n = Number(value);
  else throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not a valid integer`);
  if (n < 1) throw Errors.badRequest(message ?? `Invalid input for field/attribute ${field}. Value: ${n}. ${n} is less than the minimum of 1`);
  return n;
}

/** Booleans as oslo's strutils reads them in request bodies (true, "true", "True", 1, "1", "yes" …). */
export function boolValue(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on', 'y', 't'].includes(s)) return true;
    if (['false', '0', 'no', 'off', 'n', 'f'].includes(s)) return false;
  }
  throw Errors.badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'boolean'`);
}

export function rejectUnknown(o: Json, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw Errors.badRequest(`Invalid input for field/attribute ${where}. Additional properties are not allowed ('${k}' was unexpected)`);
  }
}
