import type { Readable, Writable } from 'node:stream';
import { ApiError, Errors } from '../../core/errors.js';
import type { Log } from '../../core/log.js';
import type { ImageConfig } from '../config.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { ImageRow, ImageStatus } from '../db/tables.js';
import type { StoreRegistry } from '../stores/registry.js';
import type { ImageStore } from '../stores/store.js';
import type { Access } from './access.js';
import type { Caller } from './caller.js';
import { HASH_ALGO, pumpData, type PumpResult } from './data-pipeline.js';
import type { ImagePolicy } from './policy.js';
import type { Quotas } from './quotas.js';
import type { Hashers } from './hash-workers.js';
import type { BackgroundHasher } from './background-hasher.js';
import { toStoredTime } from './time.js';

export interface ByteRange {
  start: number;
  end: number;
}

export interface Download {
  image: ImageRow;
  /** undefined when the image has no data (204). */
  stream?: Readable;
  size?: number;
  range?: ByteRange;
}

export interface DataServiceDeps {
  config: ImageConfig;
  log: Log;
  images: ImageRepo;
  access: Access;
  quotas: Quotas;
  policy: ImagePolicy;
  stores: StoreRegistry;
  hashers: Hashers;
  backgroundHasher: BackgroundHasher;
}

/** A store write that is undone unless committed. */
export async function writeToStore(
  store: ImageStore,
  imageId: string,
  source: Readable,
  pump: (sink: Writable) => Promise<PumpResult>,
): Promise<PumpResult> {
  const writer = await store.openWrite(imageId);
  try {
    const result = await pump(writer.stream);
    await writer.commit();
    return result;
  } catch (err) {
    source.resume();
    await writer.abort();
    throw err;
  }
}

