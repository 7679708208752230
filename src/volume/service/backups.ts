import { toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { BackupRow, VolumeRow } from '../db/tables.js';
import type { VolumeCore } from './core.js';
import { BACKUP_QUEUE, managerQueue } from './tasks.js';
import { createVolume, visibleTo, type Actor } from './volume-create.js';

export const BACKUP_SERVICE = 'cinder.backup.drivers.posix.PosixBackupDriver';
export const IMPORTED_VOLUME_ID = '00000000-0000-0000-0000-000000000000';

export interface CreateBackupInput {
  volumeId: string;
  name: string | null;
  description: string | null;
  container: string | null;
  incremental: boolean;
  force: boolean;
  snapshotId: string | null;
  metadata: Record<string, string>;
}

/** Backup rules of Cinder's API; the data moves in the manager of the volume's backend. */
export function createBackupService(core: VolumeCore) {
  const { repos } = core;

  return {
    async create(actor: Actor, input: CreateBackupInput): Promise<BackupRow> {
      const volume = await repos.volumes.get(input.volumeId);
      if (!visibleTo(actor, volume)) throw Errors.notFoundMessage(`Volume ${input.volumeId} could not be found.`);
      const v = volume as VolumeRow;
      if (!v.host) throw Errors.badRequest(`Invalid volume: Volume ${v.id} has no host.`);
      if (input.snapshotId) {
        const snap = await repos.snapshots.get(input.snapshotId);
        if (!visibleTo(actor, snap)) throw Errors.notFoundMessage(`Snapshot ${input.snapshotId} could not be found.`);
        if (snap!.volume_id !== v.id) throw Errors.badRequest(`Invalid input received: Snapshot ${snap!.id} is not a snapshot of volume ${v.id}.`);
        if (snap!.status !== 'available') throw Errors.badRequest(`Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${snap!.status}".`);
      } else if (v.status === 'in-use') {
        if (!input.force) throw Errors.badRequest('Invalid volume: Backing up an in-use volume must use the force flag.');
      } else if (v.status !== 'available') {
        throw Errors.badRequest(`Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${v.status}".`);
      }
      let parentId: string | null = null;
      if (input.incremental) {
        const latest = (await repos.backups.list({ eq: { volume_id: v.id, status: 'available' } }, { sort: [{ column: 'data_timestamp', dir: 'desc' }], limit: 1 }))[0];
        if (!latest) throw Errors.badRequest('Invalid backup: No backups available to do an incremental backup.');
        parentId = latest.id;
      }
      const deltas = { backups: 1, backup_gigabytes: v.size };
      await core.quotas.consume(v.project_id, deltas);
      const now = isoNow();
      const row: BackupRow = {
        id: newUuid(),
        project_id: v.project_id,
        user_id: actor.userId,
        volume_id: v.id,
        snapshot_id: input.snapshotId,
        name: input.name,
        description: input.description,
        container: input.container ?? 'volumebackups',
        status: 'creating',
        size: v.size,
        object_count: 0,
        fail_reason: null,
        is_incremental: parentId ? 1 : 0,
        parent_id: parentId,
        availability_zone: core.config.availabilityZone,
        data_timestamp: now,
        service_metadata: null,
        volume_info: toJson({}),
        restore_volume_id: null,
        created_at: now,
        updated_at: null,
      };
      const claimed = input.snapshotId
        ? await repos.snapshots.transition(input.snapshotId, ['available'], { status: 'backing-up' })
        : await repos.volumes.transition(v.id, input.force ? ['available', 'in-use'] : ['available'], { status: 'backing-up', previous_status: v.status });
      if (!claimed) {
        await core.quotas.release(v.project_id, deltas);
        throw Errors.badRequest(`Invalid volume: Volume ${v.id} changed state.`);
      }
      await repos.backups.insert(row);
      if (Object.keys(input.metadata).length) await repos.metadata.set('backup', row.id, input.metadata, true);
      await core.bus.cast(managerQueue(v.host), { type: 'backup.create', v: 1, backupId: row.id });
      return row;
    },

    async delete(backup: BackupRow, force = false): Promise<void> {
      if (!force && !['available', 'error'].includes(backup.status)) {
        throw Errors.badRequest(`Invalid backup: Backup status must be available or error, but the current status is "${backup.status}".`);
      }
      if (await repos.backups.count({ eq: { parent_id: backup.id } })) throw Errors.badRequest('Invalid backup: Incremental backups exist for this backup.');
      if (!(await repos.backups.transition(backup.id, force ? [backup.status] : ['available', 'error'], { status: 'deleting' }))) {
        throw Errors.badRequest('Invalid backup: Backup changed state.');
      }
      await core.bus.cast(BACKUP_QUEUE, { type: 'backup.delete', v: 1, backupId: backup.id });
    },

    async restore(actor: Actor, backup: BackupRow, target: { volumeId: string | null; name: string | null }): Promise<{ volumeId: string; volumeName: string | null }> {
      if (backup.status !== 'available') throw Errors.badRequest(`Invalid backup: Backup status must be available, but the current status is "${backup.status}".`);
      if (!target.volumeId) {
        const volume = await createVolume(core, actor, {
          size: backup.size,
          name: target.name ?? `restore_backup_${backup.id}`,
          description: 'auto-created_from_restore_from_backup',
          volumeType: undefined,
          metadata: {},
          snapshotId: undefined,
          sourceVolid: undefined,
          imageRef: undefined,
          backupId: backup.id,
          availabilityZone: undefined,
          groupId: undefined,
        });
        await repos.backups.transition(backup.id, ['available'], { status: 'restoring', restore_volume_id: volume.id });
        return { volumeId: volume.id, volumeName: volume.name };
      }
      const volume = await repos.volumes.get(target.volumeId);
      if (!visibleTo(actor, volume)) throw Errors.notFoundMessage(`Volume ${target.volumeId} could not be found.`);
      if (volume!.size < backup.size) throw Errors.badRequest(`Invalid volume: volume size ${volume!.size} is too small to restore backup of size ${backup.size}.`);
      if (!volume!.host) throw Errors.badRequest(`Invalid volume: Volume ${volume!.id} has no host.`);
      if (!(await repos.volumes.transition(volume!.id, ['available'], { status: 'restoring-backup' }))) {
        throw Errors.badRequest(`Invalid volume: Volume to be restored to must be available, but the current status is "${volume!.status}".`);
      }
      if (!(await repos.backups.transition(backup.id, ['available'], { status: 'restoring', restore_volume_id: volume!.id }))) {
        await repos.volumes.update(volume!.id, { status: 'available' });
        throw Errors.badRequest('Invalid backup: Backup changed state.');
      }
      await core.bus.cast(managerQueue(volume!.host), { type: 'backup.restore', v: 1, backupId: backup.id, volumeId: volume!.id });
      return { volumeId: volume!.id, volumeName: volume!.name };
    },

    exportRecord(backup: BackupRow): { backup_service: string; backup_url: string } {
      if (backup.status !== 'available') throw Errors.badRequest(`Invalid backup: Backup status must be available, but the current status is "${backup.status}".`);
      const record = {
        id: backup.id, size: backup.size, name: backup.name, description: backup.description, container: backup.container,
        object_count: backup.object_count, volume_info: backup.volume_info, service_metadata: backup.service_metadata ?? backup.id,
        availability_zone: backup.availability_zone, is_incremental: backup.is_incremental === 1, data_timestamp: backup.data_timestamp,
      };
      return { backup_service: BACKUP_SERVICE, backup_url: Buffer.from(JSON.stringify(record)).toString('base64') };
    },

    async importRecord(actor: Actor, service: string, url: string): Promise<BackupRow> {
      if (service !== BACKUP_SERVICE) throw Errors.badRequest(`Invalid backup: Backup service ${service} is not supported.`);
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(Buffer.from(url, 'base64').toString('utf8')) as Record<string, unknown>;
      } catch {
        throw Errors.badRequest('Invalid input received: Can\'t parse backup record.');
      }
      if (typeof record['id'] !== 'string' || typeof record['service_metadata'] !== 'string') throw Errors.badRequest('Invalid input received: Backup record is missing its id.');
      const existing = await repos.backups.get(record['id']);
      if (existing) throw Errors.badRequest(`Invalid backup: Backup already exists in database.`);
      const size = Number(record['size'] ?? 0);
      await core.quotas.consume(actor.projectId, { backups: 1, backup_gigabytes: size });
      const now = isoNow();
      const row: BackupRow = {
        id: record['id'], project_id: actor.projectId, user_id: actor.userId, volume_id: IMPORTED_VOLUME_ID, snapshot_id: null,
        name: (record['name'] as string | null) ?? null, description: (record['description'] as string | null) ?? null,
        container: (record['container'] as string | null) ?? null, status: 'creating', size, object_count: Number(record['object_count'] ?? 0),
        fail_reason: null, is_incremental: record['is_incremental'] ? 1 : 0, parent_id: null, availability_zone: core.config.availabilityZone,
        data_timestamp: String(record['data_timestamp'] ?? now), service_metadata: null, volume_info: String(record['volume_info'] ?? '{}'),
        restore_volume_id: null, created_at: now, updated_at: null,
      };
      await repos.backups.insert(row);
      await core.bus.cast(BACKUP_QUEUE, { type: 'backup.import', v: 1, backupId: row.id, manifest: { source: record['service_metadata'] } });
      return row;
    },
  };
}
export type BackupService = ReturnType<typeof createBackupService>;
