import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** What a backup consists of: the chunks of the volume's raw content that are not all zero. */
export interface BackupManifest {
  version: 1;
  backupId: string;
  volumeId: string;
  sizeBytes: number;
  chunkBytes: number;
  /** Chunk index → sha256 of its content (absent: all zeros). */
  chunks: Record<string, string>;
  parentId: string | null;
  createdAt: string;
}

export interface BackupResult {
  manifest: BackupManifest;
  /** Chunks this backup had to store (the rest were already in the store). */
  newObjects: number;
  objectCount: number;
}

/**
 * A content-addressed backup store in a directory (Cinder's posix backup
 * driver, with dedup): each chunk is stored once, gzip-compressed, named by
 * its sha256; a backup is a manifest of chunk hashes. An incremental backup
 * stores only chunks that changed since its parent; deleting a backup
 * removes the chunks no remaining manifest refers to, so backups (and
 * imported copies of one) can be deleted in any order.
 */
export function createBackupStore(root: string, chunkBytes: number) {
  const objects = join(root, 'objects');
  const manifests = join(root, 'manifests');
  const objectPath = (hash: string) => join(objects, hash.slice(0, 2), hash);
  const manifestPath = (id: string) => join(manifests, `${id}.json`);
  // Writers and the collector never overlap: a chunk written for a backup whose manifest
  // is not saved yet must not look unreferenced.
  let lock: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn, fn);
    lock = run.catch(() => undefined);
    return run;
  };
  const exists = (p: string) => stat(p).then(() => true, () => false);

  async function init(): Promise<void> {
    await mkdir(objects, { recursive: true, mode: 0o700 });
    await mkdir(manifests, { recursive: true, mode: 0o700 });
  }

  async function readManifest(id: string): Promise<BackupManifest | undefined> {
    try {
      return JSON.parse(await readFile(manifestPath(id), 'utf8')) as BackupManifest;
    } catch {
      return undefined;
    }
  }

  async function saveManifest(m: BackupManifest): Promise<void> {
    const tmp = `${manifestPath(m.backupId)}.${randomUUID()}.tmp`;
    await writeFile(tmp, JSON.stringify(m));
    await rename(tmp, manifestPath(m.backupId));
  }

  return {
    init,
    readManifest,
    /** Backs up a raw image file. */
    backup(backupId: string, volumeId: string, rawPath: string, parentId: string | null): Promise<BackupResult> {
      return exclusive(async () => {
        await init();
        const { size } = await stat(rawPath);
        const fh = await open(rawPath, 'r');
        const chunks: Record<string, string> = {};
        const zero = Buffer.alloc(chunkBytes);
        const buf = Buffer.alloc(chunkBytes);
        let newObjects = 0;
        try {
          for (let index = 0, offset = 0; offset < size; index++, offset += chunkBytes) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(chunkBytes, size - offset), offset);
            const data = buf.subarray(0, bytesRead);
            if (data.equals(zero.subarray(0, bytesRead))) continue;
            const hash = createHash('sha256').update(data).digest('hex');
            chunks[String(index)] = hash;
            const p = objectPath(hash);
            if (await exists(p)) continue;
            await mkdir(join(objects, hash.slice(0, 2)), { recursive: true });
            const tmp = `${p}.${randomUUID()}.tmp`;
            await writeFile(tmp, await gzipAsync(data));
            await rename(tmp, p);
            newObjects++;
          }
        } finally {
          await fh.close();
        }
        const manifest: BackupManifest = { version: 1, backupId, volumeId, sizeBytes: size, chunkBytes, chunks, parentId, createdAt: new Date().toISOString() };
        await saveManifest(manifest);
        return { manifest, newObjects, objectCount: Object.keys(chunks).length };
      });
    },
    /** Writes the backup's content into a raw file of the backup's size (sparse where zero). */
    async restore(backupId: string, rawPath: string): Promise<BackupManifest> {
      const m = await readManifest(backupId);
      if (!m) throw new Error(`backup ${backupId} has no data in the backup store`);
      const fh = await open(rawPath, 'w');
      try {
        await fh.truncate(m.sizeBytes);
        for (const [index, hash] of Object.entries(m.chunks)) {
          const data = await gunzipAsync(await readFile(objectPath(hash)));
          await fh.write(data, 0, data.length, Number(index) * m.chunkBytes);
        }
      } finally {
        await fh.close();
      }
      return m;
    },
    /** A copy of a backup's manifest under a new id (backup import). */
    async importManifest(newId: string, manifest: BackupManifest): Promise<void> {
      for (const hash of new Set(Object.values(manifest.chunks))) {
        if (!(await exists(objectPath(hash)))) throw new Error(`backup record refers to data that is not in the backup store (${hash})`);
      }
      await saveManifest({ ...manifest, backupId: newId });
    },
    /** Removes a backup and every chunk no other backup uses. */
    delete(backupId: string): Promise<void> {
      return exclusive(async () => {
        await rm(manifestPath(backupId), { force: true });
        const used = new Set<string>();
        for (const f of await readdir(manifests).catch(() => [] as string[])) {
          if (!f.endsWith('.json')) continue;
          const m = await readManifest(f.slice(0, -5));
          for (const h of Object.values(m?.chunks ?? {})) used.add(h);
        }
        for (const dir of await readdir(objects).catch(() => [] as string[])) {
          for (const f of await readdir(join(objects, dir)).catch(() => [] as string[])) {
            if (!used.has(f)) await rm(join(objects, dir, f), { force: true });
          }
        }
      });
    },
  };
}
export type BackupStore = ReturnType<typeof createBackupStore>;
