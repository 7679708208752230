import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';

export interface CachedImageRef {
  id: string;
  /** Changes when the image data changes (checksum or the image's update time). */
  version: string;
  diskFormat: string;
}

/**
 * Downloaded images, kept so that creating many volumes from one image
 * downloads it once (Cinder's image-volume cache, on the local disk). Two
 * creations racing for the same image share one download; the least
 * recently used files go when the cache outgrows its size.
 */
export function createImageCache(dir: string, maxBytes: number, download: (imageId: string, path: string) => Promise<void>) {
  const inflight = new Map<string, Promise<string>>();
  const fileName = (ref: CachedImageRef) => `${ref.id}-${ref.version.replace(/[^A-Za-z0-9]/g, '').slice(0, 64)}.${ref.diskFormat.replace(/[^a-z0-9]/g, '')}`;

  async function evict(keep: string): Promise<void> {
    const files = [];
    let total = 0;
    for (const f of await readdir(dir)) {
      if (f.startsWith('.')) continue;
      const s = await stat(join(dir, f)).catch(() => undefined);
      if (!s) continue;
      files.push({ f, size: s.size, used: s.atimeMs > s.mtimeMs ? s.atimeMs : s.mtimeMs });
      total += s.size;
    }
    files.sort((a, b) => a.used - b.used);
    for (const file of files) {
      if (total <= maxBytes) break;
      if (file.f === keep) continue;
      await rm(join(dir, file.f), { force: true });
      total -= file.size;
    }
  }

  return {
    /** A local file with the image's data, downloaded if not cached. With caching off, the caller must remove it. */
    async fetch(ref: CachedImageRef): Promise<{ path: string; cached: boolean; temporary: boolean }> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const name = fileName(ref);
      const path = join(dir, name);
      if (maxBytes === 0) {
        const tmp = join(dir, `.${randomUUID()}.tmp`);
        await download(ref.id, tmp);
        return { path: tmp, cached: false, temporary: true };
      }
      if (await stat(path).then(() => true, () => false)) {
        const now = new Date();
        await utimes(path, now, now).catch(() => undefined);
        return { path, cached: true, temporary: false };
      }
      let p = inflight.get(name);
      if (!p) {
        p = (async () => {
          const tmp = join(dir, `.${randomUUID()}.tmp`);
          try {
            await download(ref.id, tmp);
            await rename(tmp, path);
          } catch (err) {
            await rm(tmp, { force: true });
            throw err;
          }
          await evict(name);
          return path;
        })().finally(() => inflight.delete(name));
        inflight.set(name, p);
      }
      return { path: await p, cached: false, temporary: false };
    },
  };
}
export type ImageCache = ReturnType<typeof createImageCache>;
