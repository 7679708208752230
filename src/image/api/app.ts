import type { FastifyInstance } from 'fastify';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import { createServiceApp } from '../../core/http/app.js';
import type { Log } from '../../core/log.js';
import type { ImageCore } from '../service/image-core.js';
import { PATCH_MEDIA_TYPES } from '../service/json-patch.js';
import { createImageApi } from './context.js';
import { dataRoutes } from './routes/data-routes.js';
import { imageRoutes } from './routes/image-routes.js';
import { infoRoutes } from './routes/info-routes.js';
import { memberRoutes } from './routes/member-routes.js';
import { metadefRoutes } from './routes/metadef-routes.js';
import { schemaRoutes } from './routes/schema-routes.js';
import { versionRoutes } from './routes/version-routes.js';

/** The Glance v2 HTTP API over an ImageCore. */
export function createImageApp(core: ImageCore, validator: TokenValidator, options: { log: Log; logRequests: boolean }): FastifyInstance {
  const app = createServiceApp({
    name: 'image',
    log: options.log,
    faultStyle: 'glance',
    bodyLimit: core.config.maxRequestBodyBytes,
    logRequests: options.logRequests,
    jsonMediaTypes: PATCH_MEDIA_TYPES,
  });
  // Bodies of other types reach the handlers as nothing, so they can answer
  // with Glance's own error (415 + Accept-Patch for PATCH, 400 elsewhere).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, _body, done) => done(null, undefined));
  const api = createImageApi(core, validator);
  versionRoutes(app);
  imageRoutes(app, api);
  dataRoutes(app, api);
  memberRoutes(app, api);
  infoRoutes(app, api);
  schemaRoutes(app, api);
  metadefRoutes(app, api);
  return app;
}
