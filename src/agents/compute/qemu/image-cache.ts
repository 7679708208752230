import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner } from '../../../core/exec.js';
import type { DiskFormat } from './qemu-command.js';

/**
 * Base images cached once per compute host (Nova's `_base`): downloaded from
 * the image service the first time an instance needs them, checksum
 * verified, format checked with the format stated explicitly, then shared
 * read-only by every instance's qcow2 overlay.
 */

export type ChecksumAlgo = 'md5' | 'sha256' | 'sha512';

export interface BaseImageSource {
  imageId: string;
  /** Format the image service declares: never probed from the content. */
  format: DiskFormat;
  checksum?: { algo: ChecksumAlgo; value: string };
  /** Writes the image bytes to `dest`. */
  fetch(dest: string): Promise<void>;
}

export interface CachedImage {
  path: string;
  format: DiskFormat;
  virtualSize: number;
  sha256: string;
}

interface Record_ {
  imageId: string;
  format: DiskFormat;
  virtualSize: number;
  sha256: string;
  size: number;
  mtimeMs: number;
}

export class ImageVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageVerificationError';
  }
}

async function digest(path: string, algo: ChecksumAlgo | 'sha256'): Promise<string> {
  const h = createHash(algo);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface QemuImgInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'format-specific'?: { type: string; data?: { 'data-file'?: string } };
}

export async function qemuImgInfo(run: CommandRunner, path: string, format: DiskFormat): Promise<QemuImgInfo> {
  // -U: the image may be in use by a running guest; -f: never probe.
  const { stdout } = await run('qemu-img', ['info', '-U', '-f', format, '--output', 'json', path], { timeoutMs: 60_000 });
  return JSON.parse(stdout) as QemuImgInfo;
}

export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();

  constructor(
    readonly dir: string,
    private readonly run: CommandRunner,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  /** File name of an image's cached base (a hash, so an id can never escape the directory). */
  baseName(imageId: string): string {
    return createHash('sha1').update(imageId).digest('hex');
  }

  ensure(source: BaseImageSource): Promise<CachedImage> {
    const key = this.baseName(source.imageId);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ensureOnce(source).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async ensureOnce(source: BaseImageSource): Promise<CachedImage> {
    const name = this.baseName(source.imageId);
    const path = join(this.dir, name);
    const recPath = `${path}.json`;
    if (existsSync(path) && existsSync(recPath)) {
      const rec = JSON.parse(readFileSync(recPath, 'utf8')) as Record_;
      const st = statSync(path);
      // A changed size or mtime means someone touched the base: fetch it again.
      if (rec.size === st.size && Math.abs(rec.mtimeMs - st.mtimeMs) < 1 && rec.format === source.format) {
        const now = new Date();
        utimesSync(recPath, now, now); // last use, for pruning
        return { path, format: rec.format, virtualSize: rec.virtualSize, sha256: rec.sha256 };
      }
    }
    const tmp = `${path}.part-${process.pid}`;
    rmSync(tmp, { force: true });
    try {
      await source.fetch(tmp);
      if (source.checksum) {
        const got = await digest(tmp, source.checksum.algo);
        if (got !== source.checksum.value.toLowerCase()) {
          throw new ImageVerificationError(`image ${source.imageId}: ${source.checksum.algo} is ${got}, expected ${source.checksum.value}`);
        }
      }
      const info = await this.verifyFormat(tmp, source.format, source.imageId);
      const sha256 = source.checksum?.algo === 'sha256' ? source.checksum.value.toLowerCase() : await digest(tmp, 'sha256');
      renameSync(tmp, path);
      const st = statSync(path);
      const rec: Record_ = { imageId: source.imageId, format: source.format, virtualSize: info['virtual-size'], sha256, size: st.size, mtimeMs: st.mtimeMs };
      writeFileSync(recPath, `${JSON.stringify(rec)}\n`);
      return { path, format: source.format, virtualSize: rec.virtualSize, sha256 };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** The declared format must be what the file is, and a qcow2 base must not reference other files. */
  private async verifyFormat(path: string, format: DiskFormat, imageId: string): Promise<QemuImgInfo> {
    let info: QemuImgInfo;
    try {
      info = await qemuImgInfo(this.run, path, format);
    } catch (err) {
      throw new ImageVerificationError(`image ${imageId} is not a valid ${format} image: ${(err as Error).message}`);
    }
    if (format === 'qcow2') {
      if (info['backing-filename']) throw new ImageVerificationError(`image ${imageId} has a backing file; refusing it`);
      if (info['format-specific']?.data?.['data-file']) throw new ImageVerificationError(`image ${imageId} has an external data file; refusing it`);
    }
    return info;
  }

  /** Creates an instance's copy-on-write overlay on a cached base, optionally grown to `sizeBytes`. */
  async createOverlay(base: CachedImage, overlayPath: string, sizeBytes?: number): Promise<void> {
    const args = ['create', '-q', '-f', 'qcow2', '-F', base.format, '-b', base.path, overlayPath];
    if (sizeBytes && sizeBytes > base.virtualSize) args.push(String(sizeBytes));
    await this.run('qemu-img', args, { timeoutMs: 60_000 });
  }

  /** Removes bases not in `inUse` (sha1 names) whose last use is older than `minAgeMs`. */
  prune(inUse: Set<string>, minAgeMs: number): string[] {
    const removed: string[] = [];
    for (const f of readdirSync(this.dir)) {
      if (f.includes('.')) continue;
      if (inUse.has(f)) continue;
      const rec = join(this.dir, `${f}.json`);
      const lastUse = existsSync(rec) ? statSync(rec).mtimeMs : statSync(join(this.dir, f)).mtimeMs;
      if (Date.now() - lastUse < minAgeMs) continue;
      rmSync(join(this.dir, f), { force: true });
      rmSync(rec, { force: true });
      removed.push(f);
    }
    return removed;
  }
}
