import { Errors } from '../../core/errors.js';

/**
 * Keystone's timestamps keep microseconds and clients compare them as
 * strings, so times are kept as normalised text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`,
 * UTC) rather than JS Dates, which would round to milliseconds.
 */
export interface IsoTime {
  /** Milliseconds since the epoch, for comparisons. */
  ms: number;
  /** Normalised UTC text with six fractional digits and `Z`. */
  text: string;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses an ISO-8601 time as oslo's parse_isotime does (no zone = UTC); undefined if malformed. */
export function parseIsoTime(value: string): IsoTime | undefined {
  const m = ISO_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = m;
  const micros = (frac + '000000').slice(0, 6);
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const baseMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(baseMs);
  if (Number.isNaN(baseMs) || check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return undefined;
  }
  const ms = baseMs - offsetMin * 60_000;
  const whole = new Date(ms).toISOString().slice(0, 19);
  return { ms: ms + Number(micros) / 1000, text: `${whole}.${micros}Z` };
}

/** Keystone's parse_expiration_date: a valid time in the future, else 400. */
export function parseExpiration(value: unknown, field = 'expires_at'): IsoTime | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw Errors.badRequest(`Invalid input for field '${field}': ${JSON.stringify(value)} is not of type 'string', 'null'`);
  const t = parseIsoTime(value);
  if (!t) throw Errors.badRequest(`Invalid input for field '${field}': '${value}' is not a valid date and time.`);
  if (t.ms <= Date.now()) throw Errors.badRequest(`The 'expires_at' must not be before now.`);
  return t;
}

/** `2026-11-22T01:02:03.123456Z` → `2026-11-22T01:02:03.123456` (what oslo's JSON encoder writes for a naive datetime). */
export function naiveIso(text: string | null): string | null {
  return text === null ? null : text.replace(/Z$/, '');
}
