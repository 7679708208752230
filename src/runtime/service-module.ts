import type { Bus } from '../core/bus/bus.js';
import type { TokenValidator } from '../core/auth/token-validator.js';
import type { Database } from '../core/db/database.js';
import type { Migrations } from '../core/db/migrate.js';
import type { Log } from '../core/log.js';
import type { ServiceCredentials } from '../core/clients/service-auth.js';
import type { CatalogService } from '../identity/service/bootstrap.js';
import type { NimbusConfig } from './config-schema.js';

/** What every service gets when it starts (convention 7: passed in, never imported). */
export interface RuntimeContext {
  config: NimbusConfig;
  log: Log;
  database: Database;
  bus: Bus;
  /** Validates X-Auth-Token for the service's API. */
  validator: TokenValidator;
  /** How to reach Keystone as the service user (for calls to other services). */
  serviceCredentials: ServiceCredentials;
  /** `http://<publicHost>:<port><path>`, the URL clients use. */
  publicUrl(port: number, path?: string): string;
  /** Shared between services of one process, e.g. a compute driver registry. Keys are module names. */
  shared: Map<string, unknown>;
}

export interface RunningService {
  name: string;
  /** Bound port, when the service serves HTTP. */
  port?: number;
  close(): Promise<void>;
}

/** A service of the cloud: its migrations, catalog entries and how to start it. */
export interface ServiceModule {
  name: string;
  enabled(config: NimbusConfig): boolean;
  migrations: Migrations;
  /** Catalog entries bootstrap registers for it. */
  catalog(config: NimbusConfig, publicUrl: (port: number, path?: string) => string): CatalogService[];
  start(ctx: RuntimeContext): Promise<RunningService>;
}
