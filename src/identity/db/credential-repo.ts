import type { IdentityDb } from './identity-db.js';
import type { CredentialRow } from './tables.js';

/** Stored credentials (/v3/credentials, EC2 keys). Blobs arrive here already encrypted. */
export function createCredentialRepo(db: IdentityDb) {
  return {
    get: (id: string): Promise<CredentialRow | undefined> => db.selectFrom('ks_credential').selectAll().where('id', '=', id).executeTakeFirst(),
    list(filters: { userId?: string; type?: string; projectId?: string } = {}): Promise<CredentialRow[]> {
      let q = db.selectFrom('ks_credential').selectAll();
      if (filters.userId !== undefined) q = q.where('user_id', '=', filters.userId);
      if (filters.type !== undefined) q = q.where('type', '=', filters.type);
      if (filters.projectId !== undefined) q = q.where('project_id', '=', filters.projectId);
      return q.orderBy('id').execute();
    },
    async insert(row: CredentialRow): Promise<void> {
      await db.insertInto('ks_credential').values(row).execute();
    },
    async update(id: string, changes: Partial<CredentialRow>): Promise<void> {
      await db.updateTable('ks_credential').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<number> {
      const r = await db.deleteFrom('ks_credential').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async deleteFor(filter: { userId: string } | { projectId: string }): Promise<void> {
      if ('userId' in filter) await db.deleteFrom('ks_credential').where('user_id', '=', filter.userId).execute();
      else await db.deleteFrom('ks_credential').where('project_id', '=', filter.projectId).execute();
    },
  };
}

export type CredentialRepo = ReturnType<typeof createCredentialRepo>;
