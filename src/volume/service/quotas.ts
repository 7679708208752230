import { Errors } from '../../core/errors.js';
import { QuotaExceeded } from '../db/quota-repo.js';
import type { VolumeRepos } from '../db/volume-db.js';
import type { VolumeConfig } from '../config.js';

export const BASE_RESOURCES = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'per_volume_gigabytes', 'groups'] as const;
/** Resources counted per volume type: `volumes_<type>`, `snapshots_<type>`, `gigabytes_<type>`. */
export const TYPED_RESOURCES = ['volumes', 'snapshots', 'gigabytes'] as const;

export type Deltas = Record<string, number>;

/**
 * Cinder's quota engine: limits come from the project's own limits, else the
 * `default` quota class, else the configuration; usage changes only through
 * QuotaRepo.consume, which checks and counts in one atomic step.
 */
export function createQuotas(repos: VolumeRepos, config: VolumeConfig) {
  const q = config.quotas;
  const configured: Record<string, number> = {
    volumes: q.volumes,
    snapshots: q.snapshots,
    gigabytes: q.gigabytes,
    backups: q.backups,
    backup_gigabytes: q.backupGigabytes,
    per_volume_gigabytes: q.perVolumeGigabytes,
    groups: q.groups,
  };

  async function resourceNames(): Promise<string[]> {
    const types = await repos.types.list();
    return [...BASE_RESOURCES, ...types.flatMap((t) => TYPED_RESOURCES.map((r) => `${r}_${t.name}`))];
  }

  async function classLimits(className: string): Promise<Record<string, number>> {
    const names = await resourceNames();
    const stored = await repos.quotas.classLimits('default');
    const own = className === 'default' ? {} : await repos.quotas.classLimits(className);
    return Object.fromEntries(names.map((n) => [n, own[n] ?? stored[n] ?? configured[n] ?? -1]));
  }

  async function limits(projectId: string): Promise<Record<string, number>> {
    const defaults = await classLimits('default');
    const own = await repos.quotas.projectLimits(projectId);
    return Object.fromEntries(Object.entries(defaults).map(([k, v]) => [k, own[k] ?? v]));
  }

  async function consume(projectId: string, deltas: Deltas): Promise<void> {
    const lim = await limits(projectId);
    const perVolume = lim['per_volume_gigabytes'] ?? -1;
    const d = { ...deltas };
    const size = d['__size'];
    delete d['__size'];
    if (size !== undefined && perVolume >= 0 && size > perVolume) {
      throw overQuota(`VolumeSizeExceedsLimit: Requested volume size ${size}G is larger than maximum allowed limit ${perVolume}G.`);
    }
    try {
      await repos.quotas.consume(projectId, d, lim);
    } catch (err) {
      if (err instanceof QuotaExceeded) throw quotaError(err);
      throw err;
    }
  }

  return {
    resourceNames,
    classLimits,
    limits,
    usage: (projectId: string) => repos.quotas.usage(projectId),
    consume,
    /** Gives back what `consume` took (never fails). */
    release: async (projectId: string, deltas: Deltas) => {
      const negative = Object.fromEntries(Object.entries(deltas).filter(([k]) => k !== '__size').map(([k, v]) => [k, -v]));
      await repos.quotas.consume(projectId, negative, {});
    },
  };
}
export type Quotas = ReturnType<typeof createQuotas>;

/** Usage of one volume (its size is also checked against per_volume_gigabytes). */
export function volumeDeltas(size: number, typeName: string | undefined, count = 1): Deltas {
  const d: Deltas = { volumes: count, gigabytes: size, __size: size };
  if (typeName) {
    d[`volumes_${typeName}`] = count;
    d[`gigabytes_${typeName}`] = size;
  }
  return d;
}

export function snapshotDeltas(size: number, typeName: string | undefined): Deltas {
  const d: Deltas = { snapshots: 1, gigabytes: size };
  if (typeName) {
    d[`snapshots_${typeName}`] = 1;
    d[`gigabytes_${typeName}`] = size;
  }
  return d;
}

export function overQuota(message: string) {
  return Errors.overQuota(message, { headers: { 'retry-after': '0' } });
}

function quotaError(e: QuotaExceeded) {
  const consumed = e.inUse;
  const base = e.resource.replace(/_.*$/, '');
  if (e.resource === 'backup_gigabytes') {
    return overQuota(`VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested ${e.requested}G, quota is ${e.limit}G and ${consumed}G has been consumed.`);
  }
  switch (base) {
    case 'gigabytes':
      return overQuota(`VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${e.resource} quota. Requested ${e.requested}G, quota is ${e.limit}G and ${consumed}G has been consumed.`);
    case 'volumes':
      return overQuota(`VolumeLimitExceeded: Maximum number of volumes allowed (${e.limit}) exceeded for quota '${e.resource}'.`);
    case 'snapshots':
      return overQuota(`SnapshotLimitExceeded: Maximum number of snapshots allowed (${e.limit}) exceeded`);
    case 'backups':
      return overQuota(`BackupLimitExceeded: Maximum number of backups allowed (${e.limit}) exceeded`);
    case 'groups':
      return overQuota(`GroupLimitExceeded: Maximum number of groups allowed (${e.limit}) exceeded`);
    default:
      return overQuota(`Quota exceeded for resources: ['${e.resource}']`);
  }
}
