import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../service/faults.js';
import type { NetworkApi, Params } from '../context.js';
import { EXTENSIONS, findExtension } from '../extensions.js';
import { baseUrl } from '../query.js';

/** Version discovery (no token needed) and the extensions list. */
export function discoveryRoutes(app: FastifyInstance, api: NetworkApi): void {
  app.get('/', async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(req)}/v2.0/` }] }],
  }));
  app.get('/v2.0', async (req) => ({
    resources: ['network', 'subnet', 'subnetpool', 'port'].map((name) => ({
      name,
      collection: `${name}s`,
      links: [{ rel: 'self', href: `${baseUrl(req)}/v2.0/${name}s` }],
    })),
  }));
  const auth = { preHandler: api.authenticate };
  app.get('/v2.0/extensions', auth, async () => ({ extensions: EXTENSIONS }));
  app.get<Params>('/v2.0/extensions/:alias', auth, async (req) => {
    const ext = findExtension(req.params['alias']!);
    if (!ext) throw NotFound.extension(req.params['alias']!);
    return { extension: ext };
  });
}
