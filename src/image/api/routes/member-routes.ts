import type { FastifyInstance } from 'fastify';
import type { ImageApi } from '../context.js';
import { renderMember } from '../render.js';

type P = { Params: Record<string, string> };

/** /v2/images/{id}/members (note: creating a member answers 200, as Glance does). */
export function memberRoutes(app: FastifyInstance, api: ImageApi): void {
  const { members } = api.core;
  const auth = { preHandler: api.authenticate };

  app.post<P>('/v2/images/:id/members', auth, async (req) => renderMember(await members.add(api.caller(req), req.params['id']!, req.body)));
  app.get<P>('/v2/images/:id/members', auth, async (req) => ({
    members: (await members.list(api.caller(req), req.params['id']!)).map(renderMember),
    schema: '/v2/schemas/members',
  }));
  app.get<P>('/v2/images/:id/members/:member', auth, async (req) =>
    renderMember(await members.get(api.caller(req), req.params['id']!, req.params['member']!)),
  );
  app.put<P>('/v2/images/:id/members/:member', auth, async (req) =>
    renderMember(await members.update(api.caller(req), req.params['id']!, req.params['member']!, req.body)),
  );
  app.delete<P>('/v2/images/:id/members/:member', auth, async (req, reply) => {
    await members.delete(api.caller(req), req.params['id']!, req.params['member']!);
    return reply.code(204).send();
  });
}
