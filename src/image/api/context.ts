import type { FastifyRequest } from 'fastify';
import { authOf, requireToken } from '../../core/auth/auth-hook.js';
import type { TokenValidator } from '../../core/auth/token-validator.js';
import type { ImageRow } from '../db/tables.js';
import type { Caller } from '../service/caller.js';
import type { ImageCore } from '../service/image-core.js';
import { renderImage } from './render.js';

/** What the image route modules share. */
export interface ImageApi {
  core: ImageCore;
  /** preHandler: a valid X-Auth-Token (401 otherwise). */
  authenticate(req: FastifyRequest): Promise<void>;
  caller(req: FastifyRequest): Caller;
  render(row: ImageRow): Promise<Record<string, unknown>>;
  renderMany(rows: ImageRow[]): Promise<Array<Record<string, unknown>>>;
}

export function createImageApi(core: ImageCore, validator: TokenValidator): ImageApi {
  const { images } = core.repos;
  const multistore = core.stores.multistore;
  return {
    core,
    authenticate: requireToken(validator, { serviceType: 'image' }),
    caller(req) {
      const auth = authOf(req);
      return { auth, projectId: auth.projectId ?? null, admin: core.policy.isAdmin(auth), requestId: String(req.id) };
    },
    async render(row) {
      const [properties, tags, stores] = await Promise.all([
        images.properties(row.id),
        images.tags(row.id),
        multistore ? images.locations(row.id) : Promise.resolve(undefined),
      ]);
      return renderImage(row, { properties, tags, stores });
    },
    async renderMany(rows) {
      const ids = rows.map((r) => r.id);
      const [props, tags, locations] = await Promise.all([
        images.propertiesFor(ids),
        images.tagsFor(ids),
        multistore ? images.locationsFor(ids) : Promise.resolve(undefined),
      ]);
      return rows.map((r) => renderImage(r, { properties: props.get(r.id) ?? {}, tags: tags.get(r.id) ?? [], stores: locations?.get(r.id) }));
    },
  };
}