/** Upload (PUT file), staging (PUT stage) and download of image data. */
export function createDataService(deps: DataServiceDeps) {
  const { config, log, images, access, quotas, policy, stores, hashers, backgroundHasher } = deps;
  const inlineChecksums = config.checksums === 'inline';

  function requireFormats(image: ImageRow): void {
    const missing = [!image.disk_format && 'disk_format', !image.container_format && 'container_format'].filter(Boolean) as string[];
    if (missing.length === 2) throw Errors.badRequest('Properties disk_format, container_format must be set prior to saving data.');
    if (missing.length === 1) throw Errors.badRequest(`Property ${missing[0]} must be set prior to saving data.`);
  }

  /** queued → `to`, atomically; 409 with Glance's message otherwise. */
  async function transition(image: ImageRow, to: ImageStatus): Promise<void> {
    if (image.status !== 'queued' || !(await images.update(image.id, { status: to, updated_at: toStoredTime() }, ['queued']))) {
      const current = (await images.get(image.id))?.status ?? image.status;
      throw Errors.conflict(`Image status transition from ${current} to ${to} is not allowed`);
    }
  }

  /** Back to queued after a failed transfer, unless the image went elsewhere (deleted). */
  async function restore(id: string, from: ImageStatus): Promise<void> {
    await images.update(id, { status: 'queued', size: null, virtual_size: null, updated_at: toStoredTime() }, [from]).catch((err: unknown) => {
      log.error({ err, id }, 'could not restore image to queued');
    });
  }

  return {
    /** PUT /v2/images/{id}/file: streams into the store; the image is `active` when this returns. */
    async upload(caller: Caller, id: string, body: Readable, storeId?: string): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'upload_image', image);
      const store = storeId ? stores.get(storeId) : stores.defaultStore;
      if (!store) throw Errors.badRequest(`Store for identifier ${storeId} not found`);
      if (store.readOnly) throw Errors.forbidden(`Store ${store.id} is read-only`);
      if (image.status !== 'queued') throw Errors.conflict(`Image status transition from ${image.status} to saving is not allowed`);
      requireFormats(image);
      const transfer = await quotas.startTransfer(image.owner, 'image_size_total');
      try {
        await transition(image, 'saving');
        let result: PumpResult;
        try {
          await quotas.checkUploading(image.owner);
          result = await writeToStore(store, id, body, (sink) =>
            pumpData(body, sink, {
              maxBytes: config.imageSizeCapBytes,
              transfer,
              hashes: inlineChecksums,
              hashers,
              idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000,
              format: { diskFormat: image.disk_format, containerFormat: image.container_format, reject: config.rejectUnsafeImages, strict: false },
            }),
          );
        } catch (err) {
          await restore(id, 'saving');
          throw err;
        }
        await finishUpload(image, store, result);
        if (!inlineChecksums) backgroundHasher.schedule(id);
      } finally {
        transfer.end();
      }
    },

    /** PUT /v2/images/{id}/stage: data into the staging area, image `uploading`. */
    async stage(caller: Caller, id: string, body: Readable): Promise<void> {
      const image = await access.owned(id, caller);
      policy.authorize(caller, 'upload_image', image);
      if (image.status !== 'queued') throw Errors.conflict(`Image status transition from ${image.status} to uploading is not allowed`);
      const transfer = await quotas.startTransfer(image.owner, 'image_stage_total');
      try {
        await transition(image, 'uploading');
        try {
          await quotas.checkUploading(image.owner);
          const result = await writeToStore(stores.staging, id, body, (sink) =>
            pumpData(body, sink, { maxBytes: config.imageSizeCapBytes, transfer, hashes: false, idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000 }),
          );
          if (!(await images.update(id, { size: result.size, updated_at: toStoredTime() }, ['uploading']))) {
            await stores.staging.delete(id);
            throw Errors.gone('Image was deleted while its data was being staged.');
          }
        } catch (err) {
          if (err instanceof ApiError && err.status === 410) throw err;
          await stores.staging.delete(id).catch(() => undefined);
          await restore(id, 'uploading');
          throw err;
        }
      } finally {
        transfer.end();
      }
    },

    /** GET /v2/images/{id}/file, optionally a byte range. */
    async download(caller: Caller, id: string, range?: (size: number) => ByteRange | undefined): Promise<Download> {
      const image = await access.visible(id, caller);
      policy.authorize(caller, 'download_image', image);
      if (image.status === 'deactivated' && !caller.admin) {
        throw Errors.forbidden('The requested image has been deactivated. Image data download is forbidden.');
      }
      const held = await images.locations(id);
      if (!held.length || (image.status !== 'active' && image.status !== 'deactivated')) return { image };
      const storeId = held.includes(stores.defaultStore.id) ? stores.defaultStore.id : held[0]!;
      const store = stores.get(storeId);
      const size = store ? await store.size(id) : undefined;
      if (!store || size === undefined) {
        log.error({ id, storeId }, 'image data missing from its store');
        throw Errors.serviceUnavailable(`Image data of ${id} is not available.`);
      }
      const r = range?.(size);
      const stream = await store.openRead(id, r);
      return { image, stream, size, ...(r ? { range: r } : {}) };
    },
  };

  /** Records the data of a finished upload; if the image went away meanwhile the data goes too (410). */
  async function finishUpload(image: ImageRow, store: ImageStore, result: PumpResult): Promise<void> {
    const now = toStoredTime();
    await images.addLocation(image.id, store.id, now);
    const ok = await images.update(
      image.id,
      {
        status: 'active',
        size: result.size,
        virtual_size: result.inspection?.virtualSize ?? null,
        checksum: result.checksum,
        os_hash_algo: result.hashValue ? HASH_ALGO : null,
        os_hash_value: result.hashValue,
        updated_at: now,
      },
      ['saving'],
    );
    if (!ok) {
      await images.removeLocation(image.id, store.id).catch(() => undefined);
      await store.delete(image.id);
      throw Errors.gone('Image was deleted while its data was being uploaded.');
    }
  }
}

export type DataService = ReturnType<typeof createDataService>;
