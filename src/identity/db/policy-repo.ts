import type { IdentityDb } from './identity-db.js';
import type { PolicyRow } from './tables.js';

/** /v3/policies: opaque policy documents Keystone stores for other services. */
export function createPolicyRepo(db: IdentityDb) {
  return {
    get: (id: string): Promise<PolicyRow | undefined> => db.selectFrom('ks_policy').selectAll().where('id', '=', id).executeTakeFirst(),
    list(type?: string): Promise<PolicyRow[]> {
      let q = db.selectFrom('ks_policy').selectAll();
      if (type !== undefined) q = q.where('type', '=', type);
      return q.orderBy('id').execute();
    },
    async insert(row: PolicyRow): Promise<void> {
      await db.insertInto('ks_policy').values(row).execute();
    },
    async update(id: string, changes: Partial<PolicyRow>): Promise<void> {
      await db.updateTable('ks_policy').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_policy').where('id', '=', id).execute();
    },
  };
}

export type PolicyRepo = ReturnType<typeof createPolicyRepo>;
