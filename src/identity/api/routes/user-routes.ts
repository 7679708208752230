import type { FastifyInstance } from 'fastify';
import { authOf } from '../../../core/auth/auth-hook.js';
import { isUniqueViolation } from '../../../core/db/database.js';
import { toJson } from '../../../core/db/columns.js';
import { Errors } from '../../../core/errors.js';
import { envelope, optBool, optObject, optString, queryBool, queryString, reqString } from '../../../core/http/input.js';
import { createUserService } from '../../service/user-service.js';
import { collectionLinks, type IdentityApi } from '../context.js';
import { extraOf, renderGroup, renderProject, renderUser } from '../render.js';
import { accessibleProjects } from './auth-routes.js';

type P = { Params: Record<string, string>; Querystring: Record<string, string | undefined> };

const USER_KEYS = ['id', 'name', 'domain_id', 'password', 'enabled', 'default_project_id', 'description', 'options', 'links', 'password_expires_at'];
const GROUP_KEYS = ['id', 'name', 'domain_id', 'description', 'links'];

/** /v3/users and /v3/groups. */
export function userRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const users = createUserService(identity);
  const auth = { preHandler: api.authenticate };

  app.post('/v3/users', auth, async (req, reply) => {
    const u = envelope(req.body, 'user');
    const caller = authOf(req);
    const domainId = optString(u, 'domain_id') ?? caller.projectDomainId ?? caller.domainId ?? 'default';
    api.enforce(req, 'identity:create_user', { 'target.user.domain_id': domainId });
    const row = await users.create({
      name: reqString(u, 'name', { min: 1, max: 255 }),
      domainId,
      password: optString(u, 'password', { nullable: true, max: 4096 }),
      enabled: optBool(u, 'enabled'),
      defaultProjectId: optString(u, 'default_project_id', { nullable: true, max: 64 }),
      description: optString(u, 'description', { nullable: true }),
      options: optObject(u, 'options'),
      extra: extraOf(u, USER_KEYS),
    });
    return reply.code(201).send({ user: renderUser(api, req, row) });
  });

  app.get<P>('/v3/users', auth, async (req) => {
    const q = req.query;
    const domainId = queryString(q['domain_id']);
    api.enforce(req, 'identity:list_users', { 'target.domain_id': domainId ?? null });
    const filter: Parameters<typeof repos.users.list>[0] = {};
    if (domainId !== undefined) filter.domainId = domainId;
    const name = queryString(q['name']);
    if (name !== undefined) filter.name = name;
    const enabled = queryBool(q['enabled']);
    if (enabled !== undefined) filter.enabled = enabled;
    let rows = await repos.users.list(filter);
    const expires = queryString(q['password_expires_at']);
    if (expires) rows = rows.filter((r) => matchesTimeFilter(r.password_expires_at, expires));
    return { users: rows.map((r) => renderUser(api, req, r)), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/users/:id', auth, async (req) => {
    const row = await repos.users.get(req.params['id']!);
    api.enforce(req, 'identity:get_user', { 'target.user.id': req.params['id'], 'target.user.domain_id': row?.domain_id ?? null });
    if (!row) throw Errors.notFound('user', req.params['id']);
    return { user: renderUser(api, req, row) };
  });

  app.patch<P>('/v3/users/:id', auth, async (req) => {
    const row = await users.get(req.params['id']!);
    api.enforce(req, 'identity:update_user', { 'target.user.id': row.id, 'target.user.domain_id': row.domain_id });
    const u = envelope(req.body, 'user');
    if (u['domain_id'] !== undefined && u['domain_id'] !== row.domain_id) throw Errors.badRequest('Cannot change the domain_id of a user.');
    if (u['id'] !== undefined && u['id'] !== row.id) throw Errors.badRequest('Cannot change the id of a user.');
    const updated = await users.update(row, {
      name: optString(u, 'name', { min: 1, max: 255 }) ?? undefined,
      password: optString(u, 'password', { nullable: true, max: 4096 }),
      enabled: optBool(u, 'enabled'),
      defaultProjectId: optString(u, 'default_project_id', { nullable: true, max: 64 }),
      description: optString(u, 'description', { nullable: true }),
      options: optObject(u, 'options'),
      extra: extraOf(u, USER_KEYS),
    });
    return { user: renderUser(api, req, updated) };
  });

  app.delete<P>('/v3/users/:id', auth, async (req, reply) => {
    const row = await users.get(req.params['id']!);
    api.enforce(req, 'identity:delete_user', { 'target.user.id': row.id, 'target.user.domain_id': row.domain_id });
    await users.remove(row);
    return reply.code(204).send();
  });

  // Keystone lets a user change their own password with the old one, no token needed.
  app.post<P>('/v3/users/:id/password', async (req, reply) => {
    const u = envelope(req.body, 'user');
    const original = reqString(u, 'original_password', { max: 4096 });
    const password = reqString(u, 'password', { min: 1, max: 4096 });
    const row = await repos.users.get(req.params['id']!);
    if (!row) throw Errors.unauthorized('The request you have made requires authentication.');
    await users.changeOwnPassword(row, original, password);
    return reply.code(204).send();
  });

  app.get<P>('/v3/users/:id/projects', auth, async (req) => {
    const row = await users.get(req.params['id']!);
    api.enforce(req, 'identity:list_user_projects', { 'target.user.id': row.id, 'target.user.domain_id': row.domain_id });
    const projects = await accessibleProjects(api, row.id);
    return { projects: projects.map((p) => renderProject(api, req, p)), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/users/:id/groups', auth, async (req) => {
    const row = await users.get(req.params['id']!);
    api.enforce(req, 'identity:list_groups_for_user', { user_id: row.id, 'target.user.id': row.id, 'target.user.domain_id': row.domain_id });
    const groups = await repos.users.groupsOfUser(row.id);
    return { groups: groups.map((g) => renderGroup(api, req, g)), links: collectionLinks(api, req) };
  });

  // ---- groups
  app.post('/v3/groups', auth, async (req, reply) => {
    const g = envelope(req.body, 'group');
    const caller = authOf(req);
    const domainId = optString(g, 'domain_id') ?? caller.projectDomainId ?? caller.domainId ?? 'default';
    api.enforce(req, 'identity:create_group', { 'target.group.domain_id': domainId });
    const row = await users.createGroup({
      name: reqString(g, 'name', { min: 1, max: 64 }),
      domainId,
      description: optString(g, 'description') ?? undefined,
      extra: extraOf(g, GROUP_KEYS),
    });
    return reply.code(201).send({ group: renderGroup(api, req, row) });
  });

  app.get<P>('/v3/groups', auth, async (req) => {
    const domainId = queryString(req.query['domain_id']);
    api.enforce(req, 'identity:list_groups', { 'target.group.domain_id': domainId ?? null });
    const name = queryString(req.query['name']);
    const rows = await repos.groups.list({ ...(domainId !== undefined ? { domainId } : {}), ...(name !== undefined ? { name } : {}) });
    return { groups: rows.map((g) => renderGroup(api, req, g)), links: collectionLinks(api, req) };
  });

  app.get<P>('/v3/groups/:id', auth, async (req) => {
    const row = await users.getGroup(req.params['id']!);
    api.enforce(req, 'identity:get_group', { 'target.group.domain_id': row.domain_id, 'target.group.id': row.id });
    return { group: renderGroup(api, req, row) };
  });

  app.patch<P>('/v3/groups/:id', auth, async (req) => {
    const row = await users.getGroup(req.params['id']!);
    api.enforce(req, 'identity:update_group', { 'target.group.domain_id': row.domain_id });
    const g = envelope(req.body, 'group');
    if (g['domain_id'] !== undefined && g['domain_id'] !== row.domain_id) throw Errors.badRequest('Cannot change the domain_id of a group.');
    const name = optString(g, 'name', { min: 1, max: 64 });
    const description = optString(g, 'description');
    const extra = extraOf(g, GROUP_KEYS);
    try {
      await repos.groups.update(row.id, {
        ...(name ? { name } : {}),
        ...(description !== undefined && description !== null ? { description } : {}),
        ...(Object.keys(extra).length ? { extra: toJson({ ...JSON.parse(row.extra), ...extra }) } : {}),
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw Errors.conflict(`Conflict occurred attempting to store group - Duplicate entry found with name ${name}.`);
      throw err;
    }
    return { group: renderGroup(api, req, (await repos.groups.get(row.id))!) };
  });

  app.delete<P>('/v3/groups/:id', auth, async (req, reply) => {
    const row = await users.getGroup(req.params['id']!);
    api.enforce(req, 'identity:delete_group', { 'target.group.domain_id': row.domain_id });
    await users.removeGroup(row);
    return reply.code(204).send();
  });

  app.get<P>('/v3/groups/:id/users', auth, async (req) => {
    const row = await users.getGroup(req.params['id']!);
    api.enforce(req, 'identity:list_users_in_group', { 'target.group.domain_id': row.domain_id });
    const members = await repos.groups.members(row.id);
    return { users: members.map((u) => renderUser(api, req, u)), links: collectionLinks(api, req) };
  });

  const membership = async (req: { params: Record<string, string> }) => {
    const group = await users.getGroup(req.params['gid']!);
    const user = await users.get(req.params['uid']!);
    return { group, user, target: { 'target.group.domain_id': group.domain_id, 'target.user.domain_id': user.domain_id } };
  };
  app.put<P>('/v3/groups/:gid/users/:uid', auth, async (req, reply) => {
    const m = await membership(req);
    api.enforce(req, 'identity:add_user_to_group', m.target);
    await repos.groups.addMember(m.group.id, m.user.id);
    identity.changed();
    return reply.code(204).send();
  });
  const check = async (req: Parameters<typeof membership>[0] & { raw: unknown }, reply: { code(n: number): { send(): unknown } }) => {
    const m = await membership(req);
    api.enforce(req as never, 'identity:check_user_in_group', m.target);
    if (!(await repos.groups.isMember(m.group.id, m.user.id))) {
      throw Errors.notFoundMessage(`User '${m.user.id}' not found in group '${m.group.id}'`);
    }
    return reply.code(204).send();
  };
  app.head<P>('/v3/groups/:gid/users/:uid', auth, async (req, reply) => check(req, reply));
  app.get<P>('/v3/groups/:gid/users/:uid', auth, async (req, reply) => check(req, reply));
  app.delete<P>('/v3/groups/:gid/users/:uid', auth, async (req, reply) => {
    const m = await membership(req);
    api.enforce(req, 'identity:remove_user_from_group', m.target);
    if ((await repos.groups.removeMember(m.group.id, m.user.id)) === 0) {
      throw Errors.notFoundMessage(`User '${m.user.id}' not found in group '${m.group.id}'`);
    }
    await identity.revocations.revoke({ userId: m.user.id });
    identity.changed();
    return reply.code(204).send();
  });
}

/** Keystone's time filters: `lt:2026-01-01T00:00:00Z`, `gte:…`, `eq:…` (default eq). */
function matchesTimeFilter(value: string | null, filter: string): boolean {
  if (value === null) return false;
  const m = /^(lt|lte|gt|gte|eq|neq):(.+)$/.exec(filter);
  const op = m ? m[1]! : 'eq';
  const t = Date.parse(m ? m[2]! : filter);
  const v = Date.parse(value);
  if (Number.isNaN(t)) throw Errors.badRequest(`Invalid time format: ${filter}`);
  switch (op) {
    case 'lt':
      return v < t;
    case 'lte':
      return v <= t;
    case 'gt':
      return v > t;
    case 'gte':
      return v >= t;
    case 'neq':
      return v !== t;
    default:
      return v === t;
  }
}
