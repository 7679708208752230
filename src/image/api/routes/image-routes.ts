import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../../core/errors.js';
import { requestBaseUrl } from '../../../core/http/base-url.js';
import { parsePatch } from '../../service/json-patch.js';
import { parseListParams, type QueryPairs } from '../../service/list-params.js';
import type { ImageApi } from '../context.js';

type P = { Params: Record<string, string> };

/** Query parameters in order, repeated keys kept (Glance reads `tag` and `sort_key` repeatedly). */
export function queryPairs(req: FastifyRequest): QueryPairs {
  const i = req.url.indexOf('?');
  if (i < 0) return [];
  return [...new URLSearchParams(req.url.slice(i + 1)).entries()];
}

function mediaType(req: FastifyRequest): string | undefined {
  return req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
}

/** /v2/images: create, list, show, update (JSON patch), delete, tags, deactivate/reactivate. */
export function imageRoutes(app: FastifyInstance, api: ImageApi): void {
  const { core } = api;
  const auth = { preHandler: api.authenticate };

  app.post('/v2/images', auth, async (req, reply) => {
    const caller = api.caller(req);
    const row = await core.images.create(caller, req.body);
    const methods = core.imports.methods();
    reply.code(201).header('location', `${requestBaseUrl(req)}/v2/images/${row.id}`);
    if (methods.length) reply.header('openstack-image-import-methods', methods.join(','));
    if (core.stores.multistore) reply.header('openstack-image-store-ids', core.stores.stores.filter((s) => !s.readOnly).map((s) => s.id).join(','));
    return reply.send(await api.render(row));
  });

  app.get('/v2/images', auth, async (req) => {
    const caller = api.caller(req);
    core.policy.authorize(caller, 'get_images', null);
    const pairs = queryPairs(req);
    const parsed = parseListParams(pairs);
    let marker;
    if (parsed.markerId !== undefined) {
      marker = await core.repos.images.get(parsed.markerId);
      if (!marker || !(await core.access.canSee(marker, caller))) throw Errors.badRequest(`Invalid marker. Image ${parsed.markerId} could not be found.`);
    }
    const rows = await core.repos.images.list({ ...parsed.query, scope: { admin: caller.admin, projectId: caller.projectId }, marker });
    const keep = pairs.filter(([k]) => k !== 'marker');
    const qs = new URLSearchParams(keep).toString();
    const first = `/v2/images${qs ? `?${qs}` : ''}`;
    const body: Record<string, unknown> = { images: await api.renderMany(rows), first, schema: '/v2/schemas/images' };
    if (rows.length > 0 && rows.length === parsed.query.limit) {
      body['next'] = `/v2/images?${new URLSearchParams([...keep, ['marker', rows[rows.length - 1]!.id]]).toString()}`;
    }
    return body;
  });

  app.get<P>('/v2/images/:id', auth, async (req) => {
    const caller = api.caller(req);
    const row = await core.access.visible(req.params['id']!, caller);
    core.policy.authorize(caller, 'get_image', row);
    return api.render(row);
  });

  app.patch<P>('/v2/images/:id', auth, async (req) => {
    const caller = api.caller(req);
    const changes = parsePatch(mediaType(req), req.body);
    const row = await core.images.update(caller, req.params['id']!, changes);
    return api.render(row);
  });

  app.delete<P>('/v2/images/:id', auth, async (req, reply) => {
    await core.images.delete(api.caller(req), req.params['id']!);
    return reply.code(204).send();
  });

  // The router ignores trailing slashes; Glance answers 404 to `GET|DELETE /v2/images/` (an empty id).
  app.addHook('onRequest', async (req) => {
    if (req.url.split('?')[0] === '/v2/images/' && req.method !== 'POST') throw Errors.notFoundMessage('The resource could not be found.');
  });

  app.post<P>('/v2/images/:id/actions/deactivate', auth, async (req, reply) => {
    await core.images.deactivate(api.caller(req), req.params['id']!);
    return reply.code(204).send();
  });
  app.post<P>('/v2/images/:id/actions/reactivate', auth, async (req, reply) => {
    await core.images.reactivate(api.caller(req), req.params['id']!);
    return reply.code(204).send();
  });

  app.put<P>('/v2/images/:id/tags/:tag', auth, async (req, reply) => {
    await core.images.addTag(api.caller(req), req.params['id']!, req.params['tag']!);
    return reply.code(204).send();
  });
  app.delete<P>('/v2/images/:id/tags/:tag', auth, async (req, reply) => {
    await core.images.removeTag(api.caller(req), req.params['id']!, req.params['tag']!);
    return reply.code(204).send();
  });
}
