import type { Connector } from '../../agents/volume/backend.js';
import type { BusMessage } from '../../core/bus/bus.js';

/** Where a new volume's content comes from. */
export type VolumeSource =
  | { kind: 'blank' }
  | { kind: 'image'; imageId: string }
  | { kind: 'snapshot'; snapshotId: string }
  | { kind: 'volume'; sourceId: string }
  | { kind: 'backup'; backupId: string };

/** API → scheduler. */
export interface ScheduleCreateVolume extends BusMessage {
  type: 'schedule.create_volume';
  v: 1;
  volumeId: string;
  source: VolumeSource;
  requestId: string | null;
}

/** API/scheduler → the volume manager of one backend (queue `cinder-volume.<host@backend>`). */
export type ManagerTask = BusMessage &
  (
    | { type: 'volume.create'; volumeId: string; source: VolumeSource; requestId: string | null }
    | { type: 'volume.delete'; volumeId: string; cascade: boolean }
    | { type: 'volume.extend'; volumeId: string; newSize: number; requestId: string | null }
    | { type: 'volume.retype'; volumeId: string; typeId: string }
    | { type: 'volume.revert'; volumeId: string; snapshotId: string }
    | { type: 'volume.upload_image'; volumeId: string; imageId: string; diskFormat: string }
    | { type: 'volume.reimage'; volumeId: string; imageId: string }
    | { type: 'snapshot.create'; snapshotId: string }
    | { type: 'snapshot.delete'; snapshotId: string }
    | { type: 'backup.create'; backupId: string }
    | { type: 'backup.restore'; backupId: string; volumeId: string }
    | { type: 'backup.delete'; backupId: string }
    | { type: 'backup.import'; backupId: string; manifest: Record<string, unknown> }
    | { type: 'volume.initialize_connection'; volumeId: string; connector: Connector | null; mode: 'rw' | 'ro' }
    | { type: 'volume.terminate_connection'; volumeId: string; connector: Connector | null }
  );

export const SCHEDULER_QUEUE = 'cinder-scheduler';
/** Backup-store work that any backend's manager can do (deleting a backup whose volume is gone). */
export const BACKUP_QUEUE = 'cinder-backup';

/** The manager queue of a backend, from a volume's `host@backend#pool`. */
export function managerQueue(host: string): string {
  return `cinder-volume.${host.split('#')[0]}`;
}
