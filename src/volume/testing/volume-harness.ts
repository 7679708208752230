import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createBackupStore } from '../../agents/volume/backup-store.js';
import { createFakeBackend, type FakeBackend } from '../../agents/volume/fake/fake-backend.js';
import { createImageCache } from '../../agents/volume/image-cache.js';
import type { AuthContext } from '../../core/auth/context.js';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import { createInProcessBus } from '../../core/bus/in-process-bus.js';
import { validateConfig } from '../../core/config/loader.js';
import type { Database } from '../../core/db/database.js';
import { migrateService } from '../../core/db/migrate.js';
import { Errors } from '../../core/errors.js';
import { silentLog } from '../../core/log.js';
import { Enforcer } from '../../core/policy/enforcer.js';
import { createVolumeApp } from '../api/app.js';
import { volumeSection, type VolumeConfig } from '../config.js';
import { volumeMigrations } from '../db/migrations.js';
import { createVolumeRepos } from '../db/volume-db.js';
import { backendCapabilities } from '../manager/backends.js';
import { createVolumeManager } from '../manager/volume-manager.js';
import { createVolumeCore, type VolumeCore } from '../service/core.js';
import { volumePolicyDefaults } from '../service/policy.js';
import { createScheduler } from '../service/scheduler.js';
import { keepServiceAlive } from '../service/service-registry.js';
import { createFakeCompute, createFakeImages, type FakeCompute, type FakeImages } from './fakes.js';

/** Projects and callers the harness knows (their token is the name). */
export const PROJECTS = { admin: 'a0000000000000000000000000000001', alice: 'a0000000000000000000000000000002', bob: 'a0000000000000000000000000000003', service: 'a0000000000000000000000000000004' };
export type Who = 'admin' | 'alice' | 'bob' | 'nova' | 'alice-reader';

function authOf(who: string): AuthContext {
  const base = { userDomainId: 'default', userDomainName: 'Default', projectDomainId: 'default', projectDomainName: 'Default', roleIds: [], isAdminProject: false, expiresAt: new Date(Date.now() + 3600_000), issuedAt: new Date(), methods: ['password'], auditIds: [] };
  switch (who) {
    case 'admin':
      return { ...base, token: who, userId: 'u-admin', userName: 'admin', projectId: PROJECTS.admin, projectName: 'admin', roles: ['admin', 'member', 'reader'], isAdminProject: true };
    case 'alice':
      return { ...base, token: who, userId: 'u-alice', userName: 'alice', projectId: PROJECTS.alice, projectName: 'alice', roles: ['member', 'reader'] };
    case 'alice-reader':
      return { ...base, token: who, userId: 'u-alice-r', userName: 'alice-r', projectId: PROJECTS.alice, projectName: 'alice', roles: ['reader'] };
    case 'bob':
      return { ...base, token: who, userId: 'u-bob', userName: 'bob', projectId: PROJECTS.bob, projectName: 'bob', roles: ['member', 'reader'] };
    case 'nova':
      return { ...base, token: who, userId: 'u-nova', userName: 'nova', projectId: PROJECTS.service, projectName: 'service', roles: ['admin', 'service', 'member', 'reader'] };
    default:
      throw Errors.unauthorized('The request you have made requires authentication.');
  }
}

export const fakeValidator: TokenValidator = { validate: async (token) => authOf(token) };

