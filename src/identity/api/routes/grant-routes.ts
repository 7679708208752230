import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../../core/errors.js';
import type { AssignmentRow, AssignmentType, RoleRow } from '../../db/tables.js';
import type { IdentityApi } from '../context.js';
import { renderRole } from '../render.js';

type P = { Params: Record<string, string> };

interface GrantTarget {
  type: AssignmentType;
  actorId: string;
  targetId: string;
  inherited: boolean;
  /** Policy target. */
  target: Record<string, unknown>;
  /** Rule prefix: `grant` or `system_grant_for_user|group`. */
  rules: { check: string; list: string; create: string; revoke: string };
}

const grantRules = { check: 'identity:check_grant', list: 'identity:list_grants', create: 'identity:create_grant', revoke: 'identity:revoke_grant' };

/**
 * Role grants on projects, domains and the system, direct and inherited
 * (OS-INHERIT): PUT/HEAD/GET/DELETE …/{actor}/roles/{role}.
 */
export function grantRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const auth = { preHandler: api.authenticate };

  const actor = async (kind: 'users' | 'groups', id: string) => {
    if (kind === 'users') {
      const u = await repos.users.get(id);
      if (!u) throw Errors.notFound('user', id);
      return { id: u.id, domain_id: u.domain_id };
    }
    const g = await repos.groups.get(id);
    if (!g) throw Errors.notFound('group', id);
    return { id: g.id, domain_id: g.domain_id };
  };

  const resolve = async (req: FastifyRequest<P>, scope: 'projects' | 'domains' | 'system', kind: 'users' | 'groups', inherited: boolean): Promise<GrantTarget> => {
    const p = req.params;
    const a = await actor(kind, p['actor']!);
    const actorKey = kind === 'users' ? 'user' : 'group';
    if (scope === 'system') {
      return {
        type: kind === 'users' ? 'UserSystem' : 'GroupSystem',
        actorId: a.id,
        targetId: 'system',
        inherited: false,
        target: {},
        rules: {
          check: `identity:check_system_grant_for_${actorKey}`,
          list: `identity:list_system_grants_for_${actorKey}`,
          create: `identity:create_system_grant_for_${actorKey}`,
          revoke: `identity:revoke_system_grant_for_${actorKey}`,
        },
      };
    }
    if (scope === 'projects') {
      const project = await repos.projects.get(p['target']!);
      if (!project || project.is_domain === 1) throw Errors.notFound('project', p['target']);
      return {
        type: kind === 'users' ? 'UserProject' : 'GroupProject',
        actorId: a.id,
        targetId: project.id,
        inherited,
        target: { [`target.${actorKey}.domain_id`]: a.domain_id, 'target.project.domain_id': project.domain_id, 'target.project.id': project.id },
        rules: grantRules,
      };
    }
    const domain = await repos.projects.getDomain(p['target']!);
    if (!domain) throw Errors.notFound('domain', p['target']);
    return {
      type: kind === 'users' ? 'UserDomain' : 'GroupDomain',
      actorId: a.id,
      targetId: domain.id,
      inherited,
      target: { [`target.${actorKey}.domain_id`]: a.domain_id, 'target.domain.id': domain.id },
      rules: grantRules,
    };
  };

  const role = async (id: string): Promise<RoleRow> => {
    const r = await repos.roles.get(id);
    if (!r) throw Errors.notFound('role', id);
    return r;
  };

  const row = (g: GrantTarget, roleId: string): AssignmentRow => ({
    type: g.type,
    actor_id: g.actorId,
    target_id: g.targetId,
    role_id: roleId,
    inherited: g.inherited ? 1 : 0,
  });

  const notGranted = (g: GrantTarget, roleId: string) =>
    Errors.notFoundMessage(`Could not find role assignment with role: ${roleId}, ${g.type.startsWith('User') ? 'user' : 'group'}: ${g.actorId}, target: ${g.targetId}.`);

  const register = (prefix: string, scope: 'projects' | 'domains' | 'system', inherited: boolean, suffix = '') => {
    for (const kind of ['users', 'groups'] as const) {
      const base = `${prefix}/${kind}/:actor/roles`;
      app.put<P>(`${base}/:role${suffix}`, auth, async (req, reply) => {
        const g = await resolve(req, scope, kind, inherited);
        const r = await role(req.params['role']!);
        api.enforce(req, g.rules.create, { ...g.target, 'target.role.domain_id': r.domain_id === '<<null>>' ? null : r.domain_id });
        if (r.domain_id !== '<<null>>') {
          const domainOfTarget = scope === 'domains' ? g.targetId : scope === 'projects' ? (await repos.projects.get(g.targetId))?.domain_id : undefined;
          if (domainOfTarget !== r.domain_id) throw Errors.forbidden('A domain-specific role can only be granted within its domain.');
        }
        await repos.assignments.add(row(g, r.id));
        identity.changed();
        return reply.code(204).send();
      });
      const check = async (req: FastifyRequest<P>) => {
        const g = await resolve(req, scope, kind, inherited);
        const r = await role(req.params['role']!);
        api.enforce(req, g.rules.check, g.target);
        if (!(await repos.assignments.exists(row(g, r.id)))) throw notGranted(g, r.id);
      };
      app.head<P>(`${base}/:role${suffix}`, auth, async (req, reply) => {
        await check(req);
        return reply.code(204).send();
      });
      app.get<P>(`${base}/:role${suffix}`, auth, async (req, reply) => {
        await check(req);
        return reply.code(204).send();
      });
      app.delete<P>(`${base}/:role${suffix}`, auth, async (req, reply) => {
        const g = await resolve(req, scope, kind, inherited);
        const r = await role(req.params['role']!);
        api.enforce(req, g.rules.revoke, g.target);
        if ((await repos.assignments.remove(row(g, r.id))) === 0) throw notGranted(g, r.id);
        // Tokens that carried the role lose it: revoke per affected user (group members too).
        const users = kind === 'users' ? [g.actorId] : await repos.groups.memberIds(g.actorId);
        for (const userId of users) {
          await identity.revocations.revoke(
            scope === 'projects' && !inherited ? { userId, projectId: g.targetId } : scope === 'domains' && !inherited ? { userId, domainId: g.targetId } : { userId },
          );
        }
        // Keystone drops the user's application credentials on the project with the role.
        if (kind === 'users' && scope === 'projects' && !inherited) await identity.appCredentials.onAssignmentRemoved(g.actorId, g.targetId);
        identity.changed();
        return reply.code(204).send();
      });
      app.get<P>(`${base}${suffix}`, auth, async (req) => {
        const g = await resolve(req, scope, kind, inherited);
        api.enforce(req, g.rules.list, g.target);
        const rows = await repos.assignments.list({ types: [g.type], actorIds: [g.actorId], targetIds: [g.targetId], inherited: g.inherited });
        const roles = (await Promise.all(rows.map((r) => repos.roles.get(r.role_id)))).filter((r): r is RoleRow => !!r);
        return { roles: roles.map((r) => renderRole(api, req, r)), links: { self: api.link(req, req.url.replace(/^\/v3/, '')), previous: null, next: null } };
      });
    }
  };

  register('/v3/projects/:target', 'projects', false);
  register('/v3/domains/:target', 'domains', false);
  register('/v3/system', 'system', false);
  register('/v3/OS-INHERIT/projects/:target', 'projects', true, '/inherited_to_projects');
  register('/v3/OS-INHERIT/domains/:target', 'domains', true, '/inherited_to_projects');
}
