import { fromJson } from '../../../core/db/columns.js';
import type { AttachmentRow, VolumeRow, VolumeTypeRow } from '../../db/tables.js';
import type { VolumeCore } from '../../service/core.js';
import type { Req, VolumeApi } from '../context.js';

/** Admin metadata that Cinder shows in `metadata` to everyone. */
const VISIBLE_ADMIN_METADATA = ['readonly', 'attached_mode'];

export interface VolumeViewData {
  types: Map<string, VolumeTypeRow>;
  metadata: Map<string, Record<string, string>>;
  attachments: Map<string, AttachmentRow[]>;
  services: Map<string, string>;
}

export async function loadVolumeViewData(core: VolumeCore, volumes: VolumeRow[]): Promise<VolumeViewData> {
  const ids = volumes.map((v) => v.id);
  const attachments = new Map<string, AttachmentRow[]>(ids.map((id) => [id, []]));
  if (ids.length) {
    for (const a of await core.repos.attachments.all({ eq: { volume_id: ids } })) attachments.get(a.volume_id)!.push(a);
  }
  const services = new Map((await core.repos.services.list()).filter((s) => s.binary === 'cinder-volume').map((s) => [s.host, s.id]));
  return { types: await core.types.byId(), metadata: await core.repos.metadata.getMany('volume', ids), attachments, services };
}

export function displayStatus(status: string): string {
  if (status === 'managing') return 'creating';
  if (status === 'error_managing') return 'error';
  return status;
}

export function volumeMetadata(v: VolumeRow, user: Record<string, string>): Record<string, string> {
  const admin = fromJson<Record<string, string>>(v.admin_metadata, {});
  const out = { ...user };
  for (const k of VISIBLE_ADMIN_METADATA) if (admin[k] !== undefined) out[k] = admin[k];
  return out;
}

/** Attached attachments as the volume view lists them. */
export function attachmentItems(v: VolumeRow, rows: AttachmentRow[], admin: boolean) {
  return rows
    .filter((a) => a.attach_status === 'attached')
    .map((a) => ({
      id: v.id,
      attachment_id: a.id,
      volume_id: v.id,
      server_id: a.instance_uuid,
      host_name: admin ? a.attached_host : null,
      device: a.mountpoint,
      attached_at: a.attach_time,
    }));
}

export type VolumeViewKind = 'show' | 'create';

/**
 * The volume detail view at the request's microversion. `show` (GET one, GET
 * detail) adds the extension attributes; create/update responses must not
 * carry them (Tempest's schemas are closed).
 */
export function volumeDetail(api: VolumeApi, req: Req, v: VolumeRow, data: VolumeViewData, kind: VolumeViewKind): Record<string, unknown> {
  const admin = api.caller(req).admin;
  const at = (x: string) => api.atLeast(req, x);
  const type = data.types.get(v.volume_type_id);
  const out: Record<string, unknown> = {
    id: v.id,
    name: v.name,
    description: v.description,
    status: displayStatus(v.status),
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: v.created_at,
    updated_at: v.updated_at,
    volume_type: type?.name ?? v.volume_type_id,
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    consistencygroup_id: null,
    metadata: volumeMetadata(v, data.metadata.get(v.id) ?? {}),
    links: api.links(req, 'volumes', v.id),
    user_id: v.user_id,
    bootable: v.bootable ? 'true' : 'false',
    encrypted: v.encryption_key_id !== null,
    replication_status: v.replication_status,
    multiattach: v.multiattach === 1,
    attachments: attachmentItems(v, data.attachments.get(v.id) ?? [], admin),
  };
  if (admin) out['migration_status'] = v.migration_status;
  if (at('3.13')) out['group_id'] = v.group_id;
  if (at('3.21') && admin) out['provider_id'] = null;
  if (at('3.48')) {
    out['shared_targets'] = false;
    out['service_uuid'] = v.host ? (data.services.get(v.host.split('#')[0]!) ?? null) : null;
  }
  if (at('3.61') && admin) out['cluster_name'] = null;
  if (at('3.63')) out['volume_type_id'] = v.volume_type_id;
  if (at('3.64') && v.encryption_key_id) out['encryption_key_id'] = v.encryption_key_id;
  if (at('3.65')) out['consumes_quota'] = v.use_quota === 1;
  if (kind === 'show') {
    if (admin) {
      out['os-vol-host-attr:host'] = v.host;
      out['os-vol-mig-status-attr:migstat'] = v.migration_status;
      out['os-vol-mig-status-attr:name_id'] = null;
    }
    out['os-vol-tenant-attr:tenant_id'] = v.project_id;
    if (v.image_metadata) out['volume_image_metadata'] = fromJson<Record<string, string>>(v.image_metadata, {});
  }
  return out;
}

export function volumeSummary(api: VolumeApi, req: Req, v: VolumeRow): Record<string, unknown> {
  return { id: v.id, name: v.name, links: api.links(req, 'volumes', v.id) };
}
