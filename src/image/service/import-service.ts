import type { Readable } from 'node:stream';
import { Errors, isApiError } from '../../core/errors.js';
import { newUuid } from '../../core/ids.js';
import type { Log } from '../../core/log.js';
import type { ImageConfig } from '../config.js';
import type { ImageRepo } from '../db/image-repo.js';
import type { TaskRepo } from '../db/task-repo.js';
import type { ImageRow, TaskRow } from '../db/tables.js';
import type { StoreRegistry } from '../stores/registry.js';
import type { ImageStore } from '../stores/store.js';
import type { Access } from './access.js';
import type { Caller } from './caller.js';
import { HASH_ALGO, pumpData, type PumpResult } from './data-pipeline.js';
import { writeToStore } from './data-service.js';
import type { ImagePolicy } from './policy.js';
import type { Quotas } from './quotas.js';
import type { Hashers } from './hash-workers.js';
import { toStoredTime } from './time.js';
import { checkImportUri, fetchImage } from './web-fetch.js';

export const IMPORT_TASK_PROP = 'os_glance_import_task';
export const IMPORTING_PROP = 'os_glance_importing_to_stores';
export const FAILED_PROP = 'os_glance_failed_import';
const STAGE_HOST_PROP = 'os_glance_stage_host';
/** A lock older than this is stale (its task died without clearing it), as in Glance. */
const LOCK_MAX_AGE_MS = 60 * 60 * 1000;
const TASK_TTL_MS = 48 * 60 * 60 * 1000;

type Method = 'glance-direct' | 'web-download' | 'copy-image';

interface ImportPlan {
  method: Method;
  uri?: URL;
  targets: ImageStore[];
  mustAllSucceed: boolean;
}

export interface ImportServiceDeps {
  config: ImageConfig;
  log: Log;
  images: ImageRepo;
  tasks: TaskRepo;
  access: Access;
  quotas: Quotas;
  policy: ImagePolicy;
  stores: StoreRegistry;
  hashers: Hashers;
}

/**
 * Interoperable image import: POST /v2/images/{id}/import validates, locks
 * the image (os_glance_import_task), records a task and answers 202; the
 * task then runs in this process (glance-direct: staged data → stores;
 * web-download: URL → staging → stores; copy-image: one store → others).
 * Failure puts the image back to `queued` (copy-image: keeps it `active`)
 * and removes every byte it wrote.
 */
