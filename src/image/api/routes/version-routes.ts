import type { FastifyInstance } from 'fastify';
import { requestBaseUrl } from '../../../core/http/base-url.js';

/**
 * Image API versions as Glance Zed lists them (with multi-store and tasks,
 * without the cache API). v2.12 is listed: the per-image tasks call exists.
 */
const VERSIONS: Array<[string, string]> = [
  ['v2.15', 'CURRENT'],
  ['v2.13', 'SUPPORTED'],
  ['v2.12', 'SUPPORTED'],
  ['v2.11', 'SUPPORTED'],
  ['v2.10', 'SUPPORTED'],
  ['v2.9', 'SUPPORTED'],
  ['v2.8', 'SUPPORTED'],
  ['v2.7', 'SUPPORTED'],
  ['v2.6', 'SUPPORTED'],
  ['v2.5', 'SUPPORTED'],
  ['v2.4', 'SUPPORTED'],
  ['v2.3', 'SUPPORTED'],
  ['v2.2', 'SUPPORTED'],
  ['v2.1', 'SUPPORTED'],
  ['v2.0', 'SUPPORTED'],
];

export function versionRoutes(app: FastifyInstance): void {
  const doc = (base: string) => ({
    versions: VERSIONS.map(([id, status]) => ({ id, status, links: [{ rel: 'self', href: `${base}/v2/` }] })),
  });
  // Unauthenticated, like Glance's version negotiation: 300 at the root and for unknown versions.
  app.get('/', async (req, reply) => reply.code(300).send(doc(requestBaseUrl(req))));
  app.get('/versions', async (req) => doc(requestBaseUrl(req)));
  for (const v of ['/v1', '/v1/*', '/v3', '/v3/*']) app.all(v, async (req, reply) => reply.code(300).send(doc(requestBaseUrl(req))));
}
