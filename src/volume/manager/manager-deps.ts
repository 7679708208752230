import type { BackupStore } from '../../agents/volume/backup-store.js';
import type { VolumeBackend } from '../../agents/volume/backend.js';
import type { ImageCache } from '../../agents/volume/image-cache.js';
import type { Bus } from '../../core/bus/bus.js';
import type { Log } from '../../core/log.js';
import type { VolumeBackendConfig } from '../config.js';
import type { VolumeRepos } from '../db/volume-db.js';
import type { ComputeClient } from '../service/clients/compute-client.js';
import type { ImageClient } from '../service/clients/image-client.js';
import type { Quotas } from '../service/quotas.js';
import type { UserMessages } from '../service/user-messages.js';

/** What the manager of one backend works with. */
export interface ManagerDeps {
  repos: VolumeRepos;
  log: Log;
  bus: Bus;
  backend: VolumeBackend;
  backendConfig: VolumeBackendConfig;
  /** `host@backend`. */
  serviceHost: string;
  poolName: string;
  availabilityZone: string;
  images: ImageClient;
  compute: ComputeClient;
  imageCache: ImageCache;
  backups: BackupStore;
  /** Scratch space for conversions (same file system as the data dir). */
  tmpDir: string;
  quotas: Quotas;
  messages: UserMessages;
}
