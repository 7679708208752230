import type { IdentityDb } from './identity-db.js';
import type { EndpointGroupRow } from './tables.js';

/** OS-EP-FILTER: endpoint groups and project ↔ endpoint / endpoint group associations. */
export function createEndpointFilterRepo(db: IdentityDb) {
  return {
    getGroup: (id: string): Promise<EndpointGroupRow | undefined> =>
      db.selectFrom('ks_endpoint_group').selectAll().where('id', '=', id).executeTakeFirst(),
    listGroups(name?: string): Promise<EndpointGroupRow[]> {
      let q = db.selectFrom('ks_endpoint_group').selectAll();
      if (name !== undefined) q = q.where('name', '=', name);
      return q.orderBy('name').orderBy('id').execute();
    },
    async insertGroup(row: EndpointGroupRow): Promise<void> {
      await db.insertInto('ks_endpoint_group').values(row).execute();
    },
    async updateGroup(id: string, changes: Partial<EndpointGroupRow>): Promise<void> {
      await db.updateTable('ks_endpoint_group').set(changes).where('id', '=', id).execute();
    },
    async deleteGroup(id: string): Promise<void> {
      await db.deleteFrom('ks_project_endpoint_group').where('endpoint_group_id', '=', id).execute();
      await db.deleteFrom('ks_endpoint_group').where('id', '=', id).execute();
    },

    async groupProjects(groupId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_project_endpoint_group').select('project_id').where('endpoint_group_id', '=', groupId).execute();
      return rows.map((r) => r.project_id);
    },
    async projectGroups(projectId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_project_endpoint_group').select('endpoint_group_id').where('project_id', '=', projectId).execute();
      return rows.map((r) => r.endpoint_group_id);
    },
    async hasGroupProject(groupId: string, projectId: string): Promise<boolean> {
      const r = await db
        .selectFrom('ks_project_endpoint_group')
        .select('project_id')
        .where('endpoint_group_id', '=', groupId)
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      return r !== undefined;
    },
    async addGroupProject(groupId: string, projectId: string): Promise<void> {
      await db
        .insertInto('ks_project_endpoint_group')
        .values({ endpoint_group_id: groupId, project_id: projectId })
        .onConflict((oc) => oc.columns(['endpoint_group_id', 'project_id']).doNothing())
        .execute();
    },
    async removeGroupProject(groupId: string, projectId: string): Promise<number> {
      const r = await db.deleteFrom('ks_project_endpoint_group').where('endpoint_group_id', '=', groupId).where('project_id', '=', projectId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },

    async endpointProjects(endpointId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_project_endpoint').select('project_id').where('endpoint_id', '=', endpointId).execute();
      return rows.map((r) => r.project_id);
    },
    async projectEndpoints(projectId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_project_endpoint').select('endpoint_id').where('project_id', '=', projectId).execute();
      return rows.map((r) => r.endpoint_id);
    },
    async hasProjectEndpoint(projectId: string, endpointId: string): Promise<boolean> {
      const r = await db.selectFrom('ks_project_endpoint').select('project_id').where('project_id', '=', projectId).where('endpoint_id', '=', endpointId).executeTakeFirst();
      return r !== undefined;
    },
    async addProjectEndpoint(projectId: string, endpointId: string): Promise<void> {
      await db
        .insertInto('ks_project_endpoint')
        .values({ project_id: projectId, endpoint_id: endpointId })
        .onConflict((oc) => oc.columns(['endpoint_id', 'project_id']).doNothing())
        .execute();
    },
    async removeProjectEndpoint(projectId: string, endpointId: string): Promise<number> {
      const r = await db.deleteFrom('ks_project_endpoint').where('project_id', '=', projectId).where('endpoint_id', '=', endpointId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async removeProject(projectId: string): Promise<void> {
      await db.deleteFrom('ks_project_endpoint').where('project_id', '=', projectId).execute();
      await db.deleteFrom('ks_project_endpoint_group').where('project_id', '=', projectId).execute();
    },
  };
}

export type EndpointFilterRepo = ReturnType<typeof createEndpointFilterRepo>;
