import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCloud } from './cloud.js';

export interface NimbusProcess {
  child: ChildProcess;
  /** Enough of a TestCloud for the HTTP helpers (url, authUrl, adminPassword, config.dataDir). */
  cloud: TestCloud;
  /** Stops with SIGKILL: no cleanup of any kind runs. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Runs `nimbus up` as a child process (TypeScript through tsx, no build
 * needed) on the given ports and data dir, and waits until every service
 * answers. Logs go to <dataDir>/nimbus-<n>.log.
 */
export async function spawnNimbus(options: {
  dataDir: string;
  ports: Record<string, number>;
  env?: Record<string, string>;
  adminPassword?: string;
  run?: number;
}): Promise<NimbusProcess> {
  const adminPassword = options.adminPassword ?? 'crash-test-admin';
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    NIMBUS_DATA_DIR: options.dataDir,
    NIMBUS_ADMIN_PASSWORD: adminPassword,
    NIMBUS_LOG__LEVEL: 'info',
    NIMBUS_IDENTITY__PASSWORD_HASH__SCRYPT_N: '1024',
    ...Object.fromEntries(Object.entries(options.ports).map(([svc, port]) => [`NIMBUS_${svc.toUpperCase()}__PORT`, String(port)])),
    ...options.env,
  };
  const log = openSync(join(options.dataDir, `nimbus-${options.run ?? 0}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'up'], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (svc: string, path = '') => `http://127.0.0.1:${options.ports[svc]}${path}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nimbus exited with ${child.exitCode} (see ${options.dataDir})`);
    const ok = await Promise.all(Object.keys(options.ports).map((svc) => fetch(url(svc, '/')).then(() => true, () => false)));
    if (ok.every(Boolean)) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error('nimbus did not start within 60 s');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const cloud = {
    authUrl: url('identity', '/v3'),
    adminPassword,
    url,
    config: { dataDir: options.dataDir },
  } as unknown as TestCloud;
  return {
    child,
    cloud,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
