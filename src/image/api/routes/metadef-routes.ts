import type { FastifyInstance } from 'fastify';
import { headerValue } from '../../../core/auth/auth-hook.js';
import type { ImageApi } from '../context.js';
import { queryPairs } from './image-routes.js';

type P = { Params: Record<string, string> };
const KINDS = { properties: 'property', objects: 'object', tags: 'tag' } as const;

/** Metadata definitions (/v2/metadefs). */
export function metadefRoutes(app: FastifyInstance, api: ImageApi): void {
  const md = api.core.metadefs;
  const auth = { preHandler: api.authenticate };
  const base = '/v2/metadefs/namespaces';

  app.get('/v2/metadefs/resource_types', auth, async (req) => md.resourceTypes(api.caller(req)));

  app.post(base, auth, async (req, reply) => reply.code(201).send(await md.createNamespace(api.caller(req), req.body)));
  app.get(base, auth, async (req) => {
    const pairs = queryPairs(req);
    const visibility = pairs.find(([k]) => k === 'visibility')?.[1];
    const types = pairs.find(([k]) => k === 'resource_types')?.[1];
    return md.listNamespaces(api.caller(req), {
      ...(visibility ? { visibility } : {}),
      ...(types ? { resourceTypes: types.split(',') } : {}),
    });
  });
  app.get<P>(`${base}/:ns`, auth, async (req) => md.showNamespace(api.caller(req), req.params['ns']!));
  app.put<P>(`${base}/:ns`, auth, async (req) => md.updateNamespace(api.caller(req), req.params['ns']!, req.body));
  app.delete<P>(`${base}/:ns`, auth, async (req, reply) => {
    await md.deleteNamespace(api.caller(req), req.params['ns']!);
    return reply.code(204).send();
  });

  app.post<P>(`${base}/:ns/resource_types`, auth, async (req, reply) => reply.code(201).send(await md.addAssociation(api.caller(req), req.params['ns']!, req.body)));
  app.get<P>(`${base}/:ns/resource_types`, auth, async (req) => md.listAssociations(api.caller(req), req.params['ns']!));
  app.delete<P>(`${base}/:ns/resource_types/:name`, auth, async (req, reply) => {
    await md.deleteAssociation(api.caller(req), req.params['ns']!, req.params['name']!);
    return reply.code(204).send();
  });

  for (const [segment, kind] of Object.entries(KINDS)) {
    if (kind === 'tag') {
      app.post<P>(`${base}/:ns/tags`, auth, async (req, reply) =>
        reply.code(201).send(await md.replaceTags(api.caller(req), req.params['ns']!, req.body, headerValue(req, 'x-openstack-append')?.toLowerCase() === 'true')),
      );
      app.delete<P>(`${base}/:ns/tags`, auth, async (req, reply) => {
        await md.deleteTags(api.caller(req), req.params['ns']!);
        return reply.code(204).send();
      });
      app.post<P>(`${base}/:ns/tags/:name`, auth, async (req, reply) =>
        reply.code(201).send(await md.addItem(api.caller(req), req.params['ns']!, 'tag', req.body, req.params['name']!)),
      );
    } else {
      app.post<P>(`${base}/:ns/${segment}`, auth, async (req, reply) => reply.code(201).send(await md.addItem(api.caller(req), req.params['ns']!, kind, req.body)));
    }
    app.get<P>(`${base}/:ns/${segment}`, auth, async (req) => md.listItems(api.caller(req), req.params['ns']!, kind));
    app.get<P>(`${base}/:ns/${segment}/:name`, auth, async (req) => md.showItem(api.caller(req), req.params['ns']!, kind, req.params['name']!));
    app.put<P>(`${base}/:ns/${segment}/:name`, auth, async (req) => md.updateItem(api.caller(req), req.params['ns']!, kind, req.params['name']!, req.body));
    app.delete<P>(`${base}/:ns/${segment}/:name`, auth, async (req, reply) => {
      await md.deleteItem(api.caller(req), req.params['ns']!, kind, req.params['name']!);
      return reply.code(204).send();
    });
  }
}
