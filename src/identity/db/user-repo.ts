import { sql } from 'kysely';
import type { IdentityDb } from './identity-db.js';
import type { GroupRow, UserRow } from './tables.js';

export function createUserRepo(db: IdentityDb) {
  return {
    async get(id: string): Promise<UserRow | undefined> {
      return db.selectFrom('ks_user').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async getByName(domainId: string, name: string): Promise<UserRow | undefined> {
      return db.selectFrom('ks_user').selectAll().where('domain_id', '=', domainId).where('name', '=', name).executeTakeFirst();
    },
    async list(filters: { domainId?: string; name?: string; enabled?: boolean; ids?: string[] } = {}): Promise<UserRow[]> {
      let q = db.selectFrom('ks_user').selectAll();
      if (filters.domainId !== undefined) q = q.where('domain_id', '=', filters.domainId);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      if (filters.enabled !== undefined) q = q.where('enabled', '=', filters.enabled ? 1 : 0);
      if (filters.ids !== undefined) {
        if (filters.ids.length === 0) return [];
        q = q.where('id', 'in', filters.ids);
      }
      return q.orderBy('name').execute();
    },
    async insert(row: UserRow): Promise<void> {
      await db.insertInto('ks_user').values(row).execute();
    },
    async update(id: string, changes: Partial<UserRow>): Promise<void> {
      await db.updateTable('ks_user').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_user').where('id', '=', id).execute();
    },
    /**
     * Counts an attempt as a failure before the password is checked (lockout):
     * atomically, restarting the series when the last failure is older than
     * `staleBefore`. Returns the count seen afterwards.
     */
    async chargeAttempt(id: string, at: string, staleBefore: string): Promise<number> {
      await db
        .updateTable('ks_user')
        .set({
          failed_auth_count: sql<number>`CASE WHEN failed_auth_at IS NULL OR failed_auth_at <= ${staleBefore} THEN 1 ELSE failed_auth_count + 1 END`,
          failed_auth_at: at,
        })
        .where('id', '=', id)
        .execute();
      const row = await db.selectFrom('ks_user').select('failed_auth_count').where('id', '=', id).executeTakeFirst();
      return row?.failed_auth_count ?? 0;
    },
    /** Gives back an attempt that was charged but never checked (the client went away). */
    async refundAttempt(id: string): Promise<void> {
      await db.updateTable('ks_user').set((eb) => ({ failed_auth_count: eb('failed_auth_count', '-', 1) })).where('id', '=', id).where('failed_auth_count', '>', 0).execute();
    },
    /** Counts a failed password check atomically (concurrent guesses each count); `restart` starts a new series. */
    async recordFailedAuth(id: string, at: string, restart: boolean): Promise<void> {
      await db
        .updateTable('ks_user')
        .set((eb) => ({ failed_auth_count: restart ? 1 : eb('failed_auth_count', '+', 1), failed_auth_at: at }))
        .where('id', '=', id)
        .execute();
    },
    async passwordHistory(userId: string, count: number): Promise<string[]> {
      const rows = await db
        .selectFrom('ks_password_history')
        .select('password_hash')
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(count)
        .execute();
      return rows.map((r) => r.password_hash);
    },
    async addPasswordHistory(id: string, userId: string, hash: string, createdAt: string): Promise<void> {
      await db.insertInto('ks_password_history').values({ id, user_id: userId, password_hash: hash, created_at: createdAt }).execute();
    },
    async groupsOfUser(userId: string): Promise<GroupRow[]> {
      return db
        .selectFrom('ks_user_group')
        .innerJoin('ks_group', 'ks_group.id', 'ks_user_group.group_id')
        .selectAll('ks_group')
        .where('ks_user_group.user_id', '=', userId)
        .orderBy('ks_group.name')
        .execute();
    },
    async groupIdsOfUser(userId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_user_group').select('group_id').where('user_id', '=', userId).execute();
      return rows.map((r) => r.group_id);
    },
  };
}

export function createGroupRepo(db: IdentityDb) {
  return {
    async get(id: string): Promise<GroupRow | undefined> {
      return db.selectFrom('ks_group').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async list(filters: { domainId?: string; name?: string } = {}): Promise<GroupRow[]> {
      let q = db.selectFrom('ks_group').selectAll();
      if (filters.domainId !== undefined) q = q.where('domain_id', '=', filters.domainId);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      return q.orderBy('name').execute();
    },
    async insert(row: GroupRow): Promise<void> {
      await db.insertInto('ks_group').values(row).execute();
    },
    async update(id: string, changes: Partial<GroupRow>): Promise<void> {
      await db.updateTable('ks_group').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_group').where('id', '=', id).execute();
    },
    async members(groupId: string): Promise<UserRow[]> {
      return db
        .selectFrom('ks_user_group')
        .innerJoin('ks_user', 'ks_user.id', 'ks_user_group.user_id')
        .selectAll('ks_user')
        .where('ks_user_group.group_id', '=', groupId)
        .orderBy('ks_user.name')
        .execute();
    },
    async memberIds(groupId: string): Promise<string[]> {
      const rows = await db.selectFrom('ks_user_group').select('user_id').where('group_id', '=', groupId).execute();
      return rows.map((r) => r.user_id);
    },
    async isMember(groupId: string, userId: string): Promise<boolean> {
      const r = await db.selectFrom('ks_user_group').select('user_id').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
      return r !== undefined;
    },
    async addMember(groupId: string, userId: string): Promise<void> {
      await db.insertInto('ks_user_group').values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.columns(['user_id', 'group_id']).doNothing()).execute();
    },
    async removeMember(groupId: string, userId: string): Promise<number> {
      const r = await db.deleteFrom('ks_user_group').where('group_id', '=', groupId).where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

export type UserRepo = ReturnType<typeof createUserRepo>;
export type GroupRepo = ReturnType<typeof createGroupRepo>;
