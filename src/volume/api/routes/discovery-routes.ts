import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_VERSION, MIN_VERSION } from '../microversions.js';

function versionDoc(req: FastifyRequest) {
  const proto = (req.headers['x-forwarded-proto'] as string | undefined) ?? req.protocol;
  const host = (req.headers['x-forwarded-host'] as string | undefined) ?? req.headers.host ?? 'localhost';
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${proto}://${host}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** Version discovery: `/` lists the versions (300 Multiple Choices), `/v3/` describes v3. */
export function discoveryRoutes(app: FastifyInstance): void {
  app.get('/', async (req, reply) => reply.code(300).send({ versions: [versionDoc(req)] }));
  app.get('/v3/', async (req) => ({ versions: [versionDoc(req)] }));
}
