import type { FastifyInstance } from 'fastify';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import { Errors } from '../../core/errors.js';
import { createServiceApp } from '../../core/http/app.js';
import { microversionHook } from '../../core/http/microversion.js';
import { createAttachmentService } from '../service/attachments.js';
import type { VolumeCore } from '../service/core.js';
import { createVolumeActions } from '../service/volume-actions.js';
import { createVolumeApi } from './context.js';
import { volumeMicroversions } from './microversions.js';
import { attachmentRoutes } from './routes/attachment-routes.js';
import { backupRoutes } from './routes/backup-routes.js';
import { discoveryRoutes } from './routes/discovery-routes.js';
import { groupRoutes } from './routes/group-routes.js';
import { infoRoutes } from './routes/info-routes.js';
import { messageRoutes } from './routes/message-routes.js';
import { qosRoutes } from './routes/qos-routes.js';
import { quotaRoutes } from './routes/quota-routes.js';
import { serviceRoutes } from './routes/service-routes.js';
import { snapshotRoutes } from './routes/snapshot-routes.js';
import { transferRoutes } from './routes/transfer-routes.js';
import { typeRoutes } from './routes/type-routes.js';
import { volumeActionRoutes } from './routes/volume-action-routes.js';
import { volumeRoutes } from './routes/volume-routes.js';

export interface VolumeAppOptions {
  logRequests?: boolean;
  bodyLimit?: number;
}

/** The Cinder v3 HTTP API. */
export function createVolumeApp(core: VolumeCore, validator: TokenValidator, options: VolumeAppOptions = {}): FastifyInstance {
  const app = createServiceApp({
    name: 'volume',
    log: core.log,
    faultStyle: 'cinder',
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.logRequests !== undefined ? { logRequests: options.logRequests } : {}),
  });
  // Cinder does not normalise trailing slashes: GET /volumes/ is not the list (Tempest's show_volume('') expects 404).
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?')[0]!;
    if (path.length > 1 && path.endsWith('/') && path !== '/v3/') throw Errors.notFoundMessage('The resource could not be found.');
  });
  app.addHook('onRequest', microversionHook(volumeMicroversions));
  discoveryRoutes(app);
  const api = createVolumeApi(app, core, validator);
  const actions = createVolumeActions(core);
  const attachments = createAttachmentService(core);
  infoRoutes(api);
  volumeRoutes(api, actions);
  volumeActionRoutes(api, actions, attachments);
  attachmentRoutes(api, attachments);
  snapshotRoutes(api);
  backupRoutes(api);
  typeRoutes(api);
  qosRoutes(api);
  quotaRoutes(api);
  serviceRoutes(api);
  messageRoutes(api);
  transferRoutes(api);
  groupRoutes(api, actions);
  return app;
}
