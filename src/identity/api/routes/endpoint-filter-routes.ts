import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromJson, toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optObject, optString, queryString, reqString, type Json } from '../../../core/http/input.js';
import { newHexId } from '../../../core/ids.js';
import type { EndpointGroupRow, EndpointRow } from '../../db/tables.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { renderEndpoint, renderProject } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };
const FILTER_KEYS = ['interface', 'service_id', 'region_id'];
const BASE = '/v3/OS-EP-FILTER';

/**
 * OS-EP-FILTER: endpoint groups and project ↔ endpoint associations. As with
 * Keystone's default `sql` catalog driver, they are stored and listed but do
 * not filter the catalog in tokens.
 */
export function endpointFilterRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { repos } = api.identity;
  const f = repos.endpointFilter;
  const auth = { preHandler: api.authenticate };

  const render = (req: FastifyRequest, g: EndpointGroupRow): Json => ({
    id: g.id,
    name: g.name,
    description: g.description,
    filters: fromJson<Json>(g.filters, {}),
    links: { self: api.link(req, `/OS-EP-FILTER/endpoint_groups/${g.id}`) },
  });
  const checkFilters = (filters: Json): Json => {
    if (Object.keys(filters).length === 0) throw Errors.badRequest("Invalid input for field 'filters': at least one filter is required.");
    for (const [k, v] of Object.entries(filters)) {
      if (!FILTER_KEYS.includes(k)) throw Errors.badRequest(`Invalid input for field 'filters': '${k}' is not one of ${FILTER_KEYS.join(', ')}.`);
      if (typeof v !== 'string') throw Errors.badRequest(`Invalid input for field 'filters/${k}': expected a string.`);
    }
    return filters;
  };
  const group = async (id: string) => {
    const g = await f.getGroup(id);
    if (!g) throw Errors.notFound('endpoint group', id);
    return g;
  };
  const project = async (id: string) => {
    const p = await repos.projects.get(id);
    if (!p || p.is_domain === 1) throw Errors.notFound('project', id);
    return p;
  };
  const endpoint = async (id: string) => {
    const e = await repos.catalog.getEndpoint(id);
    if (!e) throw Errors.notFound('endpoint', id);
    return e;
  };
  const endpointsOf = async (g: EndpointGroupRow): Promise<EndpointRow[]> => {
    const filters = fromJson<Record<string, string>>(g.filters, {});
    return (await repos.catalog.listEndpoints()).filter((e) => Object.entries(filters).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v));
  };

  // ---- endpoint groups
  app.post(`${BASE}/endpoint_groups`, auth, async (req, reply) => {
    api.enforce(req, 'identity:create_endpoint_group');
    const g = envelope(req.body, 'endpoint_group');
    const row: EndpointGroupRow = {
      id: newHexId(),
      name: reqString(g, 'name', { min: 1, max: 255 }),
      description: optString(g, 'description', { nullable: true, max: 65535 }) ?? null,
      filters: toJson(checkFilters(optObject(g, 'filters') ?? {})),
    };
    await f.insertGroup(row);
    return reply.code(201).send({ endpoint_group: render(req, row) });
  });
  app.get<P>(`${BASE}/endpoint_groups`, auth, async (req) => {
    api.enforce(req, 'identity:list_endpoint_groups');
    const rows = await f.listGroups(queryString(req.query['name']));
    return { endpoint_groups: rows.map((g) => render(req, g)), links: collectionLinks(api, req) };
  });
  app.get<P>(`${BASE}/endpoint_groups/:id`, auth, async (req) => {
    api.enforce(req, 'identity:get_endpoint_group');
    return { endpoint_group: render(req, await group(req.params['id']!)) };
  });
  app.head<P>(`${BASE}/endpoint_groups/:id`, auth, async (req, reply) => {
    api.enforce(req, 'identity:get_endpoint_group');
    await group(req.params['id']!);
    return reply.code(200).send();
  });
  app.patch<P>(`${BASE}/endpoint_groups/:id`, auth, async (req) => {
    api.enforce(req, 'identity:update_endpoint_group');
    const row = await group(req.params['id']!);
    const g = envelope(req.body, 'endpoint_group');
    const set: Partial<EndpointGroupRow> = {};
    const name = optString(g, 'name', { min: 1, max: 255 });
    if (name) set.name = name;
    const description = optString(g, 'description', { nullable: true, max: 65535 });
    if (description !== undefined) set.description = description;
    const filters = optObject(g, 'filters');
    if (filters !== undefined) set.filters = toJson(checkFilters(filters));
    if (Object.keys(set).length) await f.updateGroup(row.id, set);
    return { endpoint_group: render(req, await group(row.id)) };
  });
  app.delete<P>(`${BASE}/endpoint_groups/:id`, auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_endpoint_group');
    await f.deleteGroup((await group(req.params['id']!)).id);
    return reply.code(204).send();
  });
  app.get<P>(`${BASE}/endpoint_groups/:id/endpoints`, auth, async (req) => {
    api.enforce(req, 'identity:list_endpoints_associated_with_endpoint_group');
    const rows = await endpointsOf(await group(req.params['id']!));
    return { endpoints: rows.map((e) => renderEndpoint(api, req, e)), links: collectionLinks(api, req) };
  });
  app.get<P>(`${BASE}/endpoint_groups/:id/projects`, auth, async (req) => {
    api.enforce(req, 'identity:list_projects_associated_with_endpoint_group');
    const g = await group(req.params['id']!);
    const projects = [];
    for (const pid of await f.groupProjects(g.id)) {
      const p = await repos.projects.get(pid);
      if (p) projects.push(renderProject(api, req, p));
    }
    return { projects, links: collectionLinks(api, req) };
  });
  const groupProject = async (req: FastifyRequest<P>) => ({ g: await group(req.params['id']!), p: await project(req.params['pid']!) });
  app.put<P>(`${BASE}/endpoint_groups/:id/projects/:pid`, auth, async (req, reply) => {
    api.enforce(req, 'identity:add_endpoint_group_to_project');
    const { g, p } = await groupProject(req);
    await f.addGroupProject(g.id, p.id);
    return reply.code(204).send();
  });
  const checkGroupProject = async (req: FastifyRequest<P>) => {
    api.enforce(req, 'identity:get_endpoint_group_in_project');
    const { g, p } = await groupProject(req);
    if (!(await f.hasGroupProject(g.id, p.id))) throw Errors.notFoundMessage(`Could not find project endpoint group association for ${g.id} and ${p.id}.`);
    return p;
  };
  app.get<P>(`${BASE}/endpoint_groups/:id/projects/:pid`, auth, async (req) => ({ project: renderProject(api, req, await checkGroupProject(req)) }));
  app.head<P>(`${BASE}/endpoint_groups/:id/projects/:pid`, auth, async (req, reply) => {
    await checkGroupProject(req);
    return reply.code(200).send();
  });
  app.delete<P>(`${BASE}/endpoint_groups/:id/projects/:pid`, auth, async (req, reply) => {
    api.enforce(req, 'identity:remove_endpoint_group_from_project');
    const { g, p } = await groupProject(req);
    if ((await f.removeGroupProject(g.id, p.id)) === 0) throw Errors.notFoundMessage(`Could not find project endpoint group association for ${g.id} and ${p.id}.`);
    return reply.code(204).send();
  });
  app.get<P>(`${BASE}/projects/:pid/endpoint_groups`, auth, async (req) => {
    api.enforce(req, 'identity:list_endpoint_groups_for_project');
    const p = await project(req.params['pid']!);
    const groups = [];
    for (const gid of await f.projectGroups(p.id)) {
      const g = await f.getGroup(gid);
      if (g) groups.push(render(req, g));
    }
    return { endpoint_groups: groups, links: collectionLinks(api, req) };
  });

  // ---- project ↔ endpoint
  const projectEndpoint = async (req: FastifyRequest<P>) => ({ p: await project(req.params['pid']!), e: await endpoint(req.params['eid']!) });
  app.put<P>(`${BASE}/projects/:pid/endpoints/:eid`, auth, async (req, reply) => {
    api.enforce(req, 'identity:add_endpoint_to_project');
    const { p, e } = await projectEndpoint(req);
    await f.addProjectEndpoint(p.id, e.id);
    return reply.code(204).send();
  });
  const checkProjectEndpoint = async (req: FastifyRequest<P>, reply: { code(n: number): { send(): unknown } }) => {
    api.enforce(req, 'identity:check_endpoint_in_project');
    const { p, e } = await projectEndpoint(req);
    if (!(await f.hasProjectEndpoint(p.id, e.id))) throw Errors.notFoundMessage(`Endpoint ${e.id} not found in project ${p.id}.`);
    return reply.code(204).send();
  };
  app.get<P>(`${BASE}/projects/:pid/endpoints/:eid`, auth, async (req, reply) => checkProjectEndpoint(req, reply));
  app.head<P>(`${BASE}/projects/:pid/endpoints/:eid`, auth, async (req, reply) => checkProjectEndpoint(req, reply));
  app.delete<P>(`${BASE}/projects/:pid/endpoints/:eid`, auth, async (req, reply) => {
    api.enforce(req, 'identity:remove_endpoint_from_project');
    const { p, e } = await projectEndpoint(req);
    if ((await f.removeProjectEndpoint(p.id, e.id)) === 0) throw Errors.notFoundMessage(`Endpoint ${e.id} not found in project ${p.id}.`);
    return reply.code(204).send();
  });
  app.get<P>(`${BASE}/projects/:pid/endpoints`, auth, async (req) => {
    api.enforce(req, 'identity:list_endpoints_for_project');
    const p = await project(req.params['pid']!);
    const ids = new Set(await f.projectEndpoints(p.id));
    const all = await repos.catalog.listEndpoints();
    for (const gid of await f.projectGroups(p.id)) {
      const g = await f.getGroup(gid);
      if (g) for (const e of await endpointsOf(g)) ids.add(e.id);
    }
    return { endpoints: all.filter((e) => ids.has(e.id)).map((e) => renderEndpoint(api, req, e)), links: collectionLinks(api, req) };
  });
  app.get<P>(`${BASE}/endpoints/:eid/projects`, auth, async (req) => {
    api.enforce(req, 'identity:list_projects_for_endpoint');
    const e = await endpoint(req.params['eid']!);
    const projects = [];
    for (const pid of await f.endpointProjects(e.id)) {
      const p = await repos.projects.get(pid);
      if (p) projects.push(renderProject(api, req, p));
    }
    return { projects, links: collectionLinks(api, req) };
  });
}
