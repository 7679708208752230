import { toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { VolumeRow, VolumeTypeRow } from '../db/tables.js';
import type { VolumeCore } from './core.js';
import { volumeDeltas } from './quotas.js';
import { SCHEDULER_QUEUE, type ScheduleCreateVolume, type VolumeSource } from './tasks.js';

const GiB = 1024 ** 3;

export interface Actor {
  projectId: string;
  userId: string;
  admin: boolean;
  /** The user's token, for calls made on their behalf (Glance visibility). */
  token: string;
  requestId: string | null;
}

export interface CreateVolumeInput {
  size: number | undefined;
  name: string | null;
  description: string | null;
  volumeType: string | undefined;
  metadata: Record<string, string>;
  snapshotId: string | undefined;
  sourceVolid: string | undefined;
  imageRef: string | undefined;
  backupId: string | undefined;
  availabilityZone: string | undefined;
  groupId: string | undefined;
}

/** Whether a type's extra specs make its volumes multiattach (`multiattach="<is> True"`). */
export function typeAllowsMultiattach(specs: Record<string, string>): boolean {
  return /^<is>\s*true$/i.test((specs['multiattach'] ?? '').trim());
}

/** What a resource lookup may see: its own project's, or any for an admin. */
export function visibleTo(actor: Pick<Actor, 'projectId' | 'admin'>, row: { project_id: string } | undefined): boolean {
  return Boolean(row && (actor.admin || row.project_id === actor.projectId));
}

/**
 * Volume creation as Cinder's API does it: resolve and check the source and
 * type, decide size and zone, take the quota, record the volume as
 * `creating` and hand it to the scheduler.
 */
export async function createVolume(core: VolumeCore, actor: Actor, input: CreateVolumeInput): Promise<VolumeRow> {
  const { repos } = core;
  let source: VolumeSource = { kind: 'blank' };
  let inheritedType: string | undefined;
  let inheritedAz: string | undefined;
  let minSize = 1;
  let defaultSize: number | undefined;
  let bootable = 0;
  let imageMetadata: string | null = null;

  if (input.snapshotId !== undefined) {
    const snap = await repos.snapshots.get(input.snapshotId);
    if (!visibleTo(actor, snap)) throw Errors.notFoundMessage(`Snapshot ${input.snapshotId} could not be found.`);
    if (snap!.status !== 'available') throw Errors.badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    const vol = await repos.volumes.get(snap!.volume_id);
    source = { kind: 'snapshot', snapshotId: snap!.id };
    inheritedType = snap!.volume_type_id ?? vol?.volume_type_id;
    inheritedAz = vol?.availability_zone;
    minSize = defaultSize = snap!.volume_size;
    bootable = vol?.bootable ?? 0;
    imageMetadata = vol?.image_metadata ?? null;
  } else if (input.sourceVolid !== undefined) {
    const src = await repos.volumes.get(input.sourceVolid);
    if (!visibleTo(actor, src)) throw Errors.notFoundMessage(`Volume ${input.sourceVolid} could not be found.`);
    if (!['available', 'in-use'].includes(src!.status)) throw Errors.badRequest(`Invalid volume: Unable to clone volumes that are in a ${src!.status} state`);
    source = { kind: 'volume', sourceId: src!.id };
    inheritedType = src!.volume_type_id;
    inheritedAz = src!.availability_zone;
    minSize = defaultSize = src!.size;
    bootable = src!.bootable;
    imageMetadata = src!.image_metadata;
  } else if (input.backupId !== undefined) {
    const backup = await repos.backups.get(input.backupId);
    if (!visibleTo(actor, backup)) throw Errors.notFoundMessage(`Backup ${input.backupId} could not be found.`);
    if (backup!.status !== 'available') throw Errors.badRequest(`Invalid backup: Backup status must be available`);
    source = { kind: 'backup', backupId: backup!.id };
    minSize = defaultSize = backup!.size;
  } else if (input.imageRef !== undefined) {
    const image = await core.images.get(input.imageRef, actor.token);
    if (!image) throw Errors.notFoundMessage(`Image ${input.imageRef} could not be found.`);
    if (image.status !== 'active') throw Errors.badRequest(`Invalid image identifier or unable to access requested image. Image ${image.id} is not active.`);
    const size = input.size;
    if (size !== undefined) {
      const bytesGb = Math.ceil((image.size ?? 0) / GiB);
      if (bytesGb > size) throw Errors.badRequest(`Invalid input received: Size of specified image ${bytesGb}GB is larger than volume size ${size}GB.`);
      if ((image.min_disk ?? 0) > size) throw Errors.badRequest(`Invalid input received: Volume size ${size}GB cannot be smaller than the image minDisk size ${image.min_disk}GB.`);
      const virtualGb = Math.ceil((image.virtual_size ?? 0) / GiB);
      if (virtualGb > size) throw Errors.badRequest(`Invalid input received: Image virtual size is ${virtualGb}GB and doesn't fit in a volume of size ${size}GB.`);
    } else {
      defaultSize = Math.max(1, image.min_disk ?? 0, Math.ceil((image.virtual_size ?? image.size ?? 0) / GiB));
    }
    source = { kind: 'image', imageId: image.id };
  }

  const caller = { projectId: actor.projectId, admin: actor.admin };
  let type: VolumeTypeRow;
  if (input.volumeType !== undefined) type = await core.types.resolve(input.volumeType, caller);
  else if (inheritedType && (await repos.types.get(inheritedType))) type = (await repos.types.get(inheritedType))!;
  else type = await core.types.defaultFor(actor.projectId);

  let groupId: string | null = null;
  if (input.groupId !== undefined) {
    const group = await repos.groups.get(input.groupId);
    if (!visibleTo(actor, group)) throw Errors.notFoundMessage(`Group ${input.groupId} could not be found.`);
    const types = await repos.groupTypes.groupVolumeTypes(group!.id);
    if (!types.includes(type.id)) throw Errors.badRequest(`Invalid input received: Invalid volume_type provided: ${type.id} (requested type is not compatible with the group).`);
    if (!['available', 'creating'].includes(group!.status)) throw Errors.badRequest(`Invalid group: group status must be available`);
    groupId = group!.id;
  }

  const size = input.size ?? defaultSize;
  if (size === undefined) throw Errors.badRequest("Invalid input received: 'size' is a required property");
  if (size < minSize) {
    const what = source.kind === 'snapshot' ? 'snapshot' : source.kind === 'backup' ? 'backup' : 'source volume';
    throw Errors.badRequest(`Invalid input received: Volume size '${size}'GB cannot be smaller than the ${what} size ${minSize}GB. They must be >= original ${what} size.`);
  }

  const az = input.availabilityZone ?? inheritedAz ?? core.config.availabilityZone;
  if (az !== core.config.availabilityZone) throw Errors.badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);

  const specs = await repos.types.specs(type.id);
  const encryption = await repos.types.encryption(type.id);
  await core.quotas.consume(actor.projectId, volumeDeltas(size, type.name));

  const row: VolumeRow = {
    id: newUuid(),
    project_id: actor.projectId,
    user_id: actor.userId,
    name: input.name,
    description: input.description,
    size,
    status: 'creating',
    attach_status: 'detached',
    previous_status: null,
    migration_status: null,
    availability_zone: az,
    volume_type_id: type.id,
    snapshot_id: source.kind === 'snapshot' ? source.snapshotId : null,
    source_volid: source.kind === 'volume' ? source.sourceId : null,
    backup_id: source.kind === 'backup' ? source.backupId : null,
    group_id: groupId,
    host: null,
    bootable,
    multiattach: typeAllowsMultiattach(specs) ? 1 : 0,
    encryption_key_id: encryption ? newUuid() : null,
    replication_status: 'disabled',
    admin_metadata: toJson({}),
    image_metadata: imageMetadata,
    use_quota: 1,
    created_at: isoNow(),
    updated_at: null,
    launched_at: null,
  };
  try {
    await repos.volumes.insert(row);
    if (Object.keys(input.metadata).length) await repos.metadata.set('volume', row.id, input.metadata, true);
  } catch (err) {
    await core.quotas.release(actor.projectId, volumeDeltas(size, type.name));
    throw err;
  }
  const msg: ScheduleCreateVolume = { type: 'schedule.create_volume', v: 1, volumeId: row.id, source, requestId: actor.requestId };
  await core.bus.cast(SCHEDULER_QUEUE, msg);
  return row;
}
