import { isUniqueViolation } from '../../core/db/database.js';
import { isTrue, toJson } from '../../core/db/columns.js';
import { Errors } from '../../core/errors.js';
import { isoMicro, newHexId } from '../../core/ids.js';
import { ROOT_DOMAIN_ID, type ProjectRow } from '../db/tables.js';
import type { Identity } from './identity.js';
import { createUserService } from './user-service.js';

type Json = Record<string, unknown>;

export interface ProjectInput {
  name: string;
  domainId?: string | undefined;
  parentId?: string | null | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
  isDomain?: boolean | undefined;
  tags?: string[] | undefined;
  options?: Json | undefined;
  extra?: Json | undefined;
}

export interface ProjectUpdate {
  name?: string | undefined;
  description?: string | undefined;
  enabled?: boolean | undefined;
  tags?: string[] | undefined;
  options?: Json | undefined;
  extra?: Json | undefined;
}

const conflictName = (what: string, name: string, scope: string) =>
  Errors.conflict(`Conflict occurred attempting to store ${what} - it is not permitted to have two ${what}s with the same name in the same ${scope}: ${name}.`);

/** Domains and projects (Keystone's resource backend). */
export function createResourceService(identity: Identity) {
  const { repos } = identity;

  async function getDomain(id: string): Promise<ProjectRow> {
    const d = await repos.projects.getDomain(id);
    if (!d) throw Errors.notFound('domain', id);
    return d;
  }

  /** A project, or a domain seen through the project API (Keystone's projects acting as domains). */
  async function getProject(id: string): Promise<ProjectRow> {
    const p = await repos.projects.get(id);
    if (!p) throw Errors.notFound('project', id);
    return p;
  }

  async function createDomain(input: Omit<ProjectInput, 'domainId' | 'parentId' | 'isDomain'> & { id?: string }): Promise<ProjectRow> {
    const row: ProjectRow = {
      id: input.id ?? newHexId(),
      name: input.name,
      domain_id: ROOT_DOMAIN_ID,
      parent_id: null,
      description: input.description ?? '',
      enabled: input.enabled === false ? 0 : 1,
      is_domain: 1,
      extra: toJson(input.extra),
      options: toJson(input.options),
      created_at: isoMicro(new Date()),
    };
    try {
      await repos.projects.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflictName('domain', input.name, 'domain');
      throw err;
    }
    if (input.tags) await repos.projects.setTags(row.id, input.tags);
    identity.changed();
    return row;
  }

  async function createProject(input: ProjectInput): Promise<ProjectRow> {
    if (input.isDomain) return createDomain(input);
    let domainId = input.domainId;
    let parentId = input.parentId ?? null;
    if (parentId) {
      const parent = await repos.projects.get(parentId);
      if (!parent) throw Errors.badRequest(`Could not find parent project: ${parentId}.`);
      const parentDomain = isTrue(parent.is_domain) ? parent.id : parent.domain_id;
      if (domainId && domainId !== parentDomain) {
        throw Errors.badRequest('Cannot create project, the parent is in a different domain.');
      }
      domainId = parentDomain;
    }
    domainId ??= 'default';
    const domain = await repos.projects.getDomain(domainId);
    if (!domain) throw Errors.badRequest(`Could not find domain: ${domainId}.`);
    parentId ??= domainId;
    const row: ProjectRow = {
      id: newHexId(),
      name: input.name,
      domain_id: domainId,
      parent_id: parentId,
      description: input.description ?? '',
      enabled: input.enabled === false ? 0 : 1,
      is_domain: 0,
      extra: toJson(input.extra),
      options: toJson(input.options),
      created_at: isoMicro(new Date()),
    };
    try {
      await repos.projects.insert(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflictName('project', input.name, 'domain');
      throw err;
    }
    if (input.tags) await repos.projects.setTags(row.id, input.tags);
    return row;
  }

  async function update(row: ProjectRow, changes: ProjectUpdate): Promise<ProjectRow> {
    const set: Partial<ProjectRow> = {};
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
    if (changes.options !== undefined) set.options = toJson({ ...JSON.parse(row.options || '{}'), ...changes.options });
    if (changes.extra !== undefined) set.extra = toJson({ ...JSON.parse(row.extra || '{}'), ...changes.extra });
    if (Object.keys(set).length > 0) {
      try {
        await repos.projects.update(row.id, set);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflictName(isTrue(row.is_domain) ? 'domain' : 'project', changes.name ?? row.name, 'domain');
        throw err;
      }
    }
    if (changes.tags !== undefined) await repos.projects.setTags(row.id, changes.tags);
    if (changes.enabled === false && isTrue(row.enabled)) {
      await identity.revocations.revoke(isTrue(row.is_domain) ? { domainId: row.id } : { projectId: row.id });
    }
    identity.changed();
    return (await repos.projects.get(row.id))!;
  }

  async function deleteProject(row: ProjectRow, cascade = false): Promise<void> {
    if (isTrue(row.is_domain)) return deleteDomain(row);
    const children = await repos.projects.children(row.id);
    if (children.length > 0 && !cascade) {
      throw Errors.forbidden(`Cannot delete the project ${row.id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
    }
    for (const child of children) await deleteProject(child, true);
    await repos.assignments.removeForTarget(row.id);
    await removeProjectData(row.id);
    await repos.projects.delete(row.id);
    await identity.revocations.revoke({ projectId: row.id });
    identity.changed();
  }

  async function deleteDomain(row: ProjectRow): Promise<void> {
    if (isTrue(row.enabled)) throw Errors.forbidden('Cannot delete a domain that is enabled, please disable it first.');
    if (row.id === 'default') throw Errors.forbidden('The default domain cannot be deleted.');
    const projects = await repos.projects.list({ domainId: row.id });
    // Leaves first, so that no project is removed before its children.
    const byDepth = projects.sort((a, b) => depth(projects, b) - depth(projects, a));
    for (const p of byDepth) {
      await repos.assignments.removeForTarget(p.id);
      await removeProjectData(p.id);
      await repos.projects.delete(p.id);
    }
    const users = createUserService(identity);
    for (const u of await repos.users.list({ domainId: row.id })) await users.remove(u);
    await repos.limits.deleteForTarget(row.id);
    await repos.domainConfigs.delete(row.id);
    for (const g of await repos.groups.list({ domainId: row.id })) {
      await repos.assignments.removeForActor(g.id);
      await repos.groups.delete(g.id);
    }
    for (const r of await repos.roles.list({ domainId: row.id })) await repos.roles.delete(r.id);
    await repos.assignments.removeForTarget(row.id);
    await repos.projects.delete(row.id);
    await identity.revocations.revoke({ domainId: row.id });
    identity.changed();
  }

  /** App credentials, credentials, limits and endpoint associations of a project go with it. */
  async function removeProjectData(projectId: string): Promise<void> {
    await identity.appCredentials.deleteRows(await repos.appCredentials.idsFor({ projectId }));
    await repos.credentials.deleteFor({ projectId });
    await repos.limits.deleteForTarget(projectId);
    await repos.endpointFilter.removeProject(projectId);
  }

  /** All projects below `root` (depth-first). */
  async function subtree(root: ProjectRow): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    const stack = [root.id];
    const seen = new Set<string>();
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const child of await repos.projects.children(id)) {
        if (isTrue(child.is_domain)) continue;
        out.push(child);
        stack.push(child.id);
      }
    }
    return out;
  }

  return { getDomain, getProject, createDomain, createProject, update, deleteProject, deleteDomain, subtree };
}

function depth(all: ProjectRow[], p: ProjectRow): number {
  let d = 0;
  let cur: ProjectRow | undefined = p;
  const byId = new Map(all.map((x) => [x.id, x]));
  while (cur?.parent_id && byId.has(cur.parent_id) && d < 100) {
    cur = byId.get(cur.parent_id);
    d++;
  }
  return d;
}

export type ResourceService = ReturnType<typeof createResourceService>;
