import type { FastifyInstance } from 'fastify';
import { Errors } from '../../../core/errors.js';
import type { ImageApi } from '../context.js';

const MiB = 1024 * 1024;

/** /v2/info/import, /v2/info/stores[/detail], /v2/info/usage, and DELETE /v2/stores/{store}/{image}. */
export function infoRoutes(app: FastifyInstance, api: ImageApi): void {
  const { core } = api;
  const auth = { preHandler: api.authenticate };

  app.get('/v2/info/import', auth, async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: core.imports.methods() },
  }));

  const storeList = (detail: boolean) => {
    if (!core.stores.multistore) throw Errors.notFoundMessage('Multi backend is not supported at this site.');
    return {
      stores: core.stores.stores.map((s) => ({
        id: s.id,
        description: s.description,
        ...(s === core.stores.defaultStore ? { default: 'true' } : {}),
        ...(s.readOnly ? { 'read-only': 'true' } : {}),
        ...(detail ? { type: s.type, properties: {} } : {}),
      })),
    };
  };
  app.get('/v2/info/stores', auth, async () => storeList(false));
  app.get('/v2/info/stores/detail', auth, async (req) => {
    core.policy.authorize(api.caller(req), 'stores_info_detail', null);
    return storeList(true);
  });

  app.get('/v2/info/usage', auth, async (req) => {
    const caller = api.caller(req);
    const q = core.config.quotas;
    if (!caller.projectId) return { usage: {} };
    const u = await core.repos.images.usage(caller.projectId);
    return {
      usage: {
        image_size_total: { limit: q.imageSizeTotalMiB, usage: Math.floor(u.sizeBytes / MiB) },
        image_stage_total: { limit: q.imageStageTotalMiB, usage: Math.floor(u.stagingBytes / MiB) },
        image_count_total: { limit: q.imageCountTotal, usage: u.count },
        image_count_uploading: { limit: q.imageCountUploading, usage: u.uploading },
      },
    };
  });

  app.delete<{ Params: Record<string, string> }>('/v2/stores/:store/:id', auth, async (req, reply) => {
    const caller = api.caller(req);
    if (!core.stores.multistore) throw Errors.notFoundMessage('Multi backend is not supported at this site.');
    const store = core.stores.get(req.params['store']!);
    if (!store) throw Errors.notFoundMessage(`Unknown store ${req.params['store']}.`);
    const image = await core.access.visible(req.params['id']!, caller);
    if (!caller.admin) throw Errors.forbidden('You are not authorized to complete delete_image_location action.');
    if (image.status !== 'active') throw Errors.conflict('It is not permitted to delete data of an image that is not active.');
    const held = await core.repos.images.locations(image.id);
    if (!held.includes(store.id)) throw Errors.notFoundMessage(`Image ${image.id} has no data in store ${store.id}.`);
    if (held.length === 1) throw Errors.forbidden('Cannot delete the last copy of the image data.');
    await core.repos.images.removeLocation(image.id, store.id);
    await store.delete(image.id);
    return reply.code(204).send();
  });
}
