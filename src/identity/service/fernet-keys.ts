import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * A Fernet key repository laid out as Keystone's: files named by integer,
 * `0` is the staged key (the next primary), the highest number is the primary
 * used for new tokens, everything else is a secondary still accepted. Each file
 * holds 32 random bytes, URL-safe base64 (16 signing + 16 encryption).
 */
export interface FernetKey {
  index: number;
  signing: Buffer;
  encryption: Buffer;
}

export function ensureKeyRepository(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (listIndexes(dir).length === 0) {
    writeKey(dir, 0);
    // Keystone's fernet_setup: stage key 0, then rotate so that 1 is primary.
    rotateKeys(dir, 3);
  }
}

/** Promote the staged key to primary, stage a new key, drop the oldest beyond maxActive. */
export function rotateKeys(dir: string, maxActive: number): { primary: number; removed: number[] } {
  const indexes = listIndexes(dir);
  if (!indexes.includes(0)) writeKey(dir, 0);
  const newPrimary = Math.max(0, ...indexes) + 1;
  renameSync(join(dir, '0'), join(dir, String(newPrimary)));
  writeKey(dir, 0);
  const nonStaged = listIndexes(dir)
    .filter((i) => i !== 0)
    .sort((a, b) => a - b);
  const removed: number[] = [];
  while (nonStaged.length + 1 > maxActive) {
    const oldest = nonStaged.shift()!;
    unlinkSync(join(dir, String(oldest)));
    removed.push(oldest);
  }
  return { primary: newPrimary, removed };
}

/** Keys ordered primary first, then the others (staged included) from newest to oldest. */
export function loadKeys(dir: string): FernetKey[] {
  const indexes = listIndexes(dir).sort((a, b) => b - a);
  if (indexes.length === 0) throw new Error(`no fernet keys in ${dir}`);
  const primary = indexes.filter((i) => i !== 0);
  const ordered = [...primary, ...(indexes.includes(0) ? [0] : [])];
  return ordered.map((index) => {
    const raw = Buffer.from(readFileSync(join(dir, String(index)), 'utf8').trim(), 'base64url');
    if (raw.length !== 32) throw new Error(`fernet key ${index} in ${dir} is not 32 bytes`);
    return { index, signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
  });
}

function listIndexes(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d+$/.test(f))
    .map(Number);
}

function writeKey(dir: string, index: number): void {
  const path = join(dir, String(index));
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, randomBytes(32).toString('base64url'), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
