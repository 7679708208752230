import { isUniqueViolation } from '../../../core/db/database.js';
import { fromJson, toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { isoNow, newUuid } from '../../../core/ids.js';
import type { QosSpecsRow } from '../../db/tables.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf, requireObject } from '../input.js';
import { lenientBool, queryValue } from '../listing.js';

const CONSUMERS = ['front-end', 'back-end', 'both'];

/** /qos-specs (admin only): QoS specs and their association with volume types. */
export function qosRoutes(api: VolumeApi): void {
  const { repos } = api.core;
  const rule = 'volume_extension:qos_specs_manage';
  const item = (q: QosSpecsRow) => ({ id: q.id, name: q.name, consumer: q.consumer, specs: fromJson<Record<string, string>>(q.specs, {}) });
  const load = async (id: string) => {
    const q = await repos.qos.get(id);
    if (!q) throw Errors.notFoundMessage(`QoS Specs ${id} could not be found.`);
    return q;
  };
  const stringSpecs = (o: Record<string, unknown>) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      if (v !== null && typeof v === 'object') throw Errors.badRequest(`Invalid input received: Value of spec ${k} must be a string.`);
      out[k] = String(v);
    }
    return out;
  };
  const typeOf = async (req: Req) => {
    const id = queryValue(req.query['vol_type_id']);
    if (!id) throw Errors.badRequest('Volume Type id must not be None.');
    const t = await repos.types.get(id);
    if (!t) throw Errors.notFoundMessage(`Volume type ${id} could not be found.`);
    return t;
  };

  api.route('GET', '/qos-specs', async (req) => {
    api.enforce(req, rule);
    return { qos_specs: (await repos.qos.list()).map(item) };
  });

  api.route('GET', '/qos-specs/:id', async (req) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    return { qos_specs: item(q), links: api.links(req, 'qos-specs', q.id) };
  });

  api.route('POST', '/qos-specs', async (req) => {
    api.enforce(req, rule);
    const body = { ...bodyOf(req.body, 'qos_specs') };
    const name = body['name'];
    if (typeof name !== 'string' || !name.trim()) throw Errors.badRequest('Please specify a name for QoS specs.');
    delete body['name'];
    const consumer = body['consumer'] === undefined ? 'back-end' : String(body['consumer']);
    delete body['consumer'];
    if (!CONSUMERS.includes(consumer)) throw Errors.badRequest(`Invalid input received: Valid consumer of QoS specs are: ${CONSUMERS.join(', ')}`);
    const row: QosSpecsRow = { id: newUuid(), name: name.trim(), consumer, specs: toJson(stringSpecs(body)), created_at: isoNow() };
    try {
      await repos.qos.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`QoS Specs ${row.name} already exists.`);
      throw err;
    }
    return { qos_specs: item(row), links: api.links(req, 'qos-specs', row.id) };
  });

  api.route('PUT', '/qos-specs/:id', async (req) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    const body = bodyOf(req.body, 'qos_specs');
    const specs = fromJson<Record<string, string>>(q.specs, {});
    const patch: Partial<QosSpecsRow> = {};
    const changes = stringSpecs(body);
    if (changes['consumer'] !== undefined) {
      if (!CONSUMERS.includes(changes['consumer'])) throw Errors.badRequest(`Invalid input received: Valid consumer of QoS specs are: ${CONSUMERS.join(', ')}`);
      patch.consumer = changes['consumer'];
      delete changes['consumer'];
    }
    patch.specs = toJson({ ...specs, ...changes });
    await repos.qos.update(q.id, patch);
    return { qos_specs: body };
  });

  api.route('PUT', '/qos-specs/:id/delete_keys', async (req, reply) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    const keys = requireObject(req.body ?? null, 'body')['keys'];
    if (!Array.isArray(keys)) throw Errors.badRequest('Missing required element keys in request body.');
    const specs = fromJson<Record<string, string>>(q.specs, {});
    for (const k of keys) {
      if (!(String(k) in specs)) throw Errors.notFoundMessage(`QoS spec ${String(k)} not found in QoS Specs ${q.id}.`);
      delete specs[String(k)];
    }
    await repos.qos.update(q.id, { specs: toJson(specs) });
    return reply.code(202).send();
  });

  api.route('DELETE', '/qos-specs/:id', async (req, reply) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    const force = lenientBool(queryValue(req.query['force']) ?? 'false');
    const types = await repos.qos.associatedTypes(q.id);
    if (types.length && !force) throw Errors.badRequest(`Invalid input received: QoS Specs ${q.id} is still associated with entities.`);
    for (const t of types) await repos.types.update(t.id, { qos_specs_id: null });
    await repos.qos.delete(q.id);
    return reply.code(202).send();
  });

  api.route('GET', '/qos-specs/:id/associations', async (req) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    return { qos_associations: (await repos.qos.associatedTypes(q.id)).map((t) => ({ association_type: 'volume_type', name: t.name, id: t.id })) };
  });

  api.route('GET', '/qos-specs/:id/associate', async (req, reply) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    const t = await typeOf(req);
    if (t.qos_specs_id && t.qos_specs_id !== q.id) throw Errors.badRequest(`Type ${t.id} is already associated with another qos specs: ${t.qos_specs_id}`);
    await repos.types.update(t.id, { qos_specs_id: q.id });
    return reply.code(202).send();
  });

  api.route('GET', '/qos-specs/:id/disassociate', async (req, reply) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    const t = await typeOf(req);
    if (t.qos_specs_id === q.id) await repos.types.update(t.id, { qos_specs_id: null });
    return reply.code(202).send();
  });

  api.route('GET', '/qos-specs/:id/disassociate_all', async (req, reply) => {
    api.enforce(req, rule);
    const q = await load(req.params['id']!);
    for (const t of await repos.qos.associatedTypes(q.id)) await repos.types.update(t.id, { qos_specs_id: null });
    return reply.code(202).send();
  });
}
