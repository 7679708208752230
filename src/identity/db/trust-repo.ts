import type { IdentityDb } from './identity-db.js';
import type { TrustRow } from './tables.js';

/** OS-TRUST trusts. Deleted trusts keep their row (deleted_at) as in Keystone. */
export function createTrustRepo(db: IdentityDb) {
  return {
    get: (id: string): Promise<TrustRow | undefined> =>
      db.selectFrom('ks_trust').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst(),
    list(filters: { trustorUserId?: string; trusteeUserId?: string; redelegatedTrustId?: string } = {}): Promise<TrustRow[]> {
      let q = db.selectFrom('ks_trust').selectAll().where('deleted_at', 'is', null);
      if (filters.trustorUserId !== undefined) q = q.where('trustor_user_id', '=', filters.trustorUserId);
      if (filters.trusteeUserId !== undefined) q = q.where('trustee_user_id', '=', filters.trusteeUserId);
      if (filters.redelegatedTrustId !== undefined) q = q.where('redelegated_trust_id', '=', filters.redelegatedTrustId);
      return q.orderBy('id').execute();
    },
    /** Trusts in which the user is trustor or trustee. */
    listInvolving: (userId: string): Promise<TrustRow[]> =>
      db
        .selectFrom('ks_trust')
        .selectAll()
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('trustor_user_id', '=', userId), eb('trustee_user_id', '=', userId)]))
        .execute(),
    async insert(row: TrustRow, roleIds: string[]): Promise<void> {
      await db.insertInto('ks_trust').values(row).execute();
      for (const roleId of new Set(roleIds)) await db.insertInto('ks_trust_role').values({ trust_id: row.id, role_id: roleId }).execute();
    },
    async roleIds(trustId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_trust_role').select('role_id').where('trust_id', '=', trustId).execute();
      return rows.map((r) => r.role_id);
    },
    async softDelete(id: string, at: string): Promise<number> {
      const r = await db.updateTable('ks_trust').set({ deleted_at: at }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    /**
     * Takes one use of a limited trust atomically (the WHERE makes two
     * concurrent last uses impossible). True when the trust may be used.
     */
    async consumeUse(id: string): Promise<boolean> {
      const r = await db
        .updateTable('ks_trust')
        .set((eb) => ({ remaining_uses: eb('remaining_uses', '-', 1) }))
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .where('remaining_uses', '>', 0)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}

export type TrustRepo = ReturnType<typeof createTrustRepo>;
