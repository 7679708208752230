import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isUniqueViolation } from '../../../core/db/database.js';
import { toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optObject, optString, queryString, reqString } from '../../../core/http/input.js';
import { newHexId } from '../../../core/ids.js';
import { GLOBAL_ROLE_DOMAIN, type RoleRow } from '../../db/tables.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf, renderRole } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const ROLE_KEYS = ['id', 'name', 'domain_id', 'description', 'options', 'links'];
const ROLE_OPTIONS = new Set(['immutable']);

/** /v3/roles, implied roles and /v3/role_inferences. */
export function roleRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const auth = { preHandler: api.authenticate };

  const getRole = async (id: string): Promise<RoleRow> => {
    const r = await repos.roles.get(id);
    if (!r) throw Errors.notFound('role', id);
    return r;
  };
  const ruleFor = (r: { domain_id: string | null }, base: string) => (r.domain_id && r.domain_id !== GLOBAL_ROLE_DOMAIN ? `identity:${base.replace('role', 'domain_role')}` : `identity:${base}`);
  const checkOptions = (o: Record<string, unknown> | undefined) => {
    for (const [k, v] of Object.entries(o ?? {})) {
      if (!ROLE_OPTIONS.has(k)) throw Errors.badRequest(`Invalid input for field 'options': '${k}' is not a valid option.`);
      if (v !== null && typeof v !== 'boolean') throw Errors.badRequest(`Invalid input for field 'options/${k}': expected a boolean.`);
    }
  };
  const immutable = (r: RoleRow) => (JSON.parse(r.options || '{}') as Record<string, unknown>)['immutable'] === true;

  app.post('/v3/roles', auth, async (req, reply) => {
    const r = envelope(req.body, 'role');
    const domainId = optString(r, 'domain_id', { nullable: true }) ?? null;
    api.enforce(req, ruleFor({ domain_id: domainId }, 'create_role'));
    if (domainId && !(await repos.projects.getDomain(domainId))) throw Errors.badRequest(`Could not find domain: ${domainId}.`);
    const options = optObject(r, 'options');
    checkOptions(options);
    const row: RoleRow = {
      id: newHexId(),
      name: reqString(r, 'name', { min: 1, max: 255 }),
      domain_id: domainId ?? GLOBAL_ROLE_DOMAIN,
      description: optString(r, 'description', { nullable: true, max: 255 }) ?? null,
      options: toJson(options),
      extra: toJson(extraOf(r, ROLE_KEYS)),
    };
    try {
      await repos.roles.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${row.name}.`);
      throw err;
    }
    identity.changed();
    return reply.code(201).send({ role: renderRole(api, req, row) });
  });

  app.get<P>('/v3/roles', auth, async (req) => {
    const domainId = queryString(req.query['domain_id']);
    api.enforce(req, domainId ? 'identity:list_domain_roles' : 'identity:list_roles');
    const name = queryString(req.query['name']);
    const rows = await repos.roles.list({ ...(name !== undefined ? { name } : {}), domainId: domainId ?? null });
    return { roles: rows.map((r) => renderRole(api, req, r)), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/roles/:id', auth, async (req) => {
    const row = await repos.roles.get(req.params['id']!);
    api.enforce(req, ruleFor(row ?? { domain_id: null }, 'get_role'));
    if (!row) throw Errors.notFound('role', req.params['id']);
    return { role: renderRole(api, req, row) };
  });

  app.patch<P>('/v3/roles/:id', auth, async (req) => {
    const row = await getRole(req.params['id']!);
    api.enforce(req, ruleFor(row, 'update_role'));
    const r = envelope(req.body, 'role');
    const options = optObject(r, 'options');
    checkOptions(options);
    if (immutable(row) && !(options && options['immutable'] === false && Object.keys(r).length === 1)) {
      throw Errors.forbidden(`Role ${row.id} is immutable.`);
    }
    if (r['domain_id'] !== undefined && (r['domain_id'] ?? GLOBAL_ROLE_DOMAIN) !== row.domain_id) throw Errors.badRequest('Cannot change the domain_id of a role.');
    const name = optString(r, 'name', { min: 1, max: 255 });
    const description = optString(r, 'description', { nullable: true, max: 255 });
    const set: Partial<RoleRow> = {};
    if (name) set.name = name;
    if (description !== undefined) set.description = description;
    if (options) {
      const merged = { ...(JSON.parse(row.options || '{}') as Record<string, unknown>), ...options };
      for (const [k, v] of Object.entries(options)) if (v === null) delete merged[k];
      set.options = toJson(merged);
    }
    const extra = extraOf(r, ROLE_KEYS);
    if (Object.keys(extra).length) set.extra = toJson({ ...JSON.parse(row.extra), ...extra });
    try {
      if (Object.keys(set).length) await repos.roles.update(row.id, set);
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${name}.`);
      throw err;
    }
    identity.changed();
    return { role: renderRole(api, req, (await repos.roles.get(row.id))!) };
  });

  app.delete<P>('/v3/roles/:id', auth, async (req, reply) => {
    const row = await getRole(req.params['id']!);
    api.enforce(req, ruleFor(row, 'delete_role'));
    if (immutable(row)) throw Errors.forbidden(`Role ${row.id} is immutable.`);
    await repos.roles.delete(row.id);
    await identity.revocations.revoke({ roleId: row.id });
    identity.changed();
    return reply.code(204).send();
  });

  // ---- implied roles
  const ref = (req: FastifyRequest, r: RoleRow) => ({ id: r.id, name: r.name, links: { self: api.link(req, `/roles/${r.id}`) } });
  const pair = async (req: FastifyRequest<P>) => ({ prior: await getRole(req.params['prior']!), implied: await getRole(req.params['implied']!) });

  app.put<P>('/v3/roles/:prior/implies/:implied', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_implied_role');
    const { prior, implied } = await pair(req);
    if (prior.domain_id === GLOBAL_ROLE_DOMAIN && implied.domain_id !== GLOBAL_ROLE_DOMAIN) {
      throw Errors.forbidden(`${implied.id} cannot be an implied roles: a global role cannot imply a domain-specific role.`);
    }
    // Keystone's [assignment] prohibited_implied_role default.
    if (implied.name === 'admin') throw Errors.forbidden(`${implied.id} cannot be an implied roles.`);
    if (prior.id === implied.id) throw Errors.conflict('A role cannot imply itself.');
    const graph = await identity.roleGraph();
    if (graph.expand([implied.id]).some((r) => r.id === prior.id) || reaches(graph, implied.id, prior.id)) {
      throw Errors.conflict(`Creating the implication ${prior.id} -> ${implied.id} would make a cycle.`);
    }
    if (!(await repos.roles.getImplication(prior.id, implied.id))) await repos.roles.addImplication(prior.id, implied.id);
    identity.changed();
    return reply.code(201).send({
      role_inference: { prior_role: ref(req, prior), implies: ref(req, implied) },
      links: { self: api.link(req, `/roles/${prior.id}/implies/${implied.id}`) },
    });
  });

  const getImplication = async (req: FastifyRequest<P>, rule: string) => {
    api.enforce(req, rule);
    const { prior, implied } = await pair(req);
    if (!(await repos.roles.getImplication(prior.id, implied.id))) throw Errors.notFoundMessage(`${prior.id} does not imply ${implied.id}`);
    return { prior, implied };
  };
  app.get<P>('/v3/roles/:prior/implies/:implied', auth, async (req) => {
    const { prior, implied } = await getImplication(req, 'identity:get_implied_role');
    return {
      role_inference: { prior_role: ref(req, prior), implies: ref(req, implied) },
      links: { self: api.link(req, `/roles/${prior.id}/implies/${implied.id}`) },
    };
  });
  app.head<P>('/v3/roles/:prior/implies/:implied', auth, async (req, reply) => {
    await getImplication(req, 'identity:check_implied_role');
    return reply.code(204).send();
  });
  app.delete<P>('/v3/roles/:prior/implies/:implied', auth, async (req, reply) => {
    const { prior, implied } = await getImplication(req, 'identity:delete_implied_role');
    await repos.roles.removeImplication(prior.id, implied.id);
    identity.changed();
    return reply.code(204).send();
  });
  app.get<P>('/v3/roles/:prior/implies', auth, async (req) => {
    api.enforce(req, 'identity:list_implied_roles');
    const prior = await getRole(req.params['prior']!);
    const graph = await identity.roleGraph();
    const implies = graph.impliedBy(prior.id).map((id) => graph.byId.get(id)).filter((r): r is RoleRow => !!r);
    return {
      role_inference: { prior_role: ref(req, prior), implies: implies.map((r) => ref(req, r)) },
      links: { self: api.link(req, `/roles/${prior.id}/implies`) },
    };
  });
  app.get('/v3/role_inferences', auth, async (req) => {
    api.enforce(req, 'identity:list_role_inference_rules');
    const graph = await identity.roleGraph();
    const role_inferences = graph.allImplications().map(([priorId, impliedIds]) => ({
      prior_role: ref(req, graph.byId.get(priorId)!),
      implies: impliedIds.map((id) => ref(req, graph.byId.get(id)!)),
    }));
    return { role_inferences, links: { self: api.link(req, '/role_inferences') } };
  });
}

function reaches(graph: { impliedBy(id: string): string[] }, from: string, to: string): boolean {
  const stack = [from];
  const seen = new Set<string>();
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...graph.impliedBy(id));
  }
  return false;
}
