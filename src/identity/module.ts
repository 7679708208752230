import type { ServiceModule } from '../runtime/service-module.js';
import { identityMigrations } from './db/migrations.js';

/**
 * Identity as a service module. The runtime starts it first, by hand
 * (runtime/start.ts), because every other service validates tokens with it
 * and bootstrap needs every module's catalog entries.
 */
export const identityModule: ServiceModule = {
  name: 'identity',
  enabled: (config) => config.identity.enabled,
  migrations: identityMigrations,
  catalog: (config, publicUrl) => [
    {
      type: 'identity',
      name: 'keystone',
      description: 'OpenStack Identity',
      urls: {
        public: publicUrl(config.identity.port, '/v3/'),
        internal: publicUrl(config.identity.port, '/v3/'),
        admin: publicUrl(config.identity.port, '/v3/'),
      },
    },
  ],
  start: async () => {
    throw new Error('identity is started by the runtime');
  },
};
