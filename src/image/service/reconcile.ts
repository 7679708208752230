import type { ImageCore } from './image-core.js';
import { FAILED_PROP, IMPORTING_PROP, IMPORT_TASK_PROP } from './import-service.js';
import { toStoredTime } from './time.js';

export interface ReconcileReport {
  interruptedUploads: string[];
  interruptedImports: string[];
  resumedStages: string[];
  orphanFiles: number;
  partialFiles: number;
}

/**
 * Run at start, before the API listens: puts images a crash left mid-transfer
 * into a defined state and deletes data no image owns.
 *
 * - `saving` (upload interrupted) → `queued`, like a failed upload in Glance;
 * - `importing` (import interrupted) → `queued`, its task failed, staged data gone;
 * - `uploading` stays staged if the staged file is complete, else → `queued`;
 * - interrupted copy-image tasks list their stores in os_glance_failed_import;
 * - partial files of every store, and files without an image location, are removed.
 *
 * It assumes no other process writes to the same stores at the same time.
 */
export async function reconcile(core: ImageCore): Promise<ReconcileReport> {
  const { images, tasks } = core.repos;
  const { stores, log } = core;
  const now = toStoredTime();
  const report: ReconcileReport = { interruptedUploads: [], interruptedImports: [], resumedStages: [], orphanFiles: 0, partialFiles: 0 };

  for (const task of await tasks.unfinished()) {
    await tasks.update(task.id, { status: 'failure', message: 'Interrupted by a restart of the image service.', updated_at: now, expires_at: now });
    if (!task.image_id) continue;
    await images.deleteProperty(task.image_id, IMPORT_TASK_PROP, task.id);
    const props = await images.properties(task.image_id);
    const pending = (props[IMPORTING_PROP] ?? '').split(',').filter(Boolean);
    if (pending.length) {
      const failed = new Set([...(props[FAILED_PROP] ?? '').split(',').filter(Boolean), ...pending]);
      await images.setProperty(task.image_id, FAILED_PROP, [...failed].sort().join(','));
    }
    if (IMPORTING_PROP in props) await images.setProperty(task.image_id, IMPORTING_PROP, '');
  }

  for (const image of await images.inStatus(['saving', 'importing', 'uploading'])) {
    if (image.status === 'uploading') {
      const staged = await stores.staging.size(image.id);
      if (staged !== undefined) {
        if (image.size !== staged) await images.update(image.id, { size: staged, updated_at: now }, ['uploading']);
        report.resumedStages.push(image.id);
        continue;
      }
    }
    await images.update(image.id, { status: 'queued', size: null, virtual_size: null, updated_at: now }, [image.status]);
    await images.deleteProperty(image.id, IMPORT_TASK_PROP);
    for (const storeId of await images.locations(image.id)) await images.removeLocation(image.id, storeId);
    await stores.staging.delete(image.id);
    (image.status === 'saving' ? report.interruptedUploads : report.interruptedImports).push(image.id);
  }

  for (const store of stores.stores) {
    report.partialFiles += await store.cleanupPartials();
    const owned = await images.idsWithLocation(store.id);
    for (const id of await store.list()) {
      if (owned.has(id)) continue;
      await store.delete(id);
      report.orphanFiles++;
    }
  }
  report.partialFiles += await stores.staging.cleanupPartials();
  const stillStaged = new Set((await images.inStatus(['uploading'])).map((i) => i.id));
  for (const id of await stores.staging.list()) {
    if (stillStaged.has(id)) continue;
    await stores.staging.delete(id);
    report.orphanFiles++;
  }
  await tasks.purgeExpired(now);

  const changed = report.interruptedUploads.length + report.interruptedImports.length + report.orphanFiles + report.partialFiles;
  if (changed) log.warn({ ...report }, 'image service: cleaned up after an interrupted run');
  return report;
}
