import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../../core/errors.js';
import { queryBool, queryString } from '../../../core/http/input.js';
import { GLOBAL_ROLE_DOMAIN, type AssignmentRow, type ProjectRow } from '../../db/tables.js';
import type { IdentityApi } from '../context.js';
import { createResourceService } from '../../service/resource-service.js';

type Q = { Querystring: Record<string, string | undefined> };

/** One (possibly derived) assignment. */
interface Effective {
  actor: { kind: 'user' | 'group'; id: string };
  scope: { kind: 'project' | 'domain' | 'system'; id: string };
  roleId: string;
  inherited: boolean;
  /** Set when derived: the real assignment this one comes from. */
  source?: AssignmentRow;
  membershipGroupId?: string;
  priorRoleId?: string;
}

/** GET /v3/role_assignments with Keystone's filters, `effective`, `include_names` and `include_subtree`. */
export function assignmentRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const { repos } = identity;
  const resources = createResourceService(identity);

  app.get<Q>('/v3/role_assignments', { preHandler: api.authenticate }, async (req) => {
    const q = req.query;
    const userId = queryString(q['user.id']);
    const groupId = queryString(q['group.id']);
    const roleId = queryString(q['role.id']);
    const projectId = queryString(q['scope.project.id']);
    const domainId = queryString(q['scope.domain.id']);
    const system = queryString(q['scope.system']);
    const inheritedTo = queryString(q['scope.OS-INHERIT:inherited_to']);
    const effective = q['effective'] !== undefined && queryBool(q['effective']) !== false;
    const includeNames = q['include_names'] !== undefined && queryBool(q['include_names']) !== false;
    const includeSubtree = q['include_subtree'] !== undefined && queryBool(q['include_subtree']) !== false;

    if (includeSubtree) {
      if (!projectId) throw Errors.badRequest('scope.project.id needs to be specified if include_subtree is also specified.');
      const project = await repos.projects.get(projectId);
      api.enforce(req, 'identity:list_role_assignments_for_tree', { 'target.project.id': projectId, 'target.project.domain_id': project?.domain_id ?? null });
    } else {
      api.enforce(req, 'identity:list_role_assignments', { 'target.domain_id': domainId ?? null });
    }
    if (effective && groupId) throw Errors.badRequest('Combining effective and group filter will always result in an empty list.');
    if (projectId && domainId) throw Errors.badRequest('Specify either a domain or project, not both.');

    const raw = await repos.assignments.list();
    let items: Effective[] = raw.map(toEffective);
    if (effective) items = await expand(items);

    let projectIds: Set<string> | undefined;
    if (projectId) {
      projectIds = new Set([projectId]);
      if (includeSubtree) {
        const root = await repos.projects.get(projectId);
        if (root) for (const p of await resources.subtree(root)) projectIds.add(p.id);
      }
    }
    items = items.filter(
      (a) =>
        (!userId || (a.actor.kind === 'user' && a.actor.id === userId)) &&
        (!groupId || (a.actor.kind === 'group' && a.actor.id === groupId)) &&
        (!roleId || a.roleId === roleId) &&
        (!projectIds || (a.scope.kind === 'project' && projectIds.has(a.scope.id))) &&
        (!domainId || (a.scope.kind === 'domain' && a.scope.id === domainId)) &&
        (!system || a.scope.kind === 'system') &&
        (!inheritedTo || a.inherited),
    );

    const names = includeNames ? await nameLookup() : undefined;
    return {
      role_assignments: items.map((a) => render(req, a, names)),
      links: { self: `${api.link(req, '/role_assignments')}${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`, previous: null, next: null },
    };
  });

  function toEffective(a: AssignmentRow): Effective {
    const kind = a.type.startsWith('User') ? 'user' : 'group';
    const scopeKind = a.type.endsWith('Project') ? 'project' : a.type.endsWith('Domain') ? 'domain' : 'system';
    return { actor: { kind, id: a.actor_id }, scope: { kind: scopeKind, id: a.target_id }, roleId: a.role_id, inherited: a.inherited === 1, source: a };
  }

  /** Groups become their members, inherited grants land on the projects below, implied roles are added. */
  async function expand(items: Effective[]): Promise<Effective[]> {
    const graph = await identity.roleGraph();
    const allProjects = await repos.projects.list({ isDomain: false });
    const children = new Map<string, ProjectRow[]>();
    for (const p of allProjects) if (p.parent_id) children.set(p.parent_id, [...(children.get(p.parent_id) ?? []), p]);
    const below = (id: string): string[] => {
      const out: string[] = [];
      const stack = [id];
      while (stack.length) {
        for (const c of children.get(stack.pop()!) ?? []) {
          out.push(c.id);
          stack.push(c.id);
        }
      }
      return out;
    };
    const out: Effective[] = [];
    for (const a of items) {
      const targets: Array<Effective['scope']> = a.inherited
        ? a.scope.kind === 'domain'
          ? allProjects.filter((p) => p.domain_id === a.scope.id).map((p) => ({ kind: 'project' as const, id: p.id }))
          : below(a.scope.id).map((id) => ({ kind: 'project' as const, id }))
        : [a.scope];
      const actors: Array<{ id: string; group?: string }> =
        a.actor.kind === 'group' ? (await repos.groups.memberIds(a.actor.id)).map((id) => ({ id, group: a.actor.id })) : [{ id: a.actor.id }];
      const roles = [a.roleId, ...graph.expand([a.roleId]).map((r) => r.id).filter((id) => id !== a.roleId)];
      for (const target of targets) {
        for (const who of actors) {
          for (const rid of roles) {
            const role = graph.byId.get(rid);
            if (rid !== a.roleId && role?.domain_id !== GLOBAL_ROLE_DOMAIN) continue;
            if (rid === a.roleId && role && role.domain_id !== GLOBAL_ROLE_DOMAIN) continue; // domain roles only imply
            const e: Effective = { actor: { kind: 'user', id: who.id }, scope: target, roleId: rid, inherited: false };
            if (a.source) e.source = a.source;
            if (who.group) e.membershipGroupId = who.group;
            if (rid !== a.roleId) e.priorRoleId = a.roleId;
            out.push(e);
          }
        }
      }
    }
    return out;
  }

  function assignmentLink(req: FastifyRequest, a: Effective): string {
    const src = a.source;
    if (!src) return '';
    const actor = src.type.startsWith('User') ? 'users' : 'groups';
    if (src.type.endsWith('System')) return api.link(req, `/system/${actor}/${src.actor_id}/roles/${src.role_id}`);
    const scope = src.type.endsWith('Project') ? 'projects' : 'domains';
    if (src.inherited) return api.link(req, `/OS-INHERIT/${scope}/${src.target_id}/${actor}/${src.actor_id}/roles/${src.role_id}/inherited_to_projects`);
    return api.link(req, `/${scope}/${src.target_id}/${actor}/${src.actor_id}/roles/${src.role_id}`);
  }

  function render(req: FastifyRequest, a: Effective, names?: Names) {
    const links: Record<string, string> = { assignment: assignmentLink(req, a) };
    if (a.membershipGroupId) links['membership'] = api.link(req, `/groups/${a.membershipGroupId}/users/${a.actor.id}`);
    if (a.priorRoleId) links['prior_role'] = api.link(req, `/roles/${a.priorRoleId}`);
    const scope: Record<string, unknown> =
      a.scope.kind === 'system' ? { system: { all: true } } : { [a.scope.kind]: names ? names.scope(a.scope.kind, a.scope.id) : { id: a.scope.id } };
    if (a.inherited) scope['OS-INHERIT:inherited_to'] = 'projects';
    return {
      role: names ? names.role(a.roleId) : { id: a.roleId },
      [a.actor.kind]: names ? names.actor(a.actor.kind, a.actor.id) : { id: a.actor.id },
      scope,
      links,
    };
  }

  type Names = Awaited<ReturnType<typeof nameLookup>>;
  async function nameLookup() {
    const [roles, users, groups, projects] = await Promise.all([repos.roles.all(), repos.users.list(), repos.groups.list(), repos.projects.list({})]);
    const domains = await repos.projects.listDomains();
    const byId = <T extends { id: string }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
    const R = byId(roles);
    const U = byId(users);
    const G = byId(groups);
    const P = byId(projects);
    const D = byId(domains);
    const domainRef = (id: string) => ({ id, name: D.get(id)?.name });
    return {
      role(id: string) {
        const r = R.get(id);
        const out: Record<string, unknown> = { id, name: r?.name };
        if (r && r.domain_id !== GLOBAL_ROLE_DOMAIN) out['domain'] = domainRef(r.domain_id);
        return out;
      },
      actor(kind: 'user' | 'group', id: string) {
        const row = kind === 'user' ? U.get(id) : G.get(id);
        return { id, name: row?.name, domain: domainRef(row?.domain_id ?? '') };
      },
      scope(kind: 'project' | 'domain', id: string) {
        if (kind === 'domain') return { id, name: D.get(id)?.name };
        const p = P.get(id);
        return { id, name: p?.name, domain: domainRef(p?.domain_id ?? '') };
      },
    };
  }
}
