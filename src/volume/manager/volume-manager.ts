import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageFormat } from '../../agents/volume/backend.js';
import type { BusMessage } from '../../core/bus/bus.js';
import { fromJson, toJson } from '../../core/db/columns.js';
import { isoNow } from '../../core/ids.js';
import type { VolumeRow } from '../db/tables.js';
import { settleGroupSnapshot } from '../service/group-snapshot-state.js';
import { snapshotDeltas, volumeDeltas } from '../service/quotas.js';
import { BACKUP_QUEUE, managerQueue, type ManagerTask, type VolumeSource } from '../service/tasks.js';
import { MessageEvents } from '../service/user-messages.js';
import { createBackupOps } from './backup-ops.js';
import { imageMetadataOf } from './image-metadata.js';
import type { ManagerDeps } from './manager-deps.js';

/** Statuses a manager finds its volumes in after a crash, and where they go (a restart reconciles, convention 3). */
const RECOVER_VOLUME: Record<string, string> = {
  creating: 'error',
  downloading: 'error',
  extending: 'error_extending',
  'restoring-backup': 'error_restoring',
};

/**
 * Cinder's volume manager for one backend: takes tasks off the backend's
 * queue, does the storage work through the backend driver and records the
 * outcome (status, size, quota on deletion, a user message on failure).
 */