export function createImportService(deps: ImportServiceDeps) {
  const { config, log, images, tasks, access, quotas, policy, stores, hashers } = deps;
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  function methods(): Method[] {
    return config.importMethods.filter((m) => m !== 'copy-image' || (stores.multistore && stores.stores.filter((s) => !s.readOnly).length > 1));
  }

  function parseBody(body: unknown): { method: Method; raw: Record<string, unknown>; allStores: boolean; mustAllSucceed: boolean; storeIds?: string[] } {
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw Errors.badRequest('Body expected in request.');
    const raw = body as Record<string, unknown>;
    const m = raw['method'];
    if (m === undefined) throw Errors.badRequest("Import request requires a 'method' field.");
    if (typeof m !== 'object' || m === null || !('name' in m)) throw Errors.badRequest("Import request requires a 'name' field.");
    const name = (m as Record<string, unknown>)['name'];
    if (!methods().includes(name as Method)) throw Errors.badRequest(`Unknown import method name '${String(name)}'.`);
    const mustAllSucceed = raw['all_stores_must_succeed'] ?? true;
    if (typeof mustAllSucceed !== 'boolean') throw Errors.badRequest("'all_stores_must_succeed' must be boolean value only");
    const allStores = raw['all_stores'] ?? false;
    if (typeof allStores !== 'boolean') throw Errors.badRequest("'all_stores' must be boolean value only");
    const storeIds = raw['stores'];
    if (storeIds !== undefined && (!Array.isArray(storeIds) || !storeIds.every((s) => typeof s === 'string'))) {
      throw Errors.badRequest("'stores' must be a list of store ids");
    }
    if (allStores && storeIds !== undefined) throw Errors.badRequest("All_stores parameter can't be used with x-image-meta-store header or stores parameter");
    return { method: name as Method, raw, allStores, mustAllSucceed, ...(storeIds ? { storeIds: storeIds as string[] } : {}) };
  }

  function targetsFor(parsed: ReturnType<typeof parseBody>, header: string | undefined, held: string[]): ImageStore[] {
    if (!stores.multistore) {
      if (!parsed.mustAllSucceed) throw Errors.badRequest('All_stores_must_succeed can only be set with enabled_backends');
      return parsed.method === 'copy-image' ? [] : [stores.defaultStore];
    }
    let ids: string[];
    if (parsed.allStores) ids = stores.stores.filter((s) => !s.readOnly).map((s) => s.id);
    else if (parsed.storeIds) ids = parsed.storeIds;
    else if (header) ids = [header];
    else ids = [stores.defaultStore.id];
    const out: ImageStore[] = [];
    for (const id of [...new Set(ids)]) {
      const s = stores.get(id);
      if (!s) throw Errors.conflict(`Store for identifier ${id} not found`);
      if (s.readOnly) throw Errors.forbidden(`Store ${id} is read-only`);
      if (parsed.method === 'copy-image' && held.includes(id)) {
        if (parsed.allStores) continue;
        throw Errors.badRequest(`Image is already present at store '${id}'`);
      }
      out.push(s);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Takes the import lock, or 409 when a live task holds it. */
  async function lock(image: ImageRow, taskId: string): Promise<void> {
    if (await images.claimProperty(image.id, IMPORT_TASK_PROP, taskId)) return;
    const props = await images.properties(image.id);
    const holder = props[IMPORT_TASK_PROP];
    const task = holder ? await tasks.get(holder) : undefined;
    // A lock is stale when its task is gone, finished, or silent for too long (as in Glance).
    const live = task && (task.status === 'pending' || task.status === 'processing');
    const stale = !task || !live || Date.now() - Date.parse(task.updated_at) > LOCK_MAX_AGE_MS;
    if (!stale) throw Errors.conflict('Image has active task');
    await images.deleteProperty(image.id, IMPORT_TASK_PROP, holder);
    if (!(await images.claimProperty(image.id, IMPORT_TASK_PROP, taskId))) {
      throw Errors.conflict(`New operation on image '${image.id}' is not permitted as prior operation is still in progress`);
    }
  }

  async function setProp(id: string, name: string, value: string): Promise<void> {
    await images.setProperty(id, name, value);
  }

  async function finishTask(task: TaskRow, ok: boolean, message: string, imageId: string): Promise<void> {
    const now = new Date();
    await tasks.update(task.id, {
      status: ok ? 'success' : 'failure',
      message,
      result: ok ? JSON.stringify({ image_id: imageId }) : null,
      updated_at: toStoredTime(now),
      expires_at: toStoredTime(new Date(now.getTime() + TASK_TTL_MS)),
    });
    await images.deleteProperty(imageId, IMPORT_TASK_PROP, task.id);
  }

  /** Writes `open()`'s data to each target store; returns the first result and the stores that failed. */
  async function copyToStores(
    image: ImageRow,
    plan: ImportPlan,
    open: () => Promise<Readable>,
    signal: AbortSignal,
  ): Promise<{ result?: PumpResult; written: ImageStore[]; failed: string[] }> {
    const written: ImageStore[] = [];
    const failed: string[] = [];
    let first: PumpResult | undefined;
    for (const store of plan.targets) {
      if (signal.aborted) throw new Error('import interrupted');
      const transfer = await quotas.startTransfer(image.owner, 'image_size_total');
      let source: Readable | undefined;
      const onAbort = () => source?.destroy(new Error('import interrupted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        source = await open();
        const input = source;
        const result = await writeToStore(store, image.id, input, (sink) =>
          pumpData(input, sink, {
            maxBytes: config.imageSizeCapBytes,
            transfer,
            hashes: true,
            hashers,
            format: { diskFormat: image.disk_format, containerFormat: image.container_format, reject: config.rejectUnsafeImages, strict: false },
          }),
        );
        first ??= result;
        written.push(store);
        await images.addLocation(image.id, store.id, toStoredTime());
      } catch (err) {
        if (plan.mustAllSucceed) {
          for (const s of written) await s.delete(image.id).catch(() => undefined);
          for (const s of written) await images.removeLocation(image.id, s.id).catch(() => undefined);
          throw err;
        }
        log.warn({ err, image: image.id, store: store.id }, 'import to a store failed');
        failed.push(store.id);
      } finally {
        signal.removeEventListener('abort', onAbort);
        transfer.end();
      }
      const remaining = plan.targets.slice(plan.targets.indexOf(store) + 1).map((s) => s.id);
      if (stores.multistore) await setProp(image.id, IMPORTING_PROP, remaining.join(','));
    }
    return { ...(first ? { result: first } : {}), written, failed };
  }

  async function addFailed(id: string, storeIds: string[]): Promise<void> {
    if (!storeIds.length) return;
    const props = await images.properties(id);
    const failed = new Set((props[FAILED_PROP] ?? '').split(',').filter(Boolean));
    for (const s of storeIds) failed.add(s);
    await setProp(id, FAILED_PROP, [...failed].sort().join(','));
  }

  async function run(task: TaskRow, image: ImageRow, plan: ImportPlan, signal: AbortSignal): Promise<void> {
    await tasks.update(task.id, { status: 'processing', updated_at: toStoredTime() });
    // A heartbeat keeps the import lock from looking stale during a long import.
    const heartbeat = setInterval(() => void tasks.update(task.id, { updated_at: toStoredTime() }).catch(() => undefined), LOCK_MAX_AGE_MS / 6);
    heartbeat.unref();
    const id = image.id;
    try {
      if (plan.method === 'web-download') {
        const transfer = await quotas.startTransfer(image.owner, 'image_stage_total');
        try {
          const res = await fetchImage(plan.uri!.toString(), config.webDownload, signal);
          await writeToStore(stores.staging, id, res, (sink) =>
            pumpData(res, sink, { maxBytes: config.imageSizeCapBytes, transfer, hashes: false, idleTimeoutMs: config.uploadIdleTimeoutSeconds * 1000 }),
          );
        } finally {
          transfer.end();
        }
      }
      if (plan.method === 'copy-image') {
        const held = await images.locations(id);
        const source = stores.get(held[0] ?? '');
        if (!source) throw new Error('the image has no data to copy');
        const { failed } = await copyToStores(image, plan, () => source.openRead(id), signal);
        await addFailed(id, failed);
        await setProp(id, IMPORTING_PROP, '');
        await images.update(id, { updated_at: toStoredTime() });
        await finishTask(task, true, failed.length ? `Copy failed for stores ${failed.join(',')}` : 'Copied', id);
        return;
      }
      const { result, written, failed } = await copyToStores(image, plan, () => stores.staging.openRead(id), signal);
      if (!result) throw new Error(`import failed for every store (${failed.join(',')})`);
      await addFailed(id, failed);
      const ok = await images.update(
        id,
        {
          status: 'active',
          size: result.size,
          virtual_size: result.inspection?.virtualSize ?? null,
          checksum: result.checksum,
          os_hash_algo: HASH_ALGO,
          os_hash_value: result.hashValue,
          updated_at: toStoredTime(),
        },
        ['importing'],
      );
      if (!ok) {
        for (const s of written) await s.delete(id).catch(() => undefined);
        throw new Error('the image was deleted during the import');
      }
      await stores.staging.delete(id);
      await setProp(id, IMPORTING_PROP, '');
      await finishTask(task, true, `Copied ${Math.floor(result.size / 1024 / 1024)} MiB`, id);
    } catch (err) {
      const message = isApiError(err) ? err.message : (err as Error).message;
      log.warn({ err, image: id, task: task.id }, 'image import failed');
      await revert(id, plan, message).catch((e: unknown) => log.error({ err: e, image: id }, 'could not revert a failed import'));
      await finishTask(task, false, message, id).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Undoes a failed import: staged data and `importing` go (copy-image keeps the image active). */
  async function revert(id: string, plan: ImportPlan, _message: string): Promise<void> {
    if (plan.method !== 'copy-image') {
      await stores.staging.delete(id);
      await images.update(id, { status: 'queued', size: null, virtual_size: null, updated_at: toStoredTime() }, ['importing']);
    }
    if (await images.get(id)) {
      await addFailed(id, plan.targets.map((s) => s.id));
      await setProp(id, IMPORTING_PROP, '');
    }
  }

  return {
    methods,

    async import(caller: Caller, id: string, body: unknown, storeHeader: string | undefined): Promise<void> {
      const parsed = parseBody(body);
      const image = await access.visible(id, caller);
      if (parsed.method === 'copy-image') policy.authorize(caller, 'copy_image', image);
      else if (!caller.admin && !access.isOwner(image, caller)) throw Errors.forbidden('You do not own this image');
      policy.authorize(caller, 'modify_image', image);

      if (parsed.method === 'glance-direct') {
        if (image.status === 'queued') throw Errors.conflict("Image needs to be staged before 'glance-direct' method can be used");
        if (image.status !== 'uploading') throw Errors.conflict(`Image with status ${image.status} cannot be target for import`);
      } else if (parsed.method === 'web-download') {
        if (image.status !== 'queued') throw Errors.conflict("Image needs to be in 'queued' state to use 'web-download' method");
      } else if (image.status !== 'active') {
        throw Errors.conflict('Only images with status active can be targeted for copying');
      }
      if (parsed.method !== 'copy-image') {
        if (!image.container_format) throw Errors.conflict("'container_format' needs to be set before import");
        if (!image.disk_format) throw Errors.conflict("'disk_format' needs to be set before import");
      }
      let uri: URL | undefined;
      if (parsed.method === 'web-download') {
        const u = (parsed.raw['method'] as Record<string, unknown>)['uri'];
        if (typeof u !== 'string' || !u) throw Errors.badRequest('URI for web-download is required');
        uri = checkImportUri(u, config.webDownload);
      }
      const held = await images.locations(id);
      const targets = targetsFor(parsed, storeHeader, held);
      if (parsed.method === 'copy-image' && targets.length === 0) return;

      const now = toStoredTime();
      const task: TaskRow = {
        id: newUuid(),
        type: 'api_image_import',
        status: 'pending',
        owner: caller.projectId,
        user_id: caller.auth.userId,
        image_id: id,
        request_id: caller.requestId,
        input: JSON.stringify({ image_id: id, import_req: parsed.raw, backend: stores.multistore ? targets.map((s) => s.id) : [null] }),
        result: null,
        message: '',
        expires_at: null,
        created_at: now,
        updated_at: now,
      };
      await tasks.insert(task);
      await lock(image, task.id);
      if (parsed.method !== 'copy-image') {
        const from = parsed.method === 'glance-direct' ? 'uploading' : 'queued';
        if (!(await images.update(id, { status: 'importing', updated_at: now }, [from]))) {
          await images.deleteProperty(id, IMPORT_TASK_PROP, task.id);
          await tasks.update(task.id, { status: 'failure', message: 'image changed status', updated_at: now });
          throw Errors.conflict(`Image status transition from ${image.status} to importing is not allowed`);
        }
        try {
          await quotas.checkUploading(image.owner);
        } catch (err) {
          await images.update(id, { status: from, updated_at: now }, ['importing']);
          await images.deleteProperty(id, IMPORT_TASK_PROP, task.id);
          await tasks.update(task.id, { status: 'failure', message: (err as Error).message, updated_at: now });
          throw err;
        }
      }
      await setProp(id, IMPORTING_PROP, stores.multistore ? targets.map((s) => s.id).join(',') : '');
      const props = await images.properties(id);
      const failed = (props[FAILED_PROP] ?? '').split(',').filter((s) => s && !targets.some((t) => t.id === s));
      await setProp(id, FAILED_PROP, failed.join(','));
      await images.deleteProperty(id, STAGE_HOST_PROP);

      const plan: ImportPlan = { method: parsed.method, targets, mustAllSucceed: parsed.mustAllSucceed, ...(uri ? { uri } : {}) };
      const controller = new AbortController();
      const done = run(task, image, plan, controller.signal).finally(() => running.delete(task.id));
      running.set(task.id, { controller, done });
    },

    async tasksOf(caller: Caller, id: string): Promise<TaskRow[]> {
      await access.visible(id, caller);
      return tasks.forImage(id);
    },

    /** Waits for running imports (tests, shutdown); aborts them first when `abort`. */
    async drain(abort = false): Promise<void> {
      for (const r of running.values()) if (abort) r.controller.abort();
      await Promise.allSettled([...running.values()].map((r) => r.done));
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
