import { hostname } from 'node:os';
import { join } from 'node:path';
import { createBackupStore } from '../agents/volume/backup-store.js';
import { createImageCache } from '../agents/volume/image-cache.js';
import { createServiceSession } from '../core/clients/service-auth.js';
import { Enforcer, readPolicyFile } from '../core/policy/enforcer.js';
import type { RunningService, ServiceModule } from '../runtime/service-module.js';
import { createVolumeApp } from './api/app.js';
import { volumeMigrations } from './db/migrations.js';
import { createVolumeRepos } from './db/volume-db.js';
import { backendCapabilities, createBackend } from './manager/backends.js';
import { createVolumeManager } from './manager/volume-manager.js';
import { createHttpComputeClient } from './service/clients/compute-client.js';
import { createHttpImageClient } from './service/clients/image-client.js';
import { createVolumeCore } from './service/core.js';
import { volumePolicyDefaults } from './service/policy.js';
import { createScheduler } from './service/scheduler.js';
import { keepServiceAlive } from './service/service-registry.js';

/**
 * Block storage (Cinder v3) in one module: the API, the scheduler, and a
 * volume manager per configured backend (with the backup store beside
 * them). Scaled out, each role would run where its storage is.
 */
export const volumeModule: ServiceModule = {
  name: 'volume',
  enabled: (config) => config.volume.enabled,
  migrations: volumeMigrations,
  catalog: (config, publicUrl) => {
    const url = publicUrl(config.volume.port, '/v3/$(project_id)s');
    const urls = { public: url, internal: url, admin: url };
    return [
      { type: 'volumev3', name: 'cinderv3', description: 'OpenStack Block Storage', urls },
      { type: 'block-storage', name: 'cinder', description: 'OpenStack Block Storage', urls },
    ];
  },
  async start(ctx): Promise<RunningService> {
    const { config, log: rootLog } = ctx;
    const cfg = config.volume;
    const log = rootLog.child({ service: 'volume' });
    const repos = createVolumeRepos(ctx.database);
    const host = cfg.host || hostname();
    const session = createServiceSession(ctx.serviceCredentials);
    const images = createHttpImageClient(session);
    const compute = createHttpComputeClient(session);
    const enforcer = new Enforcer({ defaults: volumePolicyDefaults, overrides: readPolicyFile(cfg.policyFile || join(config.dataDir, 'volume-policy.yaml')) });
    const core = createVolumeCore({ repos, config: cfg, log, bus: ctx.bus, host, images, compute, enforcer });
    await core.types.ensureDefault();

    const stops: Array<() => Promise<void> | void> = [];
    const scheduler = createScheduler({ repos, bus: ctx.bus, log, messages: core.messages, serviceDownSeconds: cfg.serviceDownSeconds });
    stops.push(await scheduler.start());
    for (const binary of ['cinder-scheduler', 'cinder-backup'] as const) {
      const hb = keepServiceAlive(repos, log, { host, binary, topic: binary, availabilityZone: cfg.availabilityZone }, cfg.reportIntervalSeconds);
      await hb.beat();
      stops.push(hb.stop);
    }

    const backups = createBackupStore(cfg.backupPath || join(config.dataDir, 'volume-backups'), cfg.backupChunkMiB * 1024 * 1024);
    await backups.init();
    const imageCache = createImageCache(cfg.imageCachePath || join(config.dataDir, 'volume-image-cache'), cfg.imageCacheMaxGb * 1024 ** 3, (id, path) => images.download(id, path));
    for (const backendCfg of cfg.backends) {
      const backend = createBackend(backendCfg, config.dataDir);
      const serviceHost = `${host}@${backendCfg.name}`;
      try {
        await backend.init();
      } catch (err) {
        // A backend that cannot start is left out; the scheduler never sees it (Cinder marks the service down).
        log.error({ err, backend: backendCfg.name }, 'volume backend failed to start');
        continue;
      }
      const manager = createVolumeManager({
        repos, log: log.child({ backend: backendCfg.name }), bus: ctx.bus, backend, backendConfig: backendCfg, serviceHost,
        poolName: backendCfg.name, availabilityZone: cfg.availabilityZone, images, compute, imageCache, backups,
        tmpDir: join(config.dataDir, 'volume-tmp'), quotas: core.quotas, messages: core.messages,
      });
      const hb = keepServiceAlive(repos, log, { host: serviceHost, binary: 'cinder-volume', topic: 'cinder-volume', availabilityZone: cfg.availabilityZone }, cfg.reportIntervalSeconds, () =>
        backendCapabilities(backend, backendCfg),
      );
      await hb.beat();
      stops.push(hb.stop);
      stops.push(await manager.start());
    }

    const app = createVolumeApp(core, ctx.validator, { logRequests: config.log.requests, bodyLimit: cfg.maxRequestBodyBytes });
    await app.listen({ host: config.bindHost, port: cfg.port });
    const port = (app.server.address() as { port: number }).port;
    ctx.shared.set('volume', core);
    return {
      name: 'volume',
      port,
      async close() {
        await app.close();
        for (const s of stops.reverse()) await s();
      },
    };
  },
};
