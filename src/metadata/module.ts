import type { ServiceModule } from '../runtime/service-module.js';
import { createMetadataApp } from './api/app.js';
import { metadataSharedSecret } from './shared-secret.js';
import type { MetadataSource } from './service/metadata-source.js';

/** Key in RuntimeContext.shared where compute puts its MetadataSource. */
export const METADATA_SOURCE_KEY = 'metadata.source';

const none: MetadataSource = { instance: async () => undefined };

/**
 * The metadata API as a service module. It has no tables and no catalog
 * entry (guests reach it only through the proxy). Instance data comes from
 * whatever compute registers under METADATA_SOURCE_KEY, looked up per
 * request so start order does not matter; until then every instance is unknown.
 */
export const metadataModule: ServiceModule = {
  name: 'metadata',
  enabled: (config) => config.metadata.enabled,
  migrations: {},
  catalog: () => [],
  start: async (ctx) => {
    const { config } = ctx;
    const app = createMetadataApp({
      log: ctx.log,
      source: () => (ctx.shared.get(METADATA_SOURCE_KEY) as MetadataSource | undefined) ?? none,
      sharedSecret: metadataSharedSecret(config.metadata.sharedSecret, config.dataDir),
      dhcpDomain: config.metadata.dhcpDomain,
      logRequests: config.log.requests,
    });
    await app.listen({ host: config.bindHost, port: config.metadata.port });
    const addr = app.server.address();
    return { name: 'metadata', port: typeof addr === 'object' && addr ? addr.port : config.metadata.port, close: () => app.close() };
  },
};
