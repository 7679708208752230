import { Errors } from '../../../core/errors.js';
import type { Req, VolumeApi } from '../context.js';
import { parseMetadata, requireObject } from '../input.js';

export interface MetadataOwner<R extends { id: string; project_id: string }> {
  collection: string;
  resourceType: string;
  load(req: Req, id: string): Promise<R>;
  rules: { read: string; write: string; delete: string };
  guard?(row: R): void;
}

/** `/<collection>/{id}/metadata[/{key}]` with Cinder's semantics (POST merges, PUT replaces, item PUT must name the URL key). */
export function metadataRoutes<R extends { id: string; project_id: string }>(api: VolumeApi, owner: MetadataOwner<R>): void {
  const repo = api.core.repos.metadata;
  const base = `/${owner.collection}/:id/metadata`;
  const metadataBody = (body: unknown, key: string) => {
    const root = requireObject(body ?? null, 'body');
    if (!(key in root)) throw Errors.badRequest(`Malformed request body: '${key}' is a required property`);
    return parseMetadata(root[key], key);
  };

  api.route('GET', base, async (req) => {
    const r = await owner.load(req, req.params['id']!);
    api.enforce(req, owner.rules.read, r.project_id);
    return { metadata: await repo.get(owner.resourceType, r.id) };
  });

  for (const method of ['POST', 'PUT'] as const) {
    api.route(method, base, async (req) => {
      const r = await owner.load(req, req.params['id']!);
      api.enforce(req, owner.rules.write, r.project_id);
      owner.guard?.(r);
      const values = metadataBody(req.body, 'metadata');
      await repo.set(owner.resourceType, r.id, values, method === 'PUT');
      return { metadata: method === 'PUT' ? values : await repo.get(owner.resourceType, r.id) };
    });
  }

  api.route('GET', `${base}/:key`, async (req) => {
    const r = await owner.load(req, req.params['id']!);
    api.enforce(req, owner.rules.read, r.project_id);
    const all = await repo.get(owner.resourceType, r.id);
    const key = req.params['key']!;
    if (!(key in all)) throw Errors.notFoundMessage(`Metadata item was not found`);
    return { meta: { [key]: all[key] } };
  });

  api.route('PUT', `${base}/:key`, async (req) => {
    const r = await owner.load(req, req.params['id']!);
    api.enforce(req, owner.rules.write, r.project_id);
    owner.guard?.(r);
    const meta = metadataBody(req.body, 'meta');
    const key = req.params['key']!;
    if (Object.keys(meta).length > 1) throw Errors.badRequest('Request body contains too many items');
    if (!(key in meta)) throw Errors.badRequest('Request body and URI mismatch');
    await repo.set(owner.resourceType, r.id, meta, false);
    return { meta };
  });

  api.route('DELETE', `${base}/:key`, async (req, reply) => {
    const r = await owner.load(req, req.params['id']!);
    api.enforce(req, owner.rules.delete, r.project_id);
    owner.guard?.(r);
    if (!(await repo.deleteKey(owner.resourceType, r.id, req.params['key']!))) throw Errors.notFoundMessage('Metadata item was not found');
    return reply.code(200).send();
  });
}
