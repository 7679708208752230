import { createServiceSession } from '../core/clients/service-auth.js';
import { Errors } from '../core/errors.js';
import type { ServiceModule } from '../runtime/service-module.js';
import { createImageApp } from './api/app.js';
import { imageMigrations } from './db/migrations.js';
import { createImageCore } from './service/image-core.js';
import { seedMetadefs } from './service/metadef-seed.js';
import { reconcile } from './service/reconcile.js';
import { importTestImage } from './service/test-image.js';

/** Glance v2 (catalog type `image`), port 9292 by default. */
export const imageModule: ServiceModule = {
  name: 'image',
  enabled: (config) => config.image.enabled,
  migrations: imageMigrations,
  catalog: (config, publicUrl) => [
    {
      type: 'image',
      name: 'glance',
      description: 'OpenStack Image',
      // Unversioned: clients discover /v2 from the version document (Tempest appends /v2 itself).
      urls: {
        public: publicUrl(config.image.port),
        internal: publicUrl(config.image.port),
        admin: publicUrl(config.image.port),
      },
    },
  ],
  async start(ctx) {
    const log = ctx.log.child({ service: 'image' });
    const core = createImageCore({ database: ctx.database, config: ctx.config.image, dataDir: ctx.config.dataDir, log });
    await reconcile(core);
    await seedMetadefs(core);
    const app = createImageApp(core, ctx.validator, { log: ctx.log, logRequests: ctx.config.log.requests });
    await app.listen({ host: ctx.config.bindHost, port: ctx.config.image.port });
    const port = (app.server.address() as { port: number }).port;

    // The test image is imported in the background: a large file must not delay start-up.
    const session = createServiceSession(ctx.serviceCredentials);
    const adminProject = async () => {
      const res = await session.request('identity', '/projects?name=admin');
      const body = (await res.json()) as { projects?: Array<{ id: string }> };
      const id = body.projects?.[0]?.id;
      if (!id) throw Errors.serviceUnavailable('no admin project to own the test image');
      return id;
    };
    void core.backgroundHasher.resume().catch((err: unknown) => log.error({ err }, 'could not resume checksum computation'));
    const seeding = importTestImage(core, adminProject).catch((err: unknown) => log.error({ err }, 'could not import the test image'));

    return {
      name: 'image',
      port,
      async close() {
        await app.close();
        await core.imports.drain(true);
        await seeding;
        await core.close();
      },
    };
  },
};
