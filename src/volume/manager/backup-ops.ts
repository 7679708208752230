import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fromJson, toJson } from '../../core/db/columns.js';
import { isoNow } from '../../core/ids.js';
import type { VolumeRow } from '../db/tables.js';
import { MessageEvents } from '../service/user-messages.js';
import type { ManagerDeps } from './manager-deps.js';

/** What a backup remembers of its volume, so a restore gives back a volume that boots and carries its metadata. */
export interface BackupVolumeInfo {
  bootable: boolean;
  imageMetadata: Record<string, string> | null;
  metadata: Record<string, string>;
}

/** What users may read of a failure: the message without host paths (the log has the whole error). */
function publicReason(err: unknown): string {
  return String((err as Error)?.message ?? err).replace(/\/[^\s'"]+/g, '<path>').slice(0, 255);
}

/** Backup create / restore / delete against the backup store (Cinder's backup manager, run beside the volume manager). */
export function createBackupOps(deps: ManagerDeps) {
  const { repos, log, backend, backups: store } = deps;
  const tmpRaw = () => join(deps.tmpDir, `${randomUUID()}.raw`);

  /** The raw content of the volume, or of the snapshot when given (via a scratch volume). */
  async function exportRaw(volume: VolumeRow, snapshotId: string | null, out: string): Promise<void> {
    if (!snapshotId) {
      await backend.exportImage(volume.id, out, 'raw');
      return;
    }
    const scratch = `backup-scratch-${randomUUID()}`;
    try {
      await backend.createVolumeFromSnapshot(snapshotId, scratch, volume.size);
      await backend.exportImage(scratch, out, 'raw');
    } finally {
      await backend.deleteVolume(scratch).catch(() => undefined);
    }
  }

  async function restoreInto(backupId: string, volume: VolumeRow): Promise<void> {
    const backup = await repos.backups.get(backupId);
    if (!backup) throw new Error(`backup ${backupId} not found`);
    const raw = tmpRaw();
    try {
      await store.restore(backup.service_metadata ?? backup.id, raw);
      await backend.importImage(volume.id, raw, 'raw', volume.size);
    } finally {
      await rm(raw, { force: true });
    }
    const info = fromJson<BackupVolumeInfo>(backup.volume_info, { bootable: false, imageMetadata: null, metadata: {} });
    await repos.volumes.update(volume.id, { bootable: info.bootable ? 1 : 0, image_metadata: info.imageMetadata ? toJson(info.imageMetadata) : volume.image_metadata });
    if (Object.keys(info.metadata).length) {
      const current = await repos.metadata.get('volume', volume.id);
      await repos.metadata.set('volume', volume.id, { ...info.metadata, ...current }, true);
    }
  }

  return {
    restoreInto,

    async create(backupId: string): Promise<void> {
      const backup = await repos.backups.get(backupId);
      if (!backup || backup.status !== 'creating') return;
      const volume = await repos.volumes.get(backup.volume_id);
      const raw = tmpRaw();
      let outcome: Partial<typeof backup>;
      try {
        if (!volume) throw new Error(`volume ${backup.volume_id} is gone`);
        await exportRaw(volume, backup.snapshot_id, raw);
        const parent = backup.parent_id ? await repos.backups.get(backup.parent_id) : undefined;
        const result = await store.backup(backup.id, volume.id, raw, parent?.service_metadata ?? null);
        const info: BackupVolumeInfo = {
          bootable: volume.bootable === 1,
          imageMetadata: volume.image_metadata ? fromJson<Record<string, string>>(volume.image_metadata, {}) : null,
          metadata: await repos.metadata.get('volume', volume.id),
        };
        outcome = { status: 'available', object_count: result.objectCount, service_metadata: backup.id, volume_info: toJson(info) };
      } catch (err) {
        log.error({ err, backupId }, 'backup failed');
        outcome = { status: 'error', fail_reason: publicReason(err) };
        await deps.messages.record(backup.project_id, MessageEvents.backupFailed, { type: 'VOLUME_BACKUP', uuid: backup.id }, null);
      } finally {
        await rm(raw, { force: true });
      }
      // The source goes back first: whoever sees the backup done may use the volume again at once.
      if (volume) await repos.volumes.transition(volume.id, ['backing-up'], { status: volume.previous_status ?? 'available', previous_status: null });
      if (backup.snapshot_id) await repos.snapshots.transition(backup.snapshot_id, ['backing-up'], { status: 'available' });
      await repos.backups.update(backup.id, outcome);
    },

    async restore(backupId: string, volumeId: string): Promise<void> {
      const volume = await repos.volumes.get(volumeId);
      const backup = await repos.backups.get(backupId);
      if (!volume || !backup) return;
      try {
        await restoreInto(backupId, volume);
        await repos.volumes.update(volume.id, { status: 'available' });
      } catch (err) {
        log.error({ err, backupId, volumeId }, 'restore failed');
        await repos.volumes.update(volume.id, { status: 'error_restoring' });
        await deps.messages.record(volume.project_id, MessageEvents.restoreFailed, { type: 'VOLUME', uuid: volume.id }, null);
      }
      await repos.backups.transition(backupId, ['restoring'], { status: 'available', restore_volume_id: null });
    },

    async delete(backupId: string): Promise<void> {
      const backup = await repos.backups.get(backupId);
      if (!backup || backup.status !== 'deleting') return;
      try {
        await store.delete(backup.id);
      } catch (err) {
        log.error({ err, backupId }, 'backup deletion failed');
        await repos.backups.update(backup.id, { status: 'error_deleting' });
        return;
      }
      if (await repos.backups.delete(backup.id)) {
        await deps.quotas.release(backup.project_id, { backups: 1, backup_gigabytes: backup.size });
        if (backup.parent_id) await repos.backups.update(backup.parent_id, {}).catch(() => undefined);
      }
    },

    /** backup import: the record names data already in the store; the new backup gets its own manifest. */
    async importData(backupId: string, sourceManifest: string): Promise<void> {
      try {
        const manifest = await store.readManifest(sourceManifest);
        if (!manifest) throw new Error(`no backup data named ${sourceManifest} in the backup store`);
        await store.importManifest(backupId, manifest);
        await repos.backups.transition(backupId, ['creating'], { status: 'available', service_metadata: backupId });
      } catch (err) {
        log.error({ err, backupId }, 'backup import failed');
        await repos.backups.update(backupId, { status: 'error', fail_reason: publicReason(err) });
      }
    },

    /** Backups interrupted by a restart. */
    async recover(volumeIds: string[]): Promise<void> {
      if (!volumeIds.length) return;
      for (const b of await repos.backups.all({ eq: { volume_id: volumeIds } })) {
        if (b.status === 'creating') await repos.backups.update(b.id, { status: 'error', fail_reason: 'interrupted by a restart', updated_at: isoNow() });
        else if (b.status === 'restoring') await repos.backups.update(b.id, { status: 'available' });
      }
    },
  };
}
