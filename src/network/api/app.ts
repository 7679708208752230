import type { FastifyInstance } from 'fastify';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import { createServiceApp } from '../../core/http/app.js';
import type { NetworkDeps } from '../service/deps.js';
import { createNetworkApi } from './context.js';
import { actionRoutes } from './routes/actions.js';
import { discoveryRoutes } from './routes/discovery.js';
import { resourceRoutes } from './routes/resources.js';

/** Neutron accepts an optional `.json` suffix on any path (Tempest uses it for quota details). */
export function stripJsonSuffix(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.endsWith('.json')) return url;
  return path.slice(0, -'.json'.length) + (q < 0 ? '' : url.slice(q));
}

/** The Neutron v2.0 HTTP API. */
export function createNetworkApp(deps: NetworkDeps, validator: TokenValidator, logRequests = true): FastifyInstance {
  const app = createServiceApp({
    name: 'network',
    log: deps.log,
    faultStyle: 'neutron',
    bodyLimit: deps.config.maxRequestBodyBytes,
    logRequests,
    rewriteUrl: stripJsonSuffix,
  });
  const api = createNetworkApi(deps, validator);
  discoveryRoutes(app, api);
  resourceRoutes(app, api);
  actionRoutes(app, api);
  return app;
}