export interface VolumeHarness {
  core: VolumeCore;
  app: FastifyInstance;
  backend: FakeBackend;
  images: FakeImages;
  compute: FakeCompute;
  /** A request as `who` (X-Service-Token: nova's when `service` is set). */
  call(who: Who, method: InjectOptions['method'], path: string, body?: unknown, options?: { mv?: string; service?: boolean; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Record<string, unknown> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Polls GET path until `pick(body)` equals `want`. */
  waitFor(who: Who, path: string, pick: (body: any) => unknown, want: unknown, timeoutMs?: number): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

/**
 * The volume service on a fresh database with fakes around it (backend,
 * image service, compute, tokens): the API, scheduler and manager run as in
 * `nimbus up`, without Keystone, Glance or Nova.
 */
export async function startVolumeHarness(database: Database, overrides: Partial<VolumeConfig> = {}): Promise<VolumeHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-volume-harness-'));
  await migrateService(database, 'volume', volumeMigrations);
  const config = { ...validateConfig(volumeSection, {}), backends: [{ name: 'fake', driver: 'fake' as const, path: '', format: 'qcow2' as const, volumeGroup: '', lvmType: 'default' as const, volumeBackendName: '', capacityGb: 1000, reservedPercentage: 0, maxOverSubscriptionRatio: 20 }], ...overrides };
  const repos = createVolumeRepos(database);
  const bus = createInProcessBus();
  const log = silentLog();
  const images = createFakeImages();
  const compute = createFakeCompute();
  const core = createVolumeCore({ repos, config, log, bus, host: 'testhost', images, compute, enforcer: new Enforcer({ defaults: volumePolicyDefaults }) });
  await core.types.ensureDefault();
  const stops: Array<() => unknown> = [];
  stops.push(await createScheduler({ repos, bus, log, messages: core.messages, serviceDownSeconds: 60 }).start());
  const backend = createFakeBackend({ name: 'fake', capacityGb: 1000 });
  const backendConfig = config.backends[0]!;
  const manager = createVolumeManager({
    repos, log, bus, backend, backendConfig, serviceHost: 'testhost@fake', poolName: 'fake', availabilityZone: config.availabilityZone, images, compute,
    imageCache: createImageCache(join(dir, 'cache'), 1024 ** 3, (id, p) => images.download(id, p)), backups: createBackupStore(join(dir, 'backups'), 64 * 1024),
    tmpDir: join(dir, 'tmp'), quotas: core.quotas, messages: core.messages,
  });
  for (const binary of ['cinder-scheduler', 'cinder-backup'] as const) await keepServiceAlive(repos, log, { host: 'testhost', binary, topic: binary, availabilityZone: 'nova' }, 60).beat();
  const hb = keepServiceAlive(repos, log, { host: 'testhost@fake', binary: 'cinder-volume', topic: 'cinder-volume', availabilityZone: 'nova' }, 60, () => backendCapabilities(backend, backendConfig));
  await hb.beat();
  stops.push(hb.stop);
  stops.push(await manager.start());
  const app = createVolumeApp(core, fakeValidator, { logRequests: false });
  await app.ready();

  const harness: VolumeHarness = {
    core, app, backend, images, compute,
    async call(who, method, path, body, options = {}) {
      const headers: Record<string, string> = { 'x-auth-token': who, ...(options.headers ?? {}) };
      if (options.mv) headers['openstack-api-version'] = `volume ${options.mv}`;
      if (options.service) headers['x-service-token'] = 'nova';
      const project = who === 'nova' ? PROJECTS.service : PROJECTS[who === 'alice-reader' ? 'alice' : who];
      const res = await app.inject({ method, url: `/v3/${project}${path}`, headers, ...(body !== undefined ? { payload: body as object } : {}) });
      let parsed: unknown = undefined;
      try {
        parsed = res.body ? JSON.parse(res.body) : undefined;
      } catch {
        parsed = res.body;
      }
      return { status: res.statusCode, body: parsed, headers: res.headers };
    },
    async waitFor(who, path, pick, want, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      let last: unknown;
      for (;;) {
        const r = await harness.call(who, 'GET', path);
        last = r.status === 200 ? pick(r.body) : `HTTP ${r.status}`;
        if (last === want) return r.body;
        if (Date.now() > end) throw new Error(`waited for ${path} to become ${String(want)}, last ${String(last)}`);
        await new Promise((r2) => setTimeout(r2, 10));
      }
    },
    async close() {
      await app.close();
      for (const s of stops.reverse()) await s();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
