import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { inTransaction, isUniqueViolation } from '../../../core/db/database.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optInt, optString, queryString, reqString, requireObject, type Json } from '../../../core/http/input.js';
import { newHexId } from '../../../core/ids.js';
import type { LimitRow, RegisteredLimitRow } from '../../db/tables.js';
import type { LimitFilters } from '../../db/limit-repo.js';
import { createIdentityRepos } from '../../service/repos.js';
import { collectionLinks, type IdentityApi } from '../context.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const INT_MAX = 0x7fffffff;
const DESCRIPTION = { nullable: true, max: 65535 } as const;

/** Unified limits: /v3/registered_limits, /v3/limits, /v3/limits/model (flat model). */
export function limitRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const auth = { preHandler: api.authenticate };

  const renderRegistered = (req: FastifyRequest, r: RegisteredLimitRow): Json => ({
    id: r.id,
    service_id: r.service_id,
    region_id: r.region_id,
    resource_name: r.resource_name,
    default_limit: r.default_limit,
    description: r.description,
    links: { self: api.link(req, `/registered_limits/${r.id}`) },
  });
  const renderLimit = (req: FastifyRequest, l: LimitRow): Json => ({
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    service_id: l.service_id,
    region_id: l.region_id,
    resource_name: l.resource_name,
    resource_limit: l.resource_limit,
    description: l.description,
    links: { self: api.link(req, `/limits/${l.id}`) },
  });

  const checkServiceRegion = async (serviceId: string, regionId: string | null) => {
    if (!(await repos.catalog.getService(serviceId))) throw Errors.badRequest(`Invalid input: could not find service ${serviceId}.`);
    if (regionId !== null && !(await repos.catalog.getRegion(regionId))) throw Errors.badRequest(`Invalid input: could not find region ${regionId}.`);
  };
  const list = (body: unknown, key: string): Json[] => {
    const root = requireObject(body ?? null, 'body');
    const items = root[key];
    if (!Array.isArray(items) || items.length === 0) throw Errors.badRequest(`'${key}' must be a non-empty list.`);
    return items.map((x, i) => requireObject(x, `${key}[${i}]`));
  };
  const filters = (q: Record<string, string | undefined>): LimitFilters => {
    const f: LimitFilters = {};
    const map: Array<[keyof LimitFilters, string]> = [
      ['serviceId', 'service_id'],
      ['regionId', 'region_id'],
      ['resourceName', 'resource_name'],
      ['projectId', 'project_id'],
      ['domainId', 'domain_id'],
    ];
    for (const [k, qk] of map) {
      const v = queryString(q[qk]);
      if (v !== undefined) f[k] = v;
    }
    return f;
  };
  const duplicate = (what: string) => Errors.conflict(`Conflict occurred attempting to store ${what} - Duplicate entry.`);

  // ---- registered limits
  app.post('/v3/registered_limits', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_registered_limits');
    const rows: RegisteredLimitRow[] = [];
    for (const r of list(req.body, 'registered_limits')) {
      const row: RegisteredLimitRow = {
        id: newHexId(),
        service_id: reqString(r, 'service_id', { min: 1, max: 64 }),
        region_id: optString(r, 'region_id', { nullable: true, max: 255 }) ?? null,
        resource_name: reqString(r, 'resource_name', { min: 1, max: 255 }),
        default_limit: optInt(r, 'default_limit', { min: -1, max: INT_MAX }) ?? invalid('default_limit'),
        description: optString(r, 'description', DESCRIPTION) ?? null,
      };
      await checkServiceRegion(row.service_id, row.region_id);
      rows.push(row);
    }
    try {
      await inTransaction(repos.db, async (trx) => {
        const tx = createIdentityRepos(trx);
        for (const row of rows) await tx.limits.insertRegistered(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate('registered_limit');
      throw err;
    }
    return reply.code(201).send({ registered_limits: rows.map((r) => renderRegistered(req, r)) });
  });
  app.get<P>('/v3/registered_limits', auth, async (req) => {
    api.enforce(req, 'identity:list_registered_limits');
    const rows = await repos.limits.listRegistered(filters(req.query));
    return { registered_limits: rows.map((r) => renderRegistered(req, r)), links: collectionLinks(api, req) };
  });
  const registered = async (id: string) => {
    const r = await repos.limits.getRegistered(id);
    if (!r) throw Errors.notFound('registered limit', id);
    return r;
  };
  app.get<P>('/v3/registered_limits/:id', auth, async (req) => {
    api.enforce(req, 'identity:get_registered_limit');
    return { registered_limit: renderRegistered(req, await registered(req.params['id']!)) };
  });
  app.patch<P>('/v3/registered_limits/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_registered_limit');
    const row = await registered(req.params['id']!);
    const r = envelope(req.body, 'registered_limit');
    if (r['id'] !== undefined && r['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a registered limit.');
    const set: Partial<RegisteredLimitRow> = {};
    const serviceId = optString(r, 'service_id', { min: 1, max: 64 });
    if (serviceId) set.service_id = serviceId;
    const regionId = optString(r, 'region_id', { nullable: true, max: 255 });
    if (regionId !== undefined) set.region_id = regionId;
    const resourceName = optString(r, 'resource_name', { min: 1, max: 255 });
    if (resourceName) set.resource_name = resourceName;
    const def = optInt(r, 'default_limit', { min: -1, max: INT_MAX });
    if (def !== undefined && def !== null) set.default_limit = def;
    const description = optString(r, 'description', DESCRIPTION);
    if (description !== undefined) set.description = description;
    const next = { ...row, ...set };
    await checkServiceRegion(next.service_id, next.region_id);
    const moves = next.service_id !== row.service_id || next.region_id !== row.region_id || next.resource_name !== row.resource_name;
    if (moves && (await repos.limits.countFor(row.service_id, row.region_id, row.resource_name)) > 0) {
      throw Errors.forbidden(`Unable to update or delete registered limit ${row.id} because there are project limits associated with it.`);
    }
    try {
      if (Object.keys(set).length) await repos.limits.updateRegistered(row.id, set);
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate('registered_limit');
      throw err;
    }
    return { registered_limit: renderRegistered(req, await registered(row.id)) };
  });
  app.delete<P>('/v3/registered_limits/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_registered_limit');
    const row = await registered(req.params['id']!);
    if ((await repos.limits.countFor(row.service_id, row.region_id, row.resource_name)) > 0) {
      throw Errors.forbidden(`Unable to update or delete registered limit ${row.id} because there are project limits associated with it.`);
    }
    await repos.limits.deleteRegistered(row.id);
    return reply.code(204).send();
  });

  // ---- limits
  app.get('/v3/limits/model', auth, async (req) => {
    api.enforce(req, 'identity:get_limit_model');
    return { model: { name: 'flat', description: 'Limit enforcement and validation does not take project hierarchy into consideration.' } };
  });
  app.post('/v3/limits', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_limits');
    const rows: LimitRow[] = [];
    for (const l of list(req.body, 'limits')) {
      const projectId = optString(l, 'project_id', { min: 1, max: 64 }) ?? null;
      const domainId = optString(l, 'domain_id', { min: 1, max: 64 }) ?? null;
      if ((projectId === null) === (domainId === null)) throw Errors.badRequest('A limit needs exactly one of project_id and domain_id.');
      if (projectId !== null && !(await repos.projects.get(projectId))) throw Errors.badRequest(`Could not find project: ${projectId}.`);
      if (domainId !== null && !(await repos.projects.getDomain(domainId))) throw Errors.badRequest(`Could not find domain: ${domainId}.`);
      const row: LimitRow = {
        id: newHexId(),
        project_id: projectId,
        domain_id: domainId,
        service_id: reqString(l, 'service_id', { min: 1, max: 64 }),
        region_id: optString(l, 'region_id', { nullable: true, max: 255 }) ?? null,
        resource_name: reqString(l, 'resource_name', { min: 1, max: 255 }),
        resource_limit: optInt(l, 'resource_limit', { min: -1, max: INT_MAX }) ?? invalid('resource_limit'),
        description: optString(l, 'description', DESCRIPTION) ?? null,
      };
      await checkServiceRegion(row.service_id, row.region_id);
      if (!(await repos.limits.findRegistered(row.service_id, row.region_id, row.resource_name))) {
        throw Errors.forbidden('Unable to create a limit that has no corresponding registered limit.');
      }
      rows.push(row);
    }
    try {
      await inTransaction(repos.db, async (trx) => {
        const tx = createIdentityRepos(trx);
        for (const row of rows) await tx.limits.insert(row);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate('limit');
      throw err;
    }
    return reply.code(201).send({ limits: rows.map((l) => renderLimit(req, l)) });
  });
  app.get<P>('/v3/limits', auth, async (req) => {
    api.enforce(req, 'identity:list_limits');
    const caller = authOf(req);
    const f = filters(req.query);
    let rows = await repos.limits.list(f);
    // Keystone shows a project-scoped caller only its project's limits, a domain-scoped one its domain's.
    if (!caller.system && !api.isAdmin(req)) {
      if (caller.domainId) {
        const projects = new Set((await repos.projects.list({ domainId: caller.domainId })).map((p) => p.id));
        rows = rows.filter((l) => (l.project_id ? projects.has(l.project_id) : l.domain_id === caller.domainId));
      } else if (caller.projectId) {
        rows = rows.filter((l) => l.project_id === caller.projectId);
      } else rows = [];
    }
    return { limits: rows.map((l) => renderLimit(req, l)), links: collectionLinks(api, req) };
  });
  const limit = async (req: FastifyRequest<P>, rule: string) => {
    const l = await repos.limits.get(req.params['id']!);
    const project = l?.project_id ? await repos.projects.get(l.project_id) : undefined;
    api.enforce(req, rule, {
      'target.limit.project_id': l?.project_id ?? null,
      'target.limit.domain.id': l?.domain_id ?? null,
      'target.limit.project.domain_id': project?.domain_id ?? null,
    });
    if (!l) throw Errors.notFound('limit', req.params['id']);
    return l;
  };
  app.get<P>('/v3/limits/:id', auth, async (req) => ({ limit: renderLimit(req, await limit(req, 'identity:get_limit')) }));
  app.patch<P>('/v3/limits/:id', auth, async (req) => {
    const row = await limit(req, 'identity:update_limit');
    const l = envelope(req.body, 'limit');
    for (const k of Object.keys(l)) {
      if (!['id', 'resource_limit', 'description'].includes(k)) throw Errors.badRequest(`Invalid input for field '${k}': only resource_limit and description can be updated.`);
    }
    if (l['id'] !== undefined && l['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a limit.');
    const set: Partial<LimitRow> = {};
    const value = optInt(l, 'resource_limit', { min: -1, max: INT_MAX });
    if (value !== undefined && value !== null) set.resource_limit = value;
    const description = optString(l, 'description', DESCRIPTION);
    if (description !== undefined) set.description = description;
    if (Object.keys(set).length) await repos.limits.update(row.id, set);
    return { limit: renderLimit(req, (await repos.limits.get(row.id))!) };
  });
  app.delete<P>('/v3/limits/:id', auth, async (req, reply) => {
    const row = await limit(req, 'identity:delete_limit');
    await repos.limits.delete(row.id);
    return reply.code(204).send();
  });
}

function invalid(field: string): never {
  throw Errors.badRequest(`'${field}' is a required property`);
}
