import { createServiceSession } from '../core/clients/service-auth.js';
import type { NimbusConfig } from '../runtime/config-schema.js';
import type { ServiceModule } from '../runtime/service-module.js';
import { join } from 'node:path';
import { createNetworkApp } from './api/app.js';
import type { NetworkBackend } from './backend/backend.js';
import { createFakeBackend } from './backend/fake-backend.js';
import { networkMigrations } from './db/migrations.js';
import { networkDb } from './db/tables.js';
import { reportAgent } from './service/agents.js';
import { createComputeNotifier } from './service/compute-events.js';
import { ensureDhcpPort, releaseDhcpPort } from './service/dhcp-ports.js';
import type { NetworkDeps } from './service/deps.js';
import { createNetworkEnforcer } from './service/policy.js';
import { setPortStatus } from './service/ports.js';
import { ensurePublicNetwork } from './service/public-network.js';
import { createNetworkReader } from './service/reader.js';
import type { Log } from '../core/log.js';

/**
 * A data plane other modules may offer: `ctx.shared.set('network-backend:<name>', factory)`
 * before the network module starts, selected by `network.backend`.
 */
export type NetworkBackendFactory = (options: { config: NimbusConfig; log: Log }) => NetworkBackend;

function catalogUrl(config: NimbusConfig, publicUrl: (port: number, path?: string) => string): string {
  return publicUrl(config.network.port);
}

/** The networking service (Neutron v2.0 API on port 9696). */
export const networkModule: ServiceModule = {
  name: 'network',
  enabled: (config) => config.network.enabled,
  migrations: networkMigrations,
  catalog: (config, publicUrl) => [
    {
      type: 'network',
      name: 'neutron',
      description: 'OpenStack Networking',
      urls: { public: catalogUrl(config, publicUrl), internal: catalogUrl(config, publicUrl), admin: catalogUrl(config, publicUrl) },
    },
  ],
  async start(ctx) {
    const config = ctx.config.network;
    const log = ctx.log.child({ service: 'network' });
    const session = createServiceSession(ctx.serviceCredentials);
    let backend: NetworkBackend;
    if (config.backend === 'fake') {
      backend = createFakeBackend({ log, host: config.host, availabilityZone: config.availabilityZone, physicalNetworks: Object.keys(config.physicalInterfaceMappings) });
    } else {
      const factory = ctx.shared.get(`network-backend:${config.backend}`) as NetworkBackendFactory | undefined;
      if (!factory) throw new Error(`network.backend '${config.backend}' is not available (known: fake)`);
      backend = factory({ config: ctx.config, log });
    }
    const deps: NetworkDeps = {
      db: networkDb(ctx.database),
      dialect: ctx.database.dialect,
      config,
      log,
      enforcer: createNetworkEnforcer(config.policyFile || join(ctx.config.dataDir, 'network-policy.yaml')),
      backend,
      compute: createComputeNotifier({ session, log, enabled: config.notifyCompute }),
    };
    const reader = createNetworkReader(deps);
    ctx.shared.set('network', { deps, reader });
    const app = createNetworkApp(deps, ctx.validator, ctx.config.log.requests);
    await app.listen({ host: ctx.config.bindHost, port: config.port });
    const port = (app.server.address() as { port: number }).port;
    await backend.start({
      reader,
      callbacks: {
        setPortStatus: (portId, status) => setPortStatus(deps, portId, status),
        reportAgent: (agent) => reportAgent(deps, agent),
        ensureDhcpPort: (networkId, host) => ensureDhcpPort(deps, networkId, host),
        releaseDhcpPort: (networkId, host) => releaseDhcpPort(deps, networkId, host),
      },
    });
    try {
      await ensurePublicNetwork(deps, session);
    } catch (err) {
      log.error({ err }, 'could not create the public network');
    }
    return {
      name: 'network',
      port,
      async close() {
        await backend.stop();
        await deps.compute.close();
        await app.close();
      },
    };
  },
};
