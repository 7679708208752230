import type { ImageRow, MemberRow, TaskRow } from '../db/tables.js';
import { fromJson } from '../../core/db/columns.js';
import { toApiTime } from '../service/time.js';

/** Properties Glance keeps but never shows. */
const HIDDEN_PROPERTIES = new Set(['os_glance_stage_host']);

export interface ImageExtras {
  properties: Record<string, string>;
  tags: string[];
  /** Stores holding data; shown as `stores` only with multi-store. */
  stores?: string[] | undefined;
}

/** An image as Glance v2 shows it: every base key present (null when unset), properties flattened. */
export function renderImage(row: ImageRow, extras: ImageExtras): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extras.properties)) if (!HIDDEN_PROPERTIES.has(k)) out[k] = v;
  Object.assign(out, {
    id: row.id,
    name: row.name,
    status: row.status,
    visibility: row.visibility,
    protected: row.protected === 1,
    os_hidden: row.os_hidden === 1,
    checksum: row.checksum,
    os_hash_algo: row.os_hash_algo,
    os_hash_value: row.os_hash_value,
    size: row.size,
    virtual_size: row.virtual_size,
    owner: row.owner,
    disk_format: row.disk_format,
    container_format: row.container_format,
    min_disk: row.min_disk,
    min_ram: row.min_ram,
    tags: extras.tags,
    created_at: toApiTime(row.created_at),
    updated_at: toApiTime(row.updated_at),
    self: `/v2/images/${row.id}`,
    file: `/v2/images/${row.id}/file`,
    schema: '/v2/schemas/image',
  });
  if (extras.stores && extras.stores.length) out['stores'] = [...extras.stores].sort().join(',');
  return out;
}

export function renderMember(row: MemberRow): Record<string, unknown> {
  return {
    member_id: row.member,
    image_id: row.image_id,
    status: row.status,
    created_at: toApiTime(row.created_at),
    updated_at: toApiTime(row.updated_at),
    schema: '/v2/schemas/member',
  };
}

/** Task times are microsecond ISO without a zone, as Glance shows them. */
const taskTime = (t: string | null) => (t === null ? null : t.replace(/Z$/, ''));

export function renderTask(row: TaskRow): Record<string, unknown> {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    owner: row.owner,
    user_id: row.user_id,
    image_id: row.image_id,
    request_id: row.request_id,
    input: fromJson(row.input, {}),
    result: row.result === null ? null : fromJson(row.result, null),
    message: row.message,
    expires_at: taskTime(row.expires_at),
    created_at: taskTime(row.created_at),
    updated_at: taskTime(row.updated_at),
    deleted: false,
    deleted_at: null,
  };
}
