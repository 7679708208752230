import { existsSync, mkdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createInProcessBus } from '../core/bus/in-process-bus.js';
import type { Bus } from '../core/bus/bus.js';
import { createServiceSession, type ServiceCredentials } from '../core/clients/service-auth.js';
import { createRemoteTokenValidator } from '../core/auth/remote-token-validator.js';
import type { TokenValidator } from '../core/auth/token-validator.js';
import { openDatabase, type Database } from '../core/db/database.js';
import { migrateService } from '../core/db/migrate.js';
import { randomUrlSafe } from '../core/ids.js';
import type { Log } from '../core/log.js';
import { createIdentityApp } from '../identity/api/app.js';
import { bootstrapIdentity } from '../identity/service/bootstrap.js';
import { createIdentity, type Identity } from '../identity/service/identity.js';
import type { NimbusConfig } from './config-schema.js';
import { allModules } from './modules.js';
import type { RunningService, RuntimeContext, ServiceModule } from './service-module.js';
import { writeClientFiles } from './client-files.js';

export interface StartOptions {
  /** Admin password for bootstrap (NIMBUS_ADMIN_PASSWORD). */
  adminPassword?: string | undefined;
  /** Modules to run; default: every enabled one. */
  modules?: ServiceModule[];
}

export interface Nimbus {
  config: NimbusConfig;
  database: Database;
  bus: Bus;
  identity?: Identity;
  services: RunningService[];
  /** The admin password (generated at first start when none was given). */
  adminPassword: string | undefined;
  /** Ports actually bound, by service name (useful with port 0 in tests). */
  ports: Record<string, number>;
  close(): Promise<void>;
}

export async function migrateAll(database: Database, modules: ServiceModule[], config: NimbusConfig): Promise<Record<string, string[]>> {
  const applied: Record<string, string[]> = {};
  for (const m of modules) if (m.enabled(config)) applied[m.name] = await migrateService(database, m.name, m.migrations);
  return applied;
}

/** Starts every enabled role of the cloud in this process (`nimbus up`). */
export async function startNimbus(config: NimbusConfig, log: Log, options: StartOptions = {}): Promise<Nimbus> {
  const modules = (options.modules ?? allModules).filter((m) => m.enabled(config));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = await openDatabase(config.database.url, { poolSize: config.database.poolSize });
  const bus = createInProcessBus();
  const toClose: Array<() => Promise<void>> = [async () => database.close(), async () => bus.close()];
  const ports: Record<string, number> = {};
  const services: RunningService[] = [];
  const publicUrl = (port: number, path = '') => `http://${config.publicHost}:${port}${path}`;

  try {
    await migrateAll(database, modules, config);

    const servicePassword = config.auth.servicePassword || readOrCreateSecret(join(config.dataDir, 'service-password'));
    let identity: Identity | undefined;
    let identityApp: FastifyInstance | undefined;
    let adminPassword = options.adminPassword;
    let identityPort = config.identity.port;

    if (config.identity.enabled) {
      identity = await createIdentity({ database, config, log, bus });
      toClose.unshift(() => identity!.close());
      identityApp = createIdentityApp(identity);
      await identityApp.listen({ host: config.bindHost, port: config.identity.port });
      identityPort = (identityApp.server.address() as { port: number }).port;
      ports['identity'] = identityPort;
      toClose.unshift(() => identityApp!.close());
      watchKeyRepository(identity, log, toClose);
    }

    // Endpoints use the ports actually bound (port 0 picks a free one in tests).
    const portOf = (m: ServiceModule, port: number) => (m.name === 'identity' ? identityPort : port);
    const catalog = modules.flatMap((m) => m.catalog(config, (port, path) => publicUrl(portOf(m, port), path)));
    if (identity) {
      const result = await bootstrapIdentity(identity, {
        ...(adminPassword !== undefined ? { adminPassword } : {}),
        region: config.region,
        services: catalog,
        serviceUser: { name: config.auth.serviceUser, password: servicePassword },
      });
      const passwordFile = join(config.dataDir, 'admin-password');
      if (result.generatedAdminPassword) {
        adminPassword = result.generatedAdminPassword;
        log.warn({ user: 'admin', password: adminPassword, savedTo: passwordFile }, 'generated the admin password (shown once)');
        process.stderr.write(`\nnimbus: admin password: ${adminPassword}\n        (saved in ${passwordFile})\n\n`);
      }
      if (adminPassword !== undefined) writeFileSync(passwordFile, `${adminPassword}\n`, { mode: 0o600 });
      else if (existsSync(passwordFile)) adminPassword = readFileSync(passwordFile, 'utf8').trim();
      if (result.created.length) log.info({ created: result.created }, 'bootstrap');
      writeClientFiles(config, publicUrl(identityPort, '/v3'), adminPassword);
    }

    const authUrl = config.auth.identityUrl || publicUrl(identityPort, '/v3');
    const serviceCredentials: ServiceCredentials = {
      authUrl,
      username: config.auth.serviceUser,
      password: servicePassword,
      userDomainName: 'Default',
      projectName: 'service',
      projectDomainName: 'Default',
      region: config.region,
    };
    const validator: TokenValidator = identity
      ? identity.validator
      : createRemoteTokenValidator({
          identityUrl: authUrl,
          session: createServiceSession(serviceCredentials),
          cacheSeconds: config.auth.cacheSeconds,
          cacheEntries: config.auth.cacheEntries,
        });

    const ctx: RuntimeContext = { config, log, database, bus, validator, serviceCredentials, publicUrl, shared: new Map() };
    if (identity) ctx.shared.set('identity', identity);
    for (const m of modules) {
      if (m.name === 'identity') continue;
      const running = await m.start(ctx);
      services.push(running);
      toClose.unshift(() => running.close());
      if (running.port !== undefined) ports[m.name] = running.port;
    }
    log.info({ ports, dataDir: config.dataDir, database: config.database.url.replace(/\/\/.*@/, '//***@') }, 'nimbus is up');

    const nimbus: Nimbus = {
      config,
      database,
      bus,
      services,
      adminPassword,
      ports,
      async close() {
        for (const c of toClose.splice(0)) await c().catch((err: unknown) => log.error({ err }, 'error while stopping'));
      },
    };
    if (identity) nimbus.identity = identity;
    return nimbus;
  } catch (err) {
    for (const c of toClose.splice(0)) await c().catch(() => undefined);
    throw err;
  }
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomUrlSafe(24);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** `nimbus fernet rotate` writes new keys; the running process picks them up. */
function watchKeyRepository(identity: Identity, log: Log, toClose: Array<() => Promise<void>>): void {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(identity.keyRepository, () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      try {
        identity.reloadKeys();
        log.info('reloaded fernet keys');
      } catch (err) {
        log.error({ err }, 'could not reload fernet keys');
      }
    }, 100);
  });
  toClose.unshift(async () => {
    clearTimeout(timer);
    watcher.close();
  });
}