export function createVolumeManager(deps: ManagerDeps) {
  const { repos, log, backend } = deps;
  const backups = createBackupOps(deps);
  const tmpFile = (ext: string) => join(deps.tmpDir, `${randomUUID()}.${ext}`);

  const typeName = async (typeId: string | null) => (typeId ? (await repos.types.get(typeId))?.name : undefined);

  async function fail(volume: VolumeRow, status: string, event: { eventId: string; text: string }, err: unknown, requestId: string | null = null): Promise<void> {
    log.error({ err, volumeId: volume.id, backend: backend.name }, `volume operation failed: ${event.text}`);
    await repos.volumes.update(volume.id, { status });
    await deps.messages.record(volume.project_id, event, { type: 'VOLUME', uuid: volume.id }, requestId);
  }

  async function populate(volume: VolumeRow, source: VolumeSource): Promise<void> {
    switch (source.kind) {
      case 'blank':
        await backend.createVolume(volume.id, volume.size);
        return;
      case 'snapshot':
        await backend.createVolumeFromSnapshot(source.snapshotId, volume.id, volume.size);
        return;
      case 'volume':
        await backend.cloneVolume(source.sourceId, volume.id, volume.size);
        return;
      case 'backup':
        await backend.createVolume(volume.id, volume.size);
        await backups.restoreInto(source.backupId, volume);
        return;
      case 'image': {
        await repos.volumes.transition(volume.id, ['creating'], { status: 'downloading' });
        const image = await deps.images.get(source.imageId);
        if (!image || image.status !== 'active') throw new Error(`image ${source.imageId} is not available`);
        const fetched = await deps.imageCache.fetch({ id: image.id, version: image.checksum ?? image.updated_at ?? '', diskFormat: image.disk_format ?? 'raw' });
        try {
          await backend.createVolume(volume.id, volume.size);
          await backend.importImage(volume.id, fetched.path, (image.disk_format ?? 'raw') as ImageFormat, volume.size);
        } finally {
          if (fetched.temporary) await rm(fetched.path, { force: true });
        }
        await repos.volumes.update(volume.id, { bootable: 1, image_metadata: toJson(imageMetadataOf(image)) });
        return;
      }
    }
  }

  async function createVolume(task: Extract<ManagerTask, { type: 'volume.create' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume || volume.status !== 'creating') return;
    const source = task.source;
    // A restore into a new volume holds its backup in `restoring` until the data is in.
    const releaseBackup = async () => {
      if (source.kind === 'backup') await repos.backups.transition(source.backupId, ['restoring'], { status: 'available', restore_volume_id: null });
    };
    try {
      await populate(volume, source);
    } catch (err) {
      await backend.deleteVolume(volume.id).catch(() => undefined);
      const event = source.kind === 'image' ? MessageEvents.imageDownloadFailed : MessageEvents.createFailed;
      await fail(volume, source.kind === 'backup' ? 'error_restoring' : 'error', event, err, task.requestId);
      await releaseBackup();
      return;
    }
    await releaseBackup();
    const ok = await repos.volumes.transition(volume.id, ['creating', 'downloading'], { status: 'available', launched_at: isoNow() });
    // Deleted (or reset) meanwhile: do not leave storage behind for a volume that is gone.
    if (!ok && !(await repos.volumes.get(volume.id))) await backend.deleteVolume(volume.id).catch(() => undefined);
  }

  async function deleteSnapshotRow(snapshotId: string): Promise<void> {
    const snap = await repos.snapshots.get(snapshotId);
    if (!snap) return;
    await backend.deleteSnapshot(snapshotId);
    if (await repos.snapshots.delete(snapshotId)) {
      if (snap.use_quota) await deps.quotas.release(snap.project_id, snapshotDeltas(snap.volume_size, await typeName(snap.volume_type_id)));
    }
    if (snap.group_snapshot_id) await settleGroupSnapshot(repos, snap.group_snapshot_id);
  }

  async function deleteVolume(task: Extract<ManagerTask, { type: 'volume.delete' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume || volume.status !== 'deleting') return;
    try {
      if (task.cascade) {
        for (const s of await repos.snapshots.all({ eq: { volume_id: volume.id } })) await deleteSnapshotRow(s.id);
      }
      await backend.deleteVolume(volume.id);
    } catch (err) {
      log.error({ err, volumeId: volume.id }, 'volume deletion failed');
      await repos.volumes.update(volume.id, { status: 'error_deleting' });
      return;
    }
    await repos.attachments.all({ eq: { volume_id: volume.id } }).then((rows) => Promise.all(rows.map((a) => repos.attachments.delete(a.id))));
    if ((await repos.volumes.delete(volume.id)) && volume.use_quota) {
      await deps.quotas.release(volume.project_id, volumeDeltas(volume.size, await typeName(volume.volume_type_id)));
    }
  }

  async function extendVolume(task: Extract<ManagerTask, { type: 'volume.extend' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume || volume.status !== 'extending') return;
    const inUse = volume.previous_status === 'in-use';
    const delta = task.newSize - volume.size;
    try {
      await backend.extendVolume(volume.id, task.newSize, { inUse });
    } catch (err) {
      await deps.quotas.release(volume.project_id, { gigabytes: delta, ...(await typedGb(volume, delta)) });
      await fail(volume, 'error_extending', MessageEvents.extendFailed, err, task.requestId);
      return;
    }
    await repos.volumes.update(volume.id, { size: task.newSize, status: volume.previous_status ?? 'available', previous_status: null });
    if (inUse) {
      for (const a of await repos.attachments.all({ eq: { volume_id: volume.id, attach_status: 'attached' } })) {
        if (a.instance_uuid) await deps.compute.volumeExtended(a.instance_uuid, volume.id).catch((err: unknown) => log.warn({ err }, 'could not tell compute about the extension'));
      }
    }
  }

  async function typedGb(volume: VolumeRow, delta: number): Promise<Record<string, number>> {
    const name = await typeName(volume.volume_type_id);
    return name ? { [`gigabytes_${name}`]: delta } : {};
  }

  async function revert(task: Extract<ManagerTask, { type: 'volume.revert' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume) return;
    try {
      await backend.revertToSnapshot(volume.id, task.snapshotId, volume.size);
      await repos.volumes.update(volume.id, { status: 'available' });
    } catch (err) {
      log.error({ err, volumeId: volume.id }, 'revert to snapshot failed');
      await repos.volumes.update(volume.id, { status: 'error' });
    }
    await repos.snapshots.transition(task.snapshotId, ['restoring'], { status: 'available' });
  }

  async function uploadImage(task: Extract<ManagerTask, { type: 'volume.upload_image' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume) return;
    const out = tmpFile(task.diskFormat);
    try {
      await backend.exportImage(volume.id, out, task.diskFormat as ImageFormat);
      await deps.images.upload(task.imageId, out);
    } catch (err) {
      await deps.images.delete(task.imageId).catch(() => undefined);
      await deps.messages.record(volume.project_id, MessageEvents.uploadFailed, { type: 'VOLUME', uuid: volume.id }, null);
      log.error({ err, volumeId: volume.id }, 'upload to image failed');
    } finally {
      await rm(out, { force: true });
    }
    await repos.volumes.transition(volume.id, ['uploading'], { status: volume.previous_status ?? 'available', previous_status: null });
  }

  async function createSnapshot(task: Extract<ManagerTask, { type: 'snapshot.create' }>): Promise<void> {
    const snap = await repos.snapshots.get(task.snapshotId);
    if (!snap || snap.status !== 'creating') return;
    try {
      await backend.createSnapshot(snap.volume_id, snap.id);
    } catch (err) {
      log.error({ err, snapshotId: snap.id }, 'snapshot creation failed');
      await repos.snapshots.update(snap.id, { status: 'error' });
      await deps.messages.record(snap.project_id, MessageEvents.snapshotFailed, { type: 'VOLUME_SNAPSHOT', uuid: snap.id }, null);
      if (snap.group_snapshot_id) await settleGroupSnapshot(repos, snap.group_snapshot_id);
      return;
    }
    const ok = await repos.snapshots.transition(snap.id, ['creating'], { status: 'available', progress: '100%' });
    if (snap.group_snapshot_id) await settleGroupSnapshot(repos, snap.group_snapshot_id);
    if (!ok && !(await repos.snapshots.get(snap.id))) await backend.deleteSnapshot(snap.id).catch(() => undefined);
  }

  async function deleteSnapshot(task: Extract<ManagerTask, { type: 'snapshot.delete' }>): Promise<void> {
    const snap = await repos.snapshots.get(task.snapshotId);
    if (!snap || snap.status !== 'deleting') return;
    try {
      await deleteSnapshotRow(snap.id);
    } catch (err) {
      log.error({ err, snapshotId: snap.id }, 'snapshot deletion failed');
      await repos.snapshots.update(snap.id, { status: 'error_deleting' });
    }
  }

  async function retype(task: Extract<ManagerTask, { type: 'volume.retype' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume || volume.status !== 'retyping') return;
    // Same backend (migration_policy never or the new type fits here): only the record changes.
    await repos.volumes.update(volume.id, { volume_type_id: task.typeId, status: volume.previous_status ?? 'available', previous_status: null });
  }

  async function reimage(task: Extract<ManagerTask, { type: 'volume.reimage' }>): Promise<void> {
    const volume = await repos.volumes.get(task.volumeId);
    if (!volume) return;
    const image = await deps.images.get(task.imageId);
    try {
      if (!image) throw new Error(`image ${task.imageId} not found`);
      const fetched = await deps.imageCache.fetch({ id: image.id, version: image.checksum ?? '', diskFormat: image.disk_format ?? 'raw' });
      await backend.importImage(volume.id, fetched.path, (image.disk_format ?? 'raw') as ImageFormat, volume.size);
      if (fetched.temporary) await rm(fetched.path, { force: true });
      await repos.volumes.update(volume.id, { status: volume.previous_status ?? 'available', previous_status: null, bootable: 1, image_metadata: toJson(imageMetadataOf(image)) });
    } catch (err) {
      await fail(volume, 'error', MessageEvents.imageDownloadFailed, err);
    }
  }

  async function handle(task: ManagerTask): Promise<unknown> {
    switch (task.type) {
      case 'volume.initialize_connection':
        return backend.connectionInfo(task.volumeId, task.connector, task.mode);
      case 'volume.terminate_connection':
        return backend.terminateConnection(task.volumeId, task.connector);
      case 'volume.create':
        return createVolume(task);
      case 'volume.delete':
        return deleteVolume(task);
      case 'volume.extend':
        return extendVolume(task);
      case 'volume.retype':
        return retype(task);
      case 'volume.revert':
        return revert(task);
      case 'volume.upload_image':
        return uploadImage(task);
      case 'volume.reimage':
        return reimage(task);
      case 'snapshot.create':
        return createSnapshot(task);
      case 'snapshot.delete':
        return deleteSnapshot(task);
      case 'backup.create':
        return backups.create(task.backupId);
      case 'backup.restore':
        return backups.restore(task.backupId, task.volumeId);
      case 'backup.delete':
        return backups.delete(task.backupId);
      case 'backup.import':
        return backups.importData(task.backupId, String(task.manifest['source'] ?? ''));
    }
  }

  /** Puts volumes left mid-operation by a previous run into a state users can act on. */
  async function recover(): Promise<void> {
    const mine = await repos.volumes.all({ where: undefined, eq: {} }).then((rows) => rows.filter((v) => v.host?.split('#')[0] === deps.serviceHost));
    for (const v of mine) {
      const to = RECOVER_VOLUME[v.status];
      if (to) await repos.volumes.update(v.id, { status: to });
      else if (['uploading', 'retyping', 'backing-up'].includes(v.status)) await repos.volumes.update(v.id, { status: v.previous_status ?? 'available', previous_status: null });
      else if (v.status === 'deleting') await deps.bus.cast(managerQueue(v.host!), { type: 'volume.delete', v: 1, volumeId: v.id, cascade: true });
    }
    await backups.recover(mine.map((v) => v.id));
  }

  return {
    handle,
    recover,
    async start(): Promise<() => Promise<void>> {
      await mkdir(deps.tmpDir, { recursive: true, mode: 0o700 });
      await recover();
      const serve = async (m: BusMessage) => {
        if (m.v !== 1) {
          log.warn({ type: m.type, v: m.v }, 'volume manager: unknown message version');
          return;
        }
        // Connection requests are calls: their errors go back to the caller.
        if (m.type === 'volume.initialize_connection' || m.type === 'volume.terminate_connection') return handle(m as ManagerTask);
        try {
          await handle(m as ManagerTask);
        } catch (err) {
          log.error({ err, task: m.type }, 'volume manager task failed');
        }
        return undefined;
      };
      const stops = [await deps.bus.consume(managerQueue(deps.serviceHost), serve), await deps.bus.consume(BACKUP_QUEUE, serve)];
      return async () => {
        for (const s of stops) await s();
      };
    },
    /** Admin metadata helper for tests. */
    adminMetadata: (v: VolumeRow) => fromJson<Record<string, string>>(v.admin_metadata, {}),
  };
}
export type VolumeManager = ReturnType<typeof createVolumeManager>;
