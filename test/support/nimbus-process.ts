import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './ports.js';
import { configSchema } from '../../src/runtime/config-schema.js';

/** Every config section with a `port` (each gets a free one, so a test never binds a default port). */
function servicesWithPorts(): string[] {
  return Object.entries(configSchema.properties)
    .filter(([, schema]) => 'port' in ((schema as { properties?: Record<string, unknown> }).properties ?? {}))
    .map(([name]) => name);
}

export interface NimbusProcess {
  child: ChildProcess;
  dataDir: string;
  ports: Record<string, number>;
  authUrl: string;
  adminPassword: string;
  /** stdout+stderr so far. */
  output(): string;
  /** SIGTERM and wait for exit (SIGKILL after timeout). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs `nimbus up` as a child process (from the TypeScript sources via tsx),
 * the way a user starts it, on free ports with its own data dir. Resolves once
 * identity answers.
 */
export async function startNimbusProcess(options: { dataDir?: string; env?: Record<string, string>; services?: string[]; ports?: Record<string, number> } = {}): Promise<NimbusProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'nimbus-proc-'));
  const ports: Record<string, number> = { ...(options.ports ?? {}) };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    NIMBUS_DATA_DIR: dataDir,
    NIMBUS_ADMIN_PASSWORD: 'admin-test-password',
    NIMBUS_LOG__LEVEL: 'warn',
    ...(options.env ?? {}),
  };
  // Every service gets a free port (a test never binds a default port), whatever `services` says.
  for (const service of new Set([...(options.services ?? []), ...servicesWithPorts()])) {
    ports[service] ??= await freePort();
    env[`NIMBUS_${service.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}__PORT`] = String(ports[service]);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'up'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const authUrl = `http://127.0.0.1:${ports['identity']}/v3`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nimbus exited (${child.exitCode}):\n${out}`);
    try {
      const r = await fetch(authUrl);
      if (r.ok && out.includes('nimbus is up')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nimbus did not start within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const adminPassword = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
  return {
    child,
    dataDir,
    ports,
    authUrl,
    adminPassword,
    output: () => out,
    stop(signal = 'SIGTERM') {
      return new Promise((resolveExit) => {
        if (child.exitCode !== null) return resolveExit(child.exitCode);
        const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolveExit(code);
        });
        child.kill(signal);
      });
    },
  };
}
