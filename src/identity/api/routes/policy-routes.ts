import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromJson, toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optString, queryString, reqString, type Json } from '../../../core/http/input.js';
import { newHexId } from '../../../core/ids.js';
import type { ConsumerRow, PolicyRow } from '../../db/tables.js';
import { randomUrlSafe } from '../../../core/ids.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const POLICY_KEYS = ['id', 'blob', 'type', 'links'];

/** /v3/policies (documents stored for other services) and /v3/OS-OAUTH1/consumers. */
export function policyRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { repos } = api.identity;
  const auth = { preHandler: api.authenticate };

  const render = (req: FastifyRequest, p: PolicyRow): Json => ({
    ...fromJson<Json>(p.extra, {}),
    id: p.id,
    blob: p.blob,
    type: p.type,
    links: { self: api.link(req, `/policies/${p.id}`) },
  });
  const policy = async (id: string) => {
    const p = await repos.policies.get(id);
    if (!p) throw Errors.notFound('policy', id);
    return p;
  };

  app.post('/v3/policies', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_policy');
    const p = envelope(req.body, 'policy');
    const row: PolicyRow = {
      id: newHexId(),
      blob: reqString(p, 'blob', { max: 1024 * 1024 }),
      type: reqString(p, 'type', { min: 1, max: 255 }),
      extra: toJson(extraOf(p, POLICY_KEYS)),
    };
    await repos.policies.insert(row);
    return reply.code(201).send({ policy: render(req, row) });
  });
  app.get<P>('/v3/policies', auth, async (req) => {
    api.enforce(req, 'identity:list_policies');
    const rows = await repos.policies.list(queryString(req.query['type']));
    return { policies: rows.map((p) => render(req, p)), links: collectionLinks(api, req) };
  });
  app.get<P>('/v3/policies/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_policy');
    return { policy: render(req, await policy(req.params['id']!)) };
  });
  app.patch<P>('/v3/policies/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_policy');
    const row = await policy(req.params['id']!);
    const p = envelope(req.body, 'policy');
    if (p['id'] !== undefined && p['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a policy.');
    const set: Partial<PolicyRow> = {};
    const blob = optString(p, 'blob', { max: 1024 * 1024 });
    if (blob != null) set.blob = blob;
    const type = optString(p, 'type', { min: 1, max: 255 });
    if (type != null) set.type = type;
    const extra = extraOf(p, POLICY_KEYS);
    if (Object.keys(extra).length) set.extra = toJson({ ...fromJson<Json>(row.extra, {}), ...extra });
    if (Object.keys(set).length) await repos.policies.update(row.id, set);
    return { policy: render(req, await policy(row.id)) };
  });
  app.delete<P>('/v3/policies/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_policy');
    await repos.policies.delete((await policy(req.params['id']!)).id);
    return reply.code(204).send();
  });

  // ---- OS-OAUTH1 consumers (the CRUD; the OAuth1 token flow is not offered)
  const renderConsumer = (req: FastifyRequest, c: ConsumerRow, secret?: string): Json => ({
    ...fromJson<Json>(c.extra, {}),
    id: c.id,
    description: c.description,
    ...(secret !== undefined ? { secret } : {}),
    links: { self: api.link(req, `/OS-OAUTH1/consumers/${c.id}`) },
  });
  const consumer = async (id: string) => {
    const c = await repos.consumers.get(id);
    if (!c) throw Errors.notFound('consumer', id);
    return c;
  };
  app.post('/v3/OS-OAUTH1/consumers', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_consumer');
    const c = envelope(req.body, 'consumer');
    if (c['secret'] !== undefined) throw Errors.badRequest("Invalid input for field 'secret': the secret is generated, not given.");
    const secret = randomUrlSafe(24);
    // Keystone keeps the consumer secret to verify OAuth1 signatures, so it is stored as is.
    const row: ConsumerRow = {
      id: newHexId(),
      description: optString(c, 'description', { nullable: true, max: 65535 }) ?? null,
      secret,
      extra: toJson(extraOf(c, ['id', 'description', 'secret', 'links'])),
    };
    await repos.consumers.insert(row);
    return reply.code(201).send({ consumer: renderConsumer(req, row, secret) });
  });
  app.get('/v3/OS-OAUTH1/consumers', auth, async (req) => {
    api.enforce(req, 'identity:list_consumers');
    return { consumers: (await repos.consumers.list()).map((c) => renderConsumer(req, c)), links: collectionLinks(api, req) };
  });
  app.get<P>('/v3/OS-OAUTH1/consumers/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_consumer');
    return { consumer: renderConsumer(req, await consumer(req.params['id']!)) };
  });
  app.patch<P>('/v3/OS-OAUTH1/consumers/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_consumer');
    const row = await consumer(req.params['id']!);
    const c = envelope(req.body, 'consumer');
    if (c['secret'] !== undefined) throw Errors.badRequest('Cannot change the secret of a consumer.');
    if (c['id'] !== undefined && c['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a consumer.');
    const set: Partial<ConsumerRow> = {};
    const description = optString(c, 'description', { nullable: true, max: 65535 });
    if (description !== undefined) set.description = description;
    const extra = extraOf(c, ['id', 'description', 'secret', 'links']);
    if (Object.keys(extra).length) set.extra = toJson({ ...fromJson<Json>(row.extra, {}), ...extra });
    if (Object.keys(set).length) await repos.consumers.update(row.id, set);
    return { consumer: renderConsumer(req, await consumer(row.id)) };
  });
  app.delete<P>('/v3/OS-OAUTH1/consumers/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_consumer');
    await repos.consumers.delete((await consumer(req.params['id']!)).id);
    return reply.code(204).send();
  });
}
