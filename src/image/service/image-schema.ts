import { Errors } from '../../core/errors.js';

/** Glance's image attribute rules (glance/api/v2/images.py, schema-image.json), as data. */

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'] as const;

/** Keys a client may never send. */
export const DISALLOWED = new Set(['direct_url', 'self', 'file', 'schema', 'stores']);
export const READ_ONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
]);
export const RESERVED = new Set(['location', 'deleted', 'deleted_at']);
export const RESERVED_PREFIX = 'os_glance';

/** Writable base attributes (the rest of an image's keys are free-form string properties). */
export const BASE_ATTRIBUTES = new Set([
  'name',
  'visibility',
  'protected',
  'os_hidden',
  'container_format',
  'disk_format',
  'min_disk',
  'min_ram',
  'owner',
  'tags',
]);

/** Properties Glance's stock schema-image.json types (merged into the image schema). */
const UUID_PROP = /^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$/;
export const UUID_PATTERN = UUID_PROP;
const TYPED_EXTRA: Record<string, 'uuid' | 'string'> = {
  kernel_id: 'uuid',
  ramdisk_id: 'uuid',
  instance_uuid: 'string',
  architecture: 'string',
  os_distro: 'string',
  os_version: 'string',
  description: 'string',
};

function invalid(detail: string): never {
  throw Errors.badRequest(`Provided object does not match schema 'image': ${detail}`);
}

const isReserved = (key: string) => RESERVED.has(key) || key.startsWith(RESERVED_PREFIX);

export function checkNotReserved(key: string): void {
  if (isReserved(key)) throw Errors.forbidden(`Attribute '${key}' is reserved.`);
}

/**
 * Validates one attribute value as the image JSON schema does (400 on a bad
 * value). Unknown keys are free-form properties: strings only.
 */
export function validateAttribute(key: string, value: unknown): void {
  switch (key) {
    case 'name':
      if (value !== null && typeof value !== 'string') invalid(`${JSON.stringify(value)} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255) invalid(`'${value.slice(0, 40)}…' is too long`);
      return;
    case 'owner':
      if (value !== null && typeof value !== 'string') invalid(`${JSON.stringify(value)} is not of type 'null', 'string'`);
      if (typeof value === 'string' && value.length > 255) invalid('owner is too long');
      return;
    case 'visibility':
      if (!VISIBILITIES.includes(value as never)) invalid(`${JSON.stringify(value)} is not one of ${JSON.stringify(VISIBILITIES)}`);
      return;
    case 'protected':
    case 'os_hidden':
      if (typeof value !== 'boolean') invalid(`${JSON.stringify(value)} is not of type 'boolean'`);
      return;
    case 'disk_format':
      if (value !== null && !DISK_FORMATS.includes(value as never)) invalid(`${JSON.stringify(value)} is not one of ${JSON.stringify([null, ...DISK_FORMATS])}`);
      return;
    case 'container_format':
      if (value !== null && !CONTAINER_FORMATS.includes(value as never))
        invalid(`${JSON.stringify(value)} is not one of ${JSON.stringify([null, ...CONTAINER_FORMATS])}`);
      return;
    case 'min_disk':
    case 'min_ram':
      if (typeof value !== 'number' || !Number.isInteger(value)) invalid(`${JSON.stringify(value)} is not of type 'integer'`);
      if (value < 0) throw Errors.badRequest(`Invalid value '${value}' for parameter '${key}': Cannot be a negative value`);
      if (value > 2 ** 31 - 1) invalid(`${value} is too large`);
      return;
    case 'tags':
      if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) invalid(`${JSON.stringify(value)} is not of type 'array' of strings`);
      for (const t of value as string[]) if (t.length > 255) invalid(`tag '${t.slice(0, 40)}…' is too long`);
      return;
    case 'id':
      if (typeof value !== 'string' || !UUID_PROP.test(value)) invalid(`${JSON.stringify(value)} does not match the UUID pattern`);
      return;
    default:
      break;
  }
  const typed = TYPED_EXTRA[key];
  if (typed === 'uuid') {
    if (value !== null && (typeof value !== 'string' || !UUID_PROP.test(value))) invalid(`${JSON.stringify(value)} is not a UUID for '${key}'`);
    return;
  }
  if (typeof value !== 'string') invalid(`${JSON.stringify(value)} is not of type 'string' for '${key}'`);
  if (key.length > 255) throw Errors.badRequest('Custom property should not be greater than 255 characters.');
  if (value.length > 65535) invalid(`value of '${key}' is too long`);
}

/** What POST /v2/images may contain, split into base attributes, free-form properties and tags. */
export interface CreateRequest {
  id?: string;
  base: Partial<{
    name: string | null;
    visibility: (typeof VISIBILITIES)[number];
    protected: boolean;
    os_hidden: boolean;
    container_format: string | null;
    disk_format: string | null;
    min_disk: number;
    min_ram: number;
    owner: string | null;
  }>;
  properties: Record<string, string>;
  tags: string[];
}

/** Parses a create body in Glance's order: disallowed keys, schema, read-only, reserved. */
export function parseCreate(body: unknown): CreateRequest {
  if (body === undefined) throw Errors.badRequest('Body expected in request.');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) invalid('the body must be an object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (DISALLOWED.has(k)) throw Errors.forbidden(`Attribute '${k}' is read-only.`);
  for (const [k, v] of Object.entries(o)) {
    if (READ_ONLY.has(k) && k !== 'id') continue; // reported as read-only below
    if (RESERVED.has(k) || k.startsWith(RESERVED_PREFIX)) continue; // reported as reserved below
    if (k === 'locations' || k === 'location') continue;
    validateAttribute(k, v);
  }
  for (const k of Object.keys(o)) if (READ_ONLY.has(k) && k !== 'id') throw Errors.forbidden(`Attribute '${k}' is read-only.`);
  for (const k of Object.keys(o)) {
    if (k === 'locations') throw Errors.forbidden(`Attribute 'locations' is reserved.`);
    checkNotReserved(k);
  }
  const out: CreateRequest = { base: {}, properties: {}, tags: [] };
  for (const [k, v] of Object.entries(o)) {
    if (k === 'id') out.id = v as string;
    else if (k === 'tags') out.tags = [...new Set(v as string[])];
    else if (BASE_ATTRIBUTES.has(k)) (out.base as Record<string, unknown>)[k] = v;
    else if (v !== null) out.properties[k] = v as string;
  }
  return out;
}
