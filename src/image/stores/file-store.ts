import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { StoreNotFound, type ImageStore, type StoreWriter } from './store.js';

const PARTIAL_DIR = '.partial';
const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Large write/read chunks: fewer syscalls for multi-GiB images. */
const CHUNK = 1024 * 1024;

export interface FileStoreOptions {
  id: string;
  path: string;
  description?: string;
  readOnly?: boolean;
}

/**
 * A store that keeps each image as the file `<path>/<image id>`. Writes go to
 * `<path>/.partial/<id>.<random>`, are fsynced, then renamed into place (and
 * the directory fsynced), so a crash leaves either the whole image or only a
 * partial file that `cleanupPartials()` removes.
 */
export function createFileStore(options: FileStoreOptions): ImageStore {
  const root = options.path;
  const partials = join(root, PARTIAL_DIR);
  mkdirSync(partials, { recursive: true, mode: 0o700 });
  const fileOf = (imageId: string) => {
    // Ids are UUIDs checked by the API; refuse anything else so no path can escape the root.
    if (!ID_RE.test(imageId)) throw new Error(`invalid image id for the file store: ${imageId}`);
    return join(root, imageId);
  };

  return {
    id: options.id,
    type: 'file',
    description: options.description ?? '',
    readOnly: options.readOnly ?? false,

    async openWrite(imageId) {
      const target = fileOf(imageId);
      const partial = join(partials, `${imageId}.${randomBytes(6).toString('hex')}`);
      const stream = createWriteStream(partial, { flags: 'wx', mode: 0o600, highWaterMark: CHUNK });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      let done = false;
      const writer: StoreWriter = {
        stream,
        async commit() {
          if (done) throw new Error('write already finished');
          await finished(stream);
          const fh = await open(partial, 'r');
          try {
            await fh.datasync();
          } finally {
            await fh.close();
          }
          await rename(partial, target);
          done = true;
          await syncDir(root);
        },
        async abort() {
          if (done) return;
          done = true;
          if (!stream.destroyed) stream.destroy();
          await new Promise<void>((r) => (stream.closed ? r() : stream.once('close', () => r())));
          await unlink(partial).catch(() => undefined);
        },
      };
      return writer;
    },

    async openRead(imageId, range) {
      const path = fileOf(imageId);
      const s = await stat(path).catch(() => undefined);
      if (!s) throw new StoreNotFound(options.id, imageId);
      const stream: Readable = createReadStream(path, { highWaterMark: CHUNK, ...(range ? { start: range.start, end: range.end } : {}) });
      return stream;
    },

    async size(imageId) {
      const s = await stat(fileOf(imageId)).catch(() => undefined);
      return s?.size;
    },

    async delete(imageId) {
      await rm(fileOf(imageId), { force: true });
    },

    async list() {
      const names = await readdir(root).catch(() => [] as string[]);
      return names.filter((n) => ID_RE.test(n));
    },

    async cleanupPartials() {
      const names = await readdir(partials).catch(() => [] as string[]);
      for (const n of names) await rm(join(partials, n), { force: true });
      return names.length;
    },
  };
}

/** Resolves when a write stream has flushed and closed its file. */
function finished(stream: NodeJS.WritableStream & { closed?: boolean; writableFinished?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.closed) return resolve();
    stream.once('error', reject);
    stream.once('close', () => resolve());
    if (!stream.writableFinished) stream.end();
  });
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await fh.close();
  }
}
