import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { isTrue } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optBool, optObject, optString, optStringArray, queryBool, queryString, reqString, type Json } from '../../../core/http/input.js';
import type { ProjectRow } from '../../db/tables.js';
import { createResourceService } from '../../service/resource-service.js';
import { ancestorsOf } from '../../service/role-resolver.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf, renderDomain, renderProject } from '../render.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };

const NAME = { min: 1, max: 64 };
const TAG_RE = /^[^,/]{1,255}$/;
const PROJECT_KEYS = ['id', 'name', 'domain_id', 'parent_id', 'description', 'enabled', 'is_domain', 'tags', 'options', 'links'];

function tagsOf(o: Json): string[] | undefined {
  const tags = optStringArray(o, 'tags', { max: 80 });
  for (const t of tags ?? []) if (!TAG_RE.test(t)) throw Errors.badRequest(`Invalid input for field 'tags': '${t}' is not a valid tag`);
  return tags;
}

/** /v3/domains and /v3/projects (with tags and hierarchy). */
export function resourceRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const resources = createResourceService(identity);
  const auth = { preHandler: api.authenticate };

  const withTags = async (req: FastifyRequest, rows: ProjectRow[], render: typeof renderProject) => {
    const tags = await repos.projects.tagsFor(rows.map((r) => r.id));
    return rows.map((r) => render(api, req, r, tags.get(r.id) ?? []));
  };

  // ---- domains
  app.post('/v3/domains', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_domain');
    const d = envelope(req.body, 'domain');
    const row = await resources.createDomain({
      name: reqString(d, 'name', NAME),
      description: optString(d, 'description') ?? undefined,
      enabled: optBool(d, 'enabled'),
      tags: tagsOf(d),
      options: optObject(d, 'options'),
      extra: extraOf(d, PROJECT_KEYS),
      ...(d['explicit_domain_id'] !== undefined ? { id: optString(d, 'explicit_domain_id', { min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ })! } : {}),
    });
    return reply.code(201).send({ domain: renderDomain(api, req, row, await repos.projects.tags(row.id)) });
  });

  app.get<P>('/v3/domains', auth, async (req) => {
    api.enforce(req, 'identity:list_domains');
    const name = queryString(req.query['name']);
    const enabled = queryBool(req.query['enabled']);
    const rows = await repos.projects.listDomains({ ...(name !== undefined ? { name } : {}), ...(enabled !== undefined ? { enabled } : {}) });
    return { domains: await withTags(req, rows, renderDomain), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/domains/:id', auth, async (req) => {
    const row = await resources.getDomain(req.params['id']!).catch((err: unknown) => {
      api.enforce(req, 'identity:get_domain', { 'target.domain.id': req.params['id'] });
      throw err;
    });
    api.enforce(req, 'identity:get_domain', { 'target.domain.id': row.id });
    return { domain: renderDomain(api, req, row, await repos.projects.tags(row.id)) };
  });

  app.patch<P>('/v3/domains/:id', auth, async (req) => {
    api.enforce(req, 'identity:update_domain');
    const row = await resources.getDomain(req.params['id']!);
    const d = envelope(req.body, 'domain');
    if (d['id'] !== undefined && d['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a domain.');
    const updated = await resources.update(row, {
      name: optString(d, 'name', NAME) ?? undefined,
      description: optString(d, 'description') ?? undefined,
      enabled: optBool(d, 'enabled'),
      tags: tagsOf(d),
      options: optObject(d, 'options'),
      extra: extraOf(d, PROJECT_KEYS),
    });
    return { domain: renderDomain(api, req, updated, await repos.projects.tags(updated.id)) };
  });

  app.delete<P>('/v3/domains/:id', auth, async (req, reply) => {
    api.enforce(req, 'identity:delete_domain');
    await resources.deleteDomain(await resources.getDomain(req.params['id']!));
    return reply.code(204).send();
  });

  // ---- projects
  app.post('/v3/projects', auth, async (req, reply) => {
    const p = envelope(req.body, 'project');
    const caller = authOf(req);
    const domainId = optString(p, 'domain_id', { nullable: true }) ?? undefined;
    api.enforce(req, 'identity:create_project', { 'target.project.domain_id': domainId ?? caller.projectDomainId ?? 'default' });
    const row = await resources.createProject({
      name: reqString(p, 'name', NAME),
      domainId: domainId ?? (optString(p, 'parent_id', { nullable: true }) ? undefined : caller.projectDomainId ?? caller.domainId ?? 'default'),
      parentId: optString(p, 'parent_id', { nullable: true }),
      description: optString(p, 'description') ?? undefined,
      enabled: optBool(p, 'enabled'),
      isDomain: optBool(p, 'is_domain'),
      tags: tagsOf(p),
      options: optObject(p, 'options'),
      extra: extraOf(p, PROJECT_KEYS),
    });
    return reply.code(201).send({ project: renderProject(api, req, row, await repos.projects.tags(row.id)) });
  });

  app.get<P>('/v3/projects', auth, async (req) => {
    const q = req.query;
    const domainId = queryString(q['domain_id']);
    api.enforce(req, 'identity:list_projects', { 'target.domain_id': domainId ?? null });
    const filter: Parameters<typeof repos.projects.list>[0] = {};
    if (domainId !== undefined) filter.domainId = domainId;
    const parentId = queryString(q['parent_id']);
    if (parentId !== undefined) filter.parentId = parentId;
    const name = queryString(q['name']);
    if (name !== undefined) filter.name = name;
    const enabled = queryBool(q['enabled']);
    if (enabled !== undefined) filter.enabled = enabled;
    const isDomain = queryBool(q['is_domain']);
    filter.isDomain = isDomain ?? false;
    let rows = await repos.projects.list(filter);
    const split = (k: string) => (queryString(q[k]) ?? '').split(',').filter(Boolean);
    const tagged = await repos.projects.projectIdsWithTags(split('tags'), split('tags-any'), split('not-tags'), split('not-tags-any'));
    if (tagged) rows = rows.filter((r) => tagged.has(r.id));
    return { projects: await withTags(req, rows, renderProject), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/projects/:id', auth, async (req) => {
    const row = await repos.projects.get(req.params['id']!);
    api.enforce(req, 'identity:get_project', {
      'target.project.id': req.params['id'],
      'target.project.domain_id': row?.domain_id ?? null,
    });
    if (!row) throw Errors.notFound('project', req.params['id']);
    const out = renderProject(api, req, row, await repos.projects.tags(row.id));
    const q = req.query;
    if (queryBool(q['parents_as_list']) || queryBool(q['parents_as_ids'])) {
      const parents = await ancestorsOf(repos.projects, row);
      if (queryBool(q['parents_as_ids'])) out['parents'] = idsTree(parents);
      else out['parents'] = parents.map((p) => ({ project: renderProject(api, req, p) }));
    }
    if (queryBool(q['subtree_as_list']) || queryBool(q['subtree_as_ids'])) {
      const sub = await resources.subtree(row);
      if (queryBool(q['subtree_as_ids'])) out['subtree'] = subtreeIds(row.id, sub);
      else out['subtree'] = sub.map((p) => ({ project: renderProject(api, req, p) }));
    }
    return { project: out };
  });

  app.patch<P>('/v3/projects/:id', auth, async (req) => {
    const row = await resources.getProject(req.params['id']!);
    api.enforce(req, 'identity:update_project', { 'target.project.domain_id': row.domain_id, 'target.project.id': row.id });
    const p = envelope(req.body, 'project');
    if (p['domain_id'] !== undefined && p['domain_id'] !== row.domain_id) throw Errors.badRequest('Cannot update the domain_id of a project.');
    if (p['parent_id'] !== undefined && p['parent_id'] !== row.parent_id) throw Errors.forbidden('Update of `parent_id` is not allowed.');
    if (p['is_domain'] !== undefined && p['is_domain'] !== isTrue(row.is_domain)) throw Errors.badRequest('Update of `is_domain` is not allowed.');
    if (p['id'] !== undefined && p['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a project.');
    const updated = await resources.update(row, {
      name: optString(p, 'name', NAME) ?? undefined,
      description: optString(p, 'description') ?? undefined,
      enabled: optBool(p, 'enabled'),
      tags: tagsOf(p),
      options: optObject(p, 'options'),
      extra: extraOf(p, PROJECT_KEYS),
    });
    return { project: renderProject(api, req, updated, await repos.projects.tags(updated.id)) };
  });

  app.delete<P>('/v3/projects/:id', auth, async (req, reply) => {
    const row = await resources.getProject(req.params['id']!);
    api.enforce(req, 'identity:delete_project', { 'target.project.domain_id': row.domain_id, 'target.project.id': row.id });
    await resources.deleteProject(row, queryBool(req.query['cascade']) ?? false);
    return reply.code(204).send();
  });

  // ---- project tags
  const projectForTags = async (req: FastifyRequest<P>, rule: string) => {
    const row = await resources.getProject(req.params['id']!);
    api.enforce(req, rule, { 'target.project.id': row.id, 'target.project.domain_id': row.domain_id });
    return row;
  };
  app.get<P>('/v3/projects/:id/tags', auth, async (req) => {
    const row = await projectForTags(req, 'identity:list_project_tags');
    return { tags: await repos.projects.tags(row.id) };
  });
  app.put<P>('/v3/projects/:id/tags', auth, async (req) => {
    const row = await projectForTags(req, 'identity:update_project_tags');
    const tags = tagsOf(req.body as Json) ?? [];
    await repos.projects.setTags(row.id, tags);
    return { tags: await repos.projects.tags(row.id), links: { self: api.link(req, `/projects/${row.id}/tags`) } };
  });
  app.delete<P>('/v3/projects/:id/tags', auth, async (req, reply) => {
    const row = await projectForTags(req, 'identity:delete_project_tags');
    await repos.projects.setTags(row.id, []);
    return reply.code(204).send();
  });
  app.get<P>('/v3/projects/:id/tags/:tag', auth, async (req, reply) => {
    const row = await projectForTags(req, 'identity:get_project_tag');
    if (!(await repos.projects.tags(row.id)).includes(req.params['tag']!)) throw Errors.notFound('tag', req.params['tag']);
    return reply.code(204).send();
  });
  app.head<P>('/v3/projects/:id/tags/:tag', auth, async (req, reply) => {
    const row = await projectForTags(req, 'identity:get_project_tag');
    if (!(await repos.projects.tags(row.id)).includes(req.params['tag']!)) throw Errors.notFound('tag', req.params['tag']);
    return reply.code(204).send();
  });
  app.put<P>('/v3/projects/:id/tags/:tag', auth, async (req, reply) => {
    const row = await projectForTags(req, 'identity:create_project_tag');
    const tag = req.params['tag']!;
    if (!TAG_RE.test(tag)) throw Errors.badRequest(`'${tag}' is not a valid tag`);
    const existing = await repos.projects.tags(row.id);
    if (!existing.includes(tag) && existing.length >= 80) throw Errors.badRequest('A project may have at most 80 tags.');
    await repos.projects.addTag(row.id, tag);
    return reply.code(201).header('location', api.link(req, `/projects/${row.id}/tags/${tag}`)).send();
  });
  app.delete<P>('/v3/projects/:id/tags/:tag', auth, async (req, reply) => {
    const row = await projectForTags(req, 'identity:delete_project_tag');
    if ((await repos.projects.removeTag(row.id, req.params['tag']!)) === 0) throw Errors.notFound('tag', req.params['tag']);
    return reply.code(204).send();
  });
}

/** Keystone's `parents_as_ids`: nested {parent_id: {grandparent_id: null}}. */
function idsTree(parents: ProjectRow[]): Json | null {
  let tree: Json | null = null;
  for (let i = parents.length - 1; i >= 0; i--) tree = { [parents[i]!.id]: tree };
  return tree;
}

function subtreeIds(rootId: string, all: ProjectRow[]): Json | null {
  const build = (id: string): Json | null => {
    const children = all.filter((p) => p.parent_id === id);
    if (children.length === 0) return null;
    return Object.fromEntries(children.map((c) => [c.id, build(c.id)]));
  };
  return build(rootId);
}
