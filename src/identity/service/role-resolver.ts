import type { AssignmentRepo, RoleRepo } from '../db/role-repo.js';
import type { ProjectRepo } from '../db/project-repo.js';
import type { UserRepo } from '../db/user-repo.js';
import { GLOBAL_ROLE_DOMAIN, type AssignmentRow, type ProjectRow, type RoleRow } from '../db/tables.js';

export type RoleScope = { projectId: string } | { domainId: string } | { system: true };

/** Roles and the implication graph, cached until identity data changes. */
export class RoleGraph {
  readonly byId: Map<string, RoleRow>;
  private readonly implies = new Map<string, string[]>();

  constructor(roles: RoleRow[], implications: Array<{ prior_role_id: string; implied_role_id: string }>) {
    this.byId = new Map(roles.map((r) => [r.id, r]));
    for (const i of implications) this.implies.set(i.prior_role_id, [...(this.implies.get(i.prior_role_id) ?? []), i.implied_role_id]);
  }

  /**
   * Closes a set of role ids under implication. Domain-specific roles only
   * carry their implications: they never appear in a token themselves.
   */
  expand(roleIds: Iterable<string>): RoleRow[] {
    const seen = new Set<string>();
    const stack = [...roleIds];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const next of this.implies.get(id) ?? []) stack.push(next);
    }
    return [...seen]
      .map((id) => this.byId.get(id))
      .filter((r): r is RoleRow => r !== undefined && r.domain_id === GLOBAL_ROLE_DOMAIN)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  impliedBy(priorId: string): string[] {
    return this.implies.get(priorId) ?? [];
  }

  allImplications(): Array<[string, string[]]> {
    return [...this.implies.entries()];
  }
}

/** Walks parent_id from a project up to (not including) its domain. */
export async function ancestorsOf(projects: ProjectRepo, project: ProjectRow): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  let parentId = project.parent_id;
  const seen = new Set<string>([project.id]);
  while (parentId && !seen.has(parentId)) {
    seen.add(parentId);
    const parent = await projects.get(parentId);
    if (!parent || parent.is_domain === 1) break;
    out.push(parent);
    parentId = parent.parent_id;
  }
  return out;
}

/**
 * The assignments that give `userId` roles on `scope` — direct, through
 * groups, and inherited from parent projects or the domain (OS-INHERIT) —
 * before implied roles are expanded.
 */
export async function assignmentsForScope(
  repos: { users: UserRepo; projects: ProjectRepo; assignments: AssignmentRepo },
  userId: string,
  scope: RoleScope,
): Promise<AssignmentRow[]> {
  const groupIds = await repos.users.groupIdsOfUser(userId);
  const actors = [userId, ...groupIds];
  if ('system' in scope) {
    return repos.assignments.list({ types: ['UserSystem', 'GroupSystem'], actorIds: actors, targetIds: ['system'] });
  }
  if ('domainId' in scope) {
    return repos.assignments.list({ types: ['UserDomain', 'GroupDomain'], actorIds: actors, targetIds: [scope.domainId], inherited: false });
  }
  const project = await repos.projects.get(scope.projectId);
  if (!project) return [];
  const ancestors = await ancestorsOf(repos.projects, project);
  const direct = await repos.assignments.list({
    types: ['UserProject', 'GroupProject'],
    actorIds: actors,
    targetIds: [project.id],
    inherited: false,
  });
  const fromParents = await repos.assignments.list({
    types: ['UserProject', 'GroupProject'],
    actorIds: actors,
    targetIds: ancestors.map((a) => a.id),
    inherited: true,
  });
  const fromDomain = await repos.assignments.list({
    types: ['UserDomain', 'GroupDomain'],
    actorIds: actors,
    targetIds: [project.domain_id],
    inherited: true,
  });
  return [...direct, ...fromParents, ...fromDomain];
}

export async function loadRoleGraph(roles: RoleRepo): Promise<RoleGraph> {
  return new RoleGraph(await roles.all(), await roles.implications());
}
