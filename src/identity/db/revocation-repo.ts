import type { IdentityDb } from './identity-db.js';
import type { RevocationEventRow } from './tables.js';

export function createRevocationRepo(db: IdentityDb) {
  return {
    async listSince(revokedAfter: string | undefined): Promise<RevocationEventRow[]> {
      let q = db.selectFrom('ks_revocation_event').selectAll();
      if (revokedAfter) q = q.where('revoked_at', '>', revokedAfter);
      return q.orderBy('revoked_at').execute();
    },
    async insert(row: RevocationEventRow): Promise<void> {
      await db.insertInto('ks_revocation_event').values(row).execute();
    },
    /** Events older than every token they could match are useless; drop them. */
    async pruneBefore(revokedBefore: string): Promise<number> {
      const r = await db.deleteFrom('ks_revocation_event').where('revoked_at', '<', revokedBefore).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type RevocationRepo = ReturnType<typeof createRevocationRepo>;
