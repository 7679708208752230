import type { IdentityDb } from './identity-db.js';
import { ROOT_DOMAIN_ID, type ProjectRow } from './tables.js';

/** Projects and domains (a domain is a project row with is_domain = 1 under the root sentinel). */
export function createProjectRepo(db: IdentityDb) {
  return {
    async get(id: string): Promise<ProjectRow | undefined> {
      return db.selectFrom('ks_project').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async getDomain(id: string): Promise<ProjectRow | undefined> {
      return db.selectFrom('ks_project').selectAll().where('id', '=', id).where('is_domain', '=', 1).executeTakeFirst();
    },
    async getDomainByName(name: string): Promise<ProjectRow | undefined> {
      return db
        .selectFrom('ks_project')
        .selectAll()
        .where('domain_id', '=', ROOT_DOMAIN_ID)
        .where('name', '=', name)
        .executeTakeFirst();
    },
    async getByName(domainId: string, name: string): Promise<ProjectRow | undefined> {
      return db.selectFrom('ks_project').selectAll().where('domain_id', '=', domainId).where('name', '=', name).executeTakeFirst();
    },
    async listDomains(filters: { name?: string; enabled?: boolean } = {}): Promise<ProjectRow[]> {
      let q = db.selectFrom('ks_project').selectAll().where('is_domain', '=', 1).where('domain_id', '=', ROOT_DOMAIN_ID);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      if (filters.enabled !== undefined) q = q.where('enabled', '=', filters.enabled ? 1 : 0);
      return q.orderBy('name').execute();
    },
    /** Projects (not domains), optionally filtered. */
    async list(filters: {
      domainId?: string;
      parentId?: string;
      name?: string;
      enabled?: boolean;
      isDomain?: boolean;
      ids?: string[];
    } = {}): Promise<ProjectRow[]> {
      let q = db.selectFrom('ks_project').selectAll().where('domain_id', '!=', ROOT_DOMAIN_ID);
      if (filters.isDomain === true) q = db.selectFrom('ks_project').selectAll().where('is_domain', '=', 1);
      else if (filters.isDomain === false) q = q.where('is_domain', '=', 0);
      if (filters.domainId !== undefined) q = q.where('domain_id', '=', filters.domainId);
      if (filters.parentId !== undefined) q = q.where('parent_id', '=', filters.parentId);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      if (filters.enabled !== undefined) q = q.where('enabled', '=', filters.enabled ? 1 : 0);
      if (filters.ids !== undefined) {
        if (filters.ids.length === 0) return [];
        q = q.where('id', 'in', filters.ids);
      }
      return q.orderBy('name').execute();
    },
    async children(parentId: string): Promise<ProjectRow[]> {
      return db.selectFrom('ks_project').selectAll().where('parent_id', '=', parentId).execute();
    },
    async insert(row: ProjectRow): Promise<void> {
      await db.insertInto('ks_project').values(row).execute();
    },
    async update(id: string, changes: Partial<ProjectRow>): Promise<void> {
      await db.updateTable('ks_project').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_project').where('id', '=', id).execute();
    },
    async tags(projectId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_project_tag').select('name').where('project_id', '=', projectId).orderBy('name').execute();
      return rows.map((r) => r.name);
    },
    async tagsFor(projectIds: string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (projectIds.length === 0) return out;
      const rows = await db.selectFrom('ks_project_tag').selectAll().where('project_id', 'in', projectIds).orderBy('name').execute();
      for (const r of rows) out.set(r.project_id, [...(out.get(r.project_id) ?? []), r.name]);
      return out;
    },
    async setTags(projectId: string, tags: string[]): Promise<void> {
      await db.deleteFrom('ks_project_tag').where('project_id', '=', projectId).execute();
      const unique = [...new Set(tags)];
      if (unique.length > 0) {
        await db
          .insertInto('ks_project_tag')
          .values(unique.map((name) => ({ project_id: projectId, name })))
          .onConflict((oc) => oc.columns(['project_id', 'name']).doNothing())
          .execute();
      }
    },
    async addTag(projectId: string, tag: string): Promise<void> {
      await db.insertInto('ks_project_tag').values({ project_id: projectId, name: tag }).onConflict((oc) => oc.columns(['project_id', 'name']).doNothing()).execute();
    },
    async removeTag(projectId: string, tag: string): Promise<number> {
      const r = await db.deleteFrom('ks_project_tag').where('project_id', '=', projectId).where('name', '=', tag).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async projectIdsWithTags(all: string[], any: string[], notAll: string[], notAny: string[]): Promise<Set<string> | undefined> {
      if (all.length + any.length + notAll.length + notAny.length === 0) return undefined;
      const rows = await db.selectFrom('ks_project_tag').selectAll().execute();
      const byProject = new Map<string, Set<string>>();
      for (const r of rows) {
        let s = byProject.get(r.project_id);
        if (!s) byProject.set(r.project_id, (s = new Set()));
        s.add(r.name);
      }
      const projects = await db.selectFrom('ks_project').select('id').execute();
      const out = new Set<string>();
      for (const { id } of projects) {
        const t = byProject.get(id) ?? new Set<string>();
        if (all.length && !all.every((x) => t.has(x))) continue;
        if (any.length && !any.some((x) => t.has(x))) continue;
        if (notAll.length && notAll.every((x) => t.has(x))) continue;
        if (notAny.length && notAny.some((x) => t.has(x))) continue;
        out.add(id);
      }
      return out;
    },
  };
}

export type ProjectRepo = ReturnType<typeof createProjectRepo>;
