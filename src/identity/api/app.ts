import type { FastifyInstance } from 'fastify';
import { createServiceApp } from '../../core/http/app.js';
import type { Identity } from '../service/identity.js';
import { createIdentityApi } from './context.js';
import { appCredentialRoutes } from './routes/app-credential-routes.js';
import { assignmentRoutes } from './routes/assignment-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { catalogRoutes } from './routes/catalog-routes.js';
import { credentialRoutes } from './routes/credential-routes.js';
import { domainConfigRoutes } from './routes/domain-config-routes.js';
import { endpointFilterRoutes } from './routes/endpoint-filter-routes.js';
import { limitRoutes } from './routes/limit-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { trustRoutes } from './routes/trust-routes.js';
import { discoveryRoutes } from './routes/discovery.js';
import { grantRoutes } from './routes/grant-routes.js';
import { resourceRoutes } from './routes/resource-routes.js';
import { roleRoutes } from './routes/role-routes.js';
import { userRoutes } from './routes/user-routes.js';

/** The Keystone v3 HTTP API over an Identity. */
export function createIdentityApp(identity: Identity): FastifyInstance {
  const { config, log } = identity.deps;
  const app = createServiceApp({
    name: 'identity',
    log,
    faultStyle: 'keystone',
    bodyLimit: config.identity.maxRequestBodyBytes,
    logRequests: config.log.requests,
  });
  // Keystone answers 401 with a WWW-Authenticate header naming itself.
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', `Keystone uri="${req.protocol}://${req.headers.host ?? 'localhost'}/v3"`);
    return payload;
  });
  // Keystone's [DEFAULT] list_limit: collections are cut to the limit and say so with `truncated`.
  const listLimit = config.identity.listLimit;
  if (listLimit > 0) {
    app.addHook('preSerialization', async (req, _reply, payload) => {
      if (req.method !== 'GET' || typeof payload !== 'object' || payload === null || !('links' in payload)) return payload;
      const body = payload as Record<string, unknown>;
      const lists = Object.keys(body).filter((k) => Array.isArray(body[k]));
      if (lists.length !== 1) return payload;
      const items = body[lists[0]!] as unknown[];
      return items.length > listLimit ? { ...body, [lists[0]!]: items.slice(0, listLimit), truncated: true } : payload;
    });
  }
  const api = createIdentityApi(identity);
  discoveryRoutes(app);
  authRoutes(app, api);
  resourceRoutes(app, api);
  userRoutes(app, api);
  roleRoutes(app, api);
  grantRoutes(app, api);
  assignmentRoutes(app, api);
  catalogRoutes(app, api);
  appCredentialRoutes(app, api);
  credentialRoutes(app, api);
  trustRoutes(app, api);
  limitRoutes(app, api);
  policyRoutes(app, api);
  endpointFilterRoutes(app, api);
  domainConfigRoutes(app, api);
  return app;
}
