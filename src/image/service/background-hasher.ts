import type { Log } from '../../core/log.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { StoreRegistry } from '../stores/registry.js';
import { HASH_ALGO } from './data-pipeline.js';
import type { Hashers } from './hash-workers.js';

/**
 * With `image.checksums: background`, uploads do not wait for the digests:
 * this computes checksum and os_hash_value from the stored data afterwards,
 * one image at a time, and records them if the image still has none. At
 * start, images that lost their turn to a restart are queued again.
 */
export function createBackgroundHasher(deps: { images: ImageRepo; stores: StoreRegistry; hashers: Hashers; log: Log }) {
  const { images, stores, hashers, log } = deps;
  const queue: string[] = [];
  let running: Promise<void> | undefined;
  let stopped = false;

  async function hashOne(id: string): Promise<void> {
    const storeId = (await images.locations(id))[0];
    const store = storeId ? stores.get(storeId) : undefined;
    if (!store) return;
    const job = hashers.start();
    try {
      const stream = await store.openRead(id);
      for await (const chunk of stream) {
        if (stopped) {
          stream.destroy();
          job.abort();
          return;
        }
        await job.update(chunk as Buffer);
      }
      const digests = await job.digest();
      const image = await images.get(id);
      if (!image || image.checksum !== null) return;
      await images.update(id, { checksum: digests['md5'] ?? null, os_hash_algo: HASH_ALGO, os_hash_value: digests[HASH_ALGO] ?? null }, ['active', 'deactivated']);
    } catch (err) {
      job.abort();
      log.warn({ err, id }, 'could not compute the checksums of an image');
    }
  }

  function pump(): void {
    if (running || stopped) return;
    running = (async () => {
      for (let id = queue.shift(); id !== undefined && !stopped; id = queue.shift()) await hashOne(id);
    })().finally(() => {
      running = undefined;
      if (queue.length && !stopped) pump();
    });
  }

  return {
    schedule(id: string): void {
      if (!queue.includes(id)) queue.push(id);
      pump();
    },
    /** Images whose digests are still missing (e.g. after a restart). */
    async resume(): Promise<void> {
      for (const img of await images.inStatus(['active', 'deactivated'])) {
        if (img.checksum === null && (await images.locations(img.id)).length) this.schedule(img.id);
      }
    },
    /** Waits for the queue (tests); with `stop`, abandons it. */
    async drain(stop = false): Promise<void> {
      if (stop) stopped = true;
      while (running) await running;
    },
  };
}

export type BackgroundHasher = ReturnType<typeof createBackgroundHasher>;
