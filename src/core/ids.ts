import { randomBytes, randomUUID } from 'node:crypto';

/** A UUID4 with dashes, as Nova, Neutron, Glance and Cinder use for ids. */
export function newUuid(): string {
  return randomUUID();
}

/** A UUID4 as 32 hex characters, as Keystone uses for ids. */
export function newHexId(): string {
  return randomUUID().replaceAll('-', '');
}

/** `req-<uuid>`: the format of `x-openstack-request-id`. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

/** URL-safe random string, for secrets and audit ids. */
export function randomUrlSafe(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function isUuidLike(value: string): boolean {
  return UUID_RE.test(value);
}

/** Current time as OpenStack's usual ISO form with microseconds: `2026-11-22T01:02:03.000000Z`. */
export function isoNow(date: Date = new Date()): string {
  return isoMicro(date);
}

export function isoMicro(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** ISO form without fractional seconds: `2026-11-22T01:02:03Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
