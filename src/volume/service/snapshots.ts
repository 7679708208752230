import { Errors } from '../../core/errors.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { SnapshotRow, VolumeRow } from '../db/tables.js';
import type { VolumeCore } from './core.js';
import { snapshotDeltas } from './quotas.js';
import { managerQueue } from './tasks.js';
import { visibleTo, type Actor } from './volume-create.js';

export const SNAPSHOT_STATUSES = ['creating', 'available', 'deleting', 'error', 'error_deleting', 'unmanaging', 'backing-up', 'restoring'];

export interface CreateSnapshotInput {
  volumeId: string | null;
  name: string | null;
  description: string | null;
  /** undefined when the request did not say. */
  force: boolean | undefined;
  metadata: Record<string, string>;
  /** 3.66+: in-use volumes may be snapshotted without force. */
  inUseAllowed: boolean;
  groupSnapshotId?: string | null;
}

/** Snapshot rules of Cinder's API (create/delete/status changes); the work happens in the volume's manager. */
export function createSnapshotService(core: VolumeCore) {
  const { repos } = core;
  const typeName = async (id: string | null) => (id ? (await repos.types.get(id))?.name : undefined);

  async function castTo(volumeId: string, task: { type: 'snapshot.create' | 'snapshot.delete'; snapshotId: string }): Promise<boolean> {
    const volume = await repos.volumes.get(volumeId);
    if (!volume?.host) return false;
    await core.bus.cast(managerQueue(volume.host), { ...task, v: 1 });
    return true;
  }

  async function destroyRecord(snap: SnapshotRow): Promise<void> {
    if (await repos.snapshots.delete(snap.id)) {
      if (snap.use_quota) await core.quotas.release(snap.project_id, snapshotDeltas(snap.volume_size, await typeName(snap.volume_type_id)));
    }
  }

  return {
    async create(actor: Actor, input: CreateSnapshotInput): Promise<SnapshotRow> {
      const volume = input.volumeId === null ? undefined : await repos.volumes.get(input.volumeId);
      if (!visibleTo(actor, volume)) throw Errors.notFoundMessage(`Volume ${input.volumeId} could not be found.`);
      const v = volume as VolumeRow;
      if (v.status === 'in-use') {
        if (input.inUseAllowed) {
          if (input.force === false) throw Errors.badRequest('Invalid input received: The force flag is not accepted for an in-use volume at this microversion (it must be true or absent).');
        } else if (!input.force) {
          throw Errors.badRequest(`Invalid volume: Volume ${v.id} status must be available, but current status is: in-use.`);
        }
      } else if (v.status !== 'available') {
        throw Errors.badRequest(`Invalid volume: Volume ${v.id} status must be available, but current status is: ${v.status}.`);
      }
      if (v.migration_status || !v.host) throw Errors.badRequest(`Invalid volume: Volume ${v.id} is not ready for snapshots.`);
      const deltas = snapshotDeltas(v.size, await typeName(v.volume_type_id));
      await core.quotas.consume(actor.projectId === v.project_id ? v.project_id : v.project_id, deltas);
      const row: SnapshotRow = {
        id: newUuid(),
        project_id: v.project_id,
        user_id: actor.userId,
        volume_id: v.id,
        name: input.name,
        description: input.description,
        status: 'creating',
        progress: '0%',
        volume_size: v.size,
        volume_type_id: v.volume_type_id,
        group_snapshot_id: input.groupSnapshotId ?? null,
        use_quota: 1,
        created_at: isoNow(),
        updated_at: null,
      };
      try {
        await repos.snapshots.insert(row);
        if (Object.keys(input.metadata).length) await repos.metadata.set('snapshot', row.id, input.metadata, true);
      } catch (err) {
        await core.quotas.release(v.project_id, deltas);
        throw err;
      }
      await castTo(v.id, { type: 'snapshot.create', snapshotId: row.id });
      return row;
    },

    async delete(snap: SnapshotRow, force = false): Promise<void> {
      if (!force) {
        if (snap.group_snapshot_id) throw Errors.badRequest(`Invalid snapshot: Snapshot ${snap.id} is part of a group snapshot and cannot be deleted on its own.`);
        if (!(await repos.snapshots.transition(snap.id, ['available', 'error'], { status: 'deleting' }))) {
          throw Errors.badRequest(`Invalid snapshot: Volume Snapshot status must be available or error, but current status is: ${snap.status}.`);
        }
      } else await repos.snapshots.update(snap.id, { status: 'deleting' });
      if (!(await castTo(snap.volume_id, { type: 'snapshot.delete', snapshotId: snap.id }))) await destroyRecord(snap);
    },

    async resetStatus(snap: SnapshotRow, status: string): Promise<void> {
      if (!SNAPSHOT_STATUSES.includes(status)) throw Errors.badRequest(`Invalid input received: Invalid status: ${status}`);
      await repos.snapshots.update(snap.id, { status });
    },

    /** os-update_snapshot_status: what an external driver (e.g. Nova's assisted snapshots) reports. */
    async updateStatus(snap: SnapshotRow, status: string, progress: string | undefined): Promise<void> {
      const allowed: Record<string, string[]> = { creating: ['creating', 'available', 'error'], deleting: ['deleting', 'error_deleting'] };
      if (!(allowed[snap.status] ?? []).includes(status)) {
        throw Errors.badRequest(`Invalid input received: Snapshot status ${snap.status} not allowed for update_snapshot_status to ${status}`);
      }
      await repos.snapshots.update(snap.id, { status, ...(progress !== undefined ? { progress } : {}) });
    },

    destroyRecord,
  };
}
export type SnapshotService = ReturnType<typeof createSnapshotService>;
