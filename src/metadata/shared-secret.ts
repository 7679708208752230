import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secret the metadata proxy signs instance ids with: configured, or
 * generated once into the data dir (mode 0600) so every process of an
 * all-in-one or a host sharing the data dir uses the same one.
 */
export function metadataSharedSecret(configured: string, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'metadata-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return readFileSync(file, 'utf8').trim();
}
