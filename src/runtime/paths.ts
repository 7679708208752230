import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Data dir: --data-dir, else $NIMBUS_DATA_DIR, else ~/.nimbus. */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env['NIMBUS_DATA_DIR'] ?? join(homedir(), '.nimbus'));
}

/** Config file: --config, else $NIMBUS_CONFIG, else <dataDir>/nimbus.yaml (optional). */
export function resolveConfigFile(flag: string | undefined, dataDir: string, env: NodeJS.ProcessEnv = process.env): { path: string; required: boolean } {
  const explicit = flag ?? env['NIMBUS_CONFIG'];
  return explicit ? { path: resolve(explicit), required: true } : { path: join(dataDir, 'nimbus.yaml'), required: false };
}
