import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/core/config/loader.js';
import { createLog } from '../../src/core/log.js';
import { configSchema, type NimbusConfig } from '../../src/runtime/config-schema.js';
import { withDerivedDefaults } from '../../src/runtime/load-config.js';
import { startNimbus, type Nimbus } from '../../src/runtime/start.js';
import { freePort } from './ports.js';

export interface TestCloud {
  nimbus: Nimbus;
  config: NimbusConfig;
  authUrl: string;
  adminPassword: string;
  /** OS_* variables for the real `openstack` CLI as admin. */
  env: Record<string, string>;
  /** URL of a service's port: `url('identity', '/v3')`. */
  url(service: string, path?: string): string;
  close(): Promise<void>;
}

type Overrides = Record<string, unknown>;

/**
 * Starts a whole Nimbus in this process on free loopback ports, with a
 * temporary data dir, SQLite (or NIMBUS_TEST_DATABASE_URL), cheap password
 * hashing and silent logs (NIMBUS_TEST_LOG=debug to see them).
 */
export async function startTestCloud(overrides: Overrides = {}): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-test-'));
  const tree: Record<string, Record<string, unknown>> = {};
  // Every section with a `port` gets a free one, so tests never collide with each other or a running cloud.
  for (const [name, schema] of Object.entries(configSchema.properties)) {
    const props = (schema as { properties?: Record<string, unknown> }).properties;
    if (props && 'port' in props) tree[name] = { port: await freePort() };
  }
  const base = {
    dataDir,
    log: { level: process.env['NIMBUS_TEST_LOG'] ?? 'silent' },
    ...(process.env['NIMBUS_TEST_DATABASE_URL'] ? { database: { url: process.env['NIMBUS_TEST_DATABASE_URL'] } } : {}),
    ...tree,
    identity: { ...tree['identity'], passwordHash: { scryptN: 1024 } },
  };
  const config = withDerivedDefaults(validateConfig(configSchema, deepMerge(base, overrides)));
  const log = createLog({ level: config.log.level });
  const adminPassword = 'admin-test-password';
  const nimbus = await startNimbus(config, log, { adminPassword });
  const authUrl = `http://127.0.0.1:${nimbus.ports['identity']}/v3`;
  return {
    nimbus,
    config,
    authUrl,
    adminPassword,
    env: {
      OS_AUTH_URL: authUrl,
      OS_IDENTITY_API_VERSION: '3',
      OS_USERNAME: 'admin',
      OS_PASSWORD: adminPassword,
      OS_PROJECT_NAME: 'admin',
      OS_USER_DOMAIN_NAME: 'Default',
      OS_PROJECT_DOMAIN_NAME: 'Default',
      OS_REGION_NAME: config.region,
      OS_INTERFACE: 'public',
    },
    url(service, path = '') {
      return `http://127.0.0.1:${nimbus.ports[service]}${path}`;
    },
    async close() {
      await nimbus.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
