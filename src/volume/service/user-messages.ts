import { isoNow, newUuid } from '../../core/ids.js';
import type { VolumeRepos } from '../db/volume-db.js';

/** Cinder's user messages: what went wrong with an asynchronous request, told to the project that made it. */
export const MessageEvents = {
  scheduleNoBackend: { eventId: 'VOLUME_VOLUME_001_003', text: 'schedule allocate volume:Could not find any available weighted backend.' },
  createFailed: { eventId: 'VOLUME_VOLUME_001_002', text: 'schedule allocate volume:An unknown error occurred.' },
  imageDownloadFailed: { eventId: 'VOLUME_VOLUME_002_004', text: 'copy image to volume:Failed to copy image to volume.' },
  extendFailed: { eventId: 'VOLUME_VOLUME_007_001', text: 'extend volume:An unknown error occurred.' },
  uploadFailed: { eventId: 'VOLUME_VOLUME_008_001', text: 'copy volume to image:An unknown error occurred.' },
  snapshotFailed: { eventId: 'VOLUME_SNAPSHOT_003_001', text: 'create snapshot:An unknown error occurred.' },
  backupFailed: { eventId: 'VOLUME_BACKUP_001_001', text: 'backup create:An unknown error occurred.' },
  restoreFailed: { eventId: 'VOLUME_BACKUP_006_001', text: 'restore backup:An unknown error occurred.' },
} as const;

export function createUserMessages(repos: VolumeRepos, ttlSeconds: number) {
  return {
    async record(
      projectId: string,
      event: { eventId: string; text: string },
      resource: { type: 'VOLUME' | 'VOLUME_SNAPSHOT' | 'VOLUME_BACKUP' | 'GROUP'; uuid: string | null },
      requestId: string | null,
    ): Promise<void> {
      const now = new Date();
      await repos.messages.insert({
        id: newUuid(),
        project_id: projectId,
        request_id: requestId,
        resource_type: resource.type,
        resource_uuid: resource.uuid,
        event_id: event.eventId,
        message_level: 'ERROR',
        user_message: event.text,
        created_at: isoNow(now),
        expires_at: isoNow(new Date(now.getTime() + ttlSeconds * 1000)),
      });
    },
  };
}
export type UserMessages = ReturnType<typeof createUserMessages>;
