import { Type, type Static } from '@sinclair/typebox';
import { section } from '../core/config/types.js';
import { identitySection } from '../identity/config.js';
import { imageSection } from '../image/config.js';
import { networkSection } from '../network/config.js';
import { qemuSection } from '../agents/compute/qemu/config.js';
import { linuxNetworkSection } from '../agents/network/linux/config.js';
import { metadataSection } from '../metadata/config.js';
import { volumeSection } from '../volume/config.js';

/**
 * The one configuration schema of Nimbus. Each service declares its own
 * section next to its code; this file composes them. `nimbus config` prints
 * the effective values, docs/operations.md documents them.
 */
export const configSchema = Type.Object(
  {
    dataDir: Type.String({ default: '', description: 'state directory (default: $NIMBUS_DATA_DIR or ~/.nimbus)' }),
    bindHost: Type.String({ default: '127.0.0.1', description: 'address every API listens on' }),
    publicHost: Type.String({ default: '', description: 'host name put in catalog URLs (default: bindHost, or 127.0.0.1 when binding 0.0.0.0)' }),
    region: Type.String({ default: 'RegionOne', description: 'region of the catalog endpoints' }),
    log: section({
      level: Type.Union(
        [
          Type.Literal('trace'),
          Type.Literal('debug'),
          Type.Literal('info'),
          Type.Literal('warn'),
          Type.Literal('error'),
          Type.Literal('fatal'),
          Type.Literal('silent'),
        ],
        { default: 'info' },
      ),
      requests: Type.Boolean({ default: true, description: 'log one line per HTTP request' }),
    }),
    database: section({
      url: Type.String({ default: '', description: 'sqlite:PATH, postgres://… or mysql://… (default: sqlite in the data dir)' }),
      poolSize: Type.Integer({ minimum: 1, default: 10, description: 'connections for PostgreSQL/MySQL' }),
    }),
    bus: section({
      driver: Type.Union([Type.Literal('inprocess'), Type.Literal('amqp')], { default: 'inprocess' }),
      url: Type.String({ default: 'amqp://guest:guest@127.0.0.1:5672', description: 'RabbitMQ URL when driver is amqp' }),
    }),
    auth: section({
      identityUrl: Type.String({ default: '', description: 'Keystone URL for token validation when identity runs in another process (empty: in-process)' }),
      cacheSeconds: Type.Integer({ minimum: 0, default: 300, description: 'how long a validated token is cached by other services' }),
      cacheEntries: Type.Integer({ minimum: 0, default: 10000 }),
      serviceUser: Type.String({ default: 'nimbus', description: 'service user the services authenticate as' }),
      servicePassword: Type.String({ default: '', description: 'its password (generated at bootstrap when empty)' }),
    }),
    identity: identitySection,
    image: imageSection,
    network: networkSection,
    metadata: metadataSection,
    qemu: qemuSection,
    linuxNetwork: linuxNetworkSection,
    volume: volumeSection,
  },
  { additionalProperties: false },
);

export type NimbusConfig = Static<typeof configSchema>;
