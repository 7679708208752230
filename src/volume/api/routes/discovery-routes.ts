import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requestBaseUrl } from '../../../core/http/base-url.js';
import { MAX_VERSION, MIN_VERSION } from '../microversions.js';

function versionDoc(req: FastifyRequest) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${requestBaseUrl(req)}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** Version discovery: `/` lists the versions (300 Multiple Choices), `/v3/` describes v3. */
export function discoveryRoutes(app: FastifyInstance): void {
  app.get('/', async (req, reply) => reply.code(300).send({ versions: [versionDoc(req)] }));
  app.get('/v3/', async (req) => ({ versions: [versionDoc(req)] }));
}
