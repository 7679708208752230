import type { FastifyInstance, FastifyRequest } from 'fastify';
import { baseUrl } from '../context.js';

function version(req: FastifyRequest) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${baseUrl(req)}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export function discoveryRoutes(app: FastifyInstance): void {
  app.get('/', async (req, reply) => reply.code(300).send({ versions: { values: [version(req)] } }));
  app.get('/v3', async (req) => ({ version: version(req) }));
}
