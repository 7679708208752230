import { isUniqueViolation } from '../../core/db/database.js';
import { toJson } from '../../core/db/columns.js';
import { isoNow, newUuid } from '../../core/ids.js';
import type { Log } from '../../core/log.js';
import type { VolumeRepos } from '../db/volume-db.js';

export interface ServiceIdentity {
  host: string;
  binary: 'cinder-volume' | 'cinder-scheduler' | 'cinder-backup';
  topic: string;
  availabilityZone: string;
}

/**
 * Keeps a row in the services table alive (Cinder's service heartbeat); a
 * cinder-volume row also carries its backend's capabilities for the
 * scheduler. Returns a stop function.
 */
export function keepServiceAlive(
  repos: VolumeRepos,
  log: Log,
  who: ServiceIdentity,
  intervalSeconds: number,
  capabilities?: () => Promise<Record<string, unknown>>,
): { beat(): Promise<void>; stop(): void } {
  async function beat(): Promise<void> {
    const caps = capabilities ? toJson(await capabilities()) : null;
    const now = isoNow();
    const row = await repos.services.get(who.host, who.binary);
    if (row) {
      await repos.services.update(row.id, { updated_at: now, report_count: row.report_count + 1, capabilities: caps, availability_zone: who.availabilityZone });
      return;
    }
    try {
      await repos.services.insert({
        id: newUuid(),
        host: who.host,
        binary: who.binary,
        topic: who.topic,
        availability_zone: who.availabilityZone,
        disabled: 0,
        disabled_reason: null,
        frozen: 0,
        capabilities: caps,
        report_count: 1,
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }
  const timer = setInterval(() => {
    beat().catch((err: unknown) => log.warn({ err, service: who.binary, host: who.host }, 'service heartbeat failed'));
  }, intervalSeconds * 1000);
  timer.unref();
  return { beat, stop: () => clearInterval(timer) };
}
