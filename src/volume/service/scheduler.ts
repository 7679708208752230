import type { Bus } from '../../core/bus/bus.js';
import { fromJson } from '../../core/db/columns.js';
import type { Log } from '../../core/log.js';
import type { ServiceRow } from '../db/tables.js';
import type { VolumeRepos } from '../db/volume-db.js';
import { poolMatchesSpecs } from './capabilities-filter.js';
import { managerQueue, SCHEDULER_QUEUE, type ManagerTask, type ScheduleCreateVolume } from './tasks.js';
import { MessageEvents, type UserMessages } from './user-messages.js';

/** A backend pool as the scheduler sees it: the latest report of a cinder-volume service. */
export interface PoolState {
  /** `host@backend#pool`. */
  name: string;
  availabilityZone: string;
  capabilities: Record<string, unknown>;
}

export interface PlacementRequest {
  sizeGb: number;
  extraSpecs: Record<string, string>;
  availabilityZone: string | null;
}

/** Pools of enabled, live cinder-volume services. */
export function livePools(services: ServiceRow[], downAfterSeconds: number, now = Date.now()): PoolState[] {
  const pools: PoolState[] = [];
  for (const s of services) {
    if (s.binary !== 'cinder-volume' || s.disabled || s.frozen) continue;
    if (now - Date.parse(s.updated_at) > downAfterSeconds * 1000) continue;
    const caps = fromJson<Record<string, unknown>>(s.capabilities, {});
    const poolName = String(caps['pool_name'] ?? s.host.split('@')[1] ?? 'pool');
    pools.push({ name: `${s.host}#${poolName}`, availabilityZone: s.availability_zone, capabilities: caps });
  }
  return pools;
}

/** Whether a pool has room for `sizeGb` (thin pools by over-subscription ratio, thick by free space). */
export function hasCapacity(caps: Record<string, unknown>, sizeGb: number, claimedGb = 0): boolean {
  const total = Number(caps['total_capacity_gb'] ?? 0);
  const free = Number(caps['free_capacity_gb'] ?? 0) - claimedGb;
  const reserved = (Number(caps['reserved_percentage'] ?? 0) / 100) * total;
  if (caps['thin_provisioning_support'] === true) {
    const provisioned = Number(caps['provisioned_capacity_gb'] ?? 0) + claimedGb;
    const ratio = Number(caps['max_over_subscription_ratio'] ?? 1);
    return free - reserved > 0 && provisioned + sizeGb <= (total - reserved) * ratio;
  }
  return free - reserved >= sizeGb;
}

/** Filters (availability zone, capacity, capabilities) then weighs by free capacity, like Cinder's default scheduler. */
export function choosePool(pools: PoolState[], req: PlacementRequest, claimed: Map<string, number> = new Map()): PoolState | undefined {
  const azSpec = req.extraSpecs['RESKEY:availability_zones'];
  const allowedAzs = azSpec ? azSpec.split(',').map((s) => s.trim()) : undefined;
  const candidates = pools.filter(
    (p) =>
      (!req.availabilityZone || p.availabilityZone === req.availabilityZone) &&
      (!allowedAzs || allowedAzs.includes(p.availabilityZone)) &&
      hasCapacity(p.capabilities, req.sizeGb, claimed.get(p.name) ?? 0) &&
      poolMatchesSpecs(p.capabilities, req.extraSpecs),
  );
  const free = (p: PoolState) => Number(p.capabilities['free_capacity_gb'] ?? 0) - (claimed.get(p.name) ?? 0);
  return candidates.sort((a, b) => free(b) - free(a))[0];
}

export interface SchedulerDeps {
  repos: VolumeRepos;
  bus: Bus;
  log: Log;
  messages: UserMessages;
  serviceDownSeconds: number;
}

/**
 * The volume scheduler: takes new volumes off `cinder-scheduler`, places them
 * on a pool and hands them to that backend's manager. A volume that fits
 * nowhere goes to `error` with a user message. Space handed out since a
 * pool's last report is remembered, so a burst of creations spreads out.
 */
export function createScheduler(deps: SchedulerDeps) {
  const { repos, bus, log } = deps;
  const claims = new Map<string, { reportedAt: string; gb: number }>();

  async function place(volumeId: string, req: PlacementRequest, sourceHost: string | null): Promise<string | undefined> {
    const services = await repos.services.list();
    const pools = livePools(services, deps.serviceDownSeconds);
    const claimed = new Map<string, number>();
    for (const s of services) {
      const c = claims.get(s.host);
      if (c && c.reportedAt === s.updated_at) for (const p of pools) if (p.name.startsWith(`${s.host}#`)) claimed.set(p.name, c.gb);
    }
    // Clones and volumes from snapshots stay on the backend that holds their source.
    const eligible = sourceHost ? pools.filter((p) => p.name === sourceHost || p.name.split('#')[0] === sourceHost.split('#')[0]) : pools;
    const pool = choosePool(eligible, req, claimed);
    if (!pool) return undefined;
    const serviceHost = pool.name.split('#')[0]!;
    const reportedAt = services.find((s) => s.host === serviceHost)?.updated_at ?? '';
    const prev = claims.get(serviceHost);
    claims.set(serviceHost, { reportedAt, gb: (prev && prev.reportedAt === reportedAt ? prev.gb : 0) + req.sizeGb });
    log.debug({ volumeId, pool: pool.name }, 'scheduled volume');
    return pool.name;
  }

  async function handle(msg: ScheduleCreateVolume): Promise<void> {
    const volume = await repos.volumes.get(msg.volumeId);
    if (!volume || volume.status !== 'creating') return;
    const specs = await repos.types.specs(volume.volume_type_id);
    let sourceHost: string | null = null;
    if (msg.source.kind === 'snapshot') {
      const snap = await repos.snapshots.get(msg.source.snapshotId);
      sourceHost = snap ? ((await repos.volumes.get(snap.volume_id))?.host ?? null) : null;
    } else if (msg.source.kind === 'volume') {
      sourceHost = (await repos.volumes.get(msg.source.sourceId))?.host ?? null;
    }
    const host = await place(volume.id, { sizeGb: volume.size, extraSpecs: specs, availabilityZone: volume.availability_zone }, sourceHost);
    if (!host) {
      await repos.volumes.transition(volume.id, ['creating'], { status: 'error' });
      await deps.messages.record(volume.project_id, MessageEvents.scheduleNoBackend, { type: 'VOLUME', uuid: volume.id }, msg.requestId);
      log.warn({ volumeId: volume.id }, 'no backend can hold the volume');
      return;
    }
    await repos.volumes.update(volume.id, { host });
    const task: ManagerTask = { type: 'volume.create', v: 1, volumeId: volume.id, source: msg.source, requestId: msg.requestId };
    await bus.cast(managerQueue(host), task);
  }

  return {
    place,
    async start(): Promise<() => Promise<void>> {
      return bus.consume(SCHEDULER_QUEUE, async (m) => {
        if (m.type !== 'schedule.create_volume' || m.v !== 1) {
          log.warn({ type: m.type, v: m.v }, 'scheduler: unknown message');
          return;
        }
        try {
          await handle(m as ScheduleCreateVolume);
        } catch (err) {
          log.error({ err, volumeId: m['volumeId'] }, 'scheduling failed');
          await repos.volumes.transition(String(m['volumeId']), ['creating'], { status: 'error' }).catch(() => undefined);
        }
      });
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
