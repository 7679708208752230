import type { IdentityDb } from './identity-db.js';
import type { AccessRuleRow, AppCredentialRow } from './tables.js';

/** Application credentials and the access rules they carry. */
export function createAppCredentialRepo(db: IdentityDb) {
  return {
    get: (id: string): Promise<AppCredentialRow | undefined> =>
      db.selectFrom('ks_app_credential').selectAll().where('id', '=', id).executeTakeFirst(),
    getByName: (userId: string, name: string): Promise<AppCredentialRow | undefined> =>
      db.selectFrom('ks_app_credential').selectAll().where('user_id', '=', userId).where('name', '=', name).executeTakeFirst(),
    list(userId: string, filters: { name?: string } = {}): Promise<AppCredentialRow[]> {
      let q = db.selectFrom('ks_app_credential').selectAll().where('user_id', '=', userId);
      if (filters.name !== undefined) q = q.where('name', '=', filters.name);
      return q.orderBy('created_at').orderBy('id').execute();
    },
    async insert(row: AppCredentialRow, ruleIds: string[]): Promise<void> {
      await db.insertInto('ks_app_credential').values(row).execute();
      for (const ruleId of ruleIds) {
        await db.insertInto('ks_app_credential_access_rule').values({ app_credential_id: row.id, access_rule_id: ruleId }).execute();
      }
    },
    async delete(id: string): Promise<number> {
      await db.deleteFrom('ks_app_credential_access_rule').where('app_credential_id', '=', id).execute();
      const r = await db.deleteFrom('ks_app_credential').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    /** Ids of the app credentials of a user, optionally only those on one project. */
    async idsFor(filter: { userId?: string; projectId?: string }): Promise<string[]> {
      let q = db.selectFrom('ks_app_credential').select('id');
      if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
      if (filter.projectId !== undefined) q = q.where('project_id', '=', filter.projectId);
      return (await q.execute()).map((r) => r.id);
    },

    getRule: (externalId: string): Promise<AccessRuleRow | undefined> =>
      db.selectFrom('ks_access_rule').selectAll().where('external_id', '=', externalId).executeTakeFirst(),
    findRule: (userId: string, rule: { service: string; path: string; method: string }): Promise<AccessRuleRow | undefined> =>
      db
        .selectFrom('ks_access_rule')
        .selectAll()
        .where('user_id', '=', userId)
        .where('service', '=', rule.service)
        .where('path', '=', rule.path)
        .where('method', '=', rule.method)
        .executeTakeFirst(),
    async insertRule(row: AccessRuleRow): Promise<void> {
      await db.insertInto('ks_access_rule').values(row).execute();
    },
    listRules(userId: string, filters: { service?: string; path?: string; method?: string } = {}): Promise<AccessRuleRow[]> {
      let q = db.selectFrom('ks_access_rule').selectAll().where('user_id', '=', userId);
      if (filters.service !== undefined) q = q.where('service', '=', filters.service);
      if (filters.path !== undefined) q = q.where('path', '=', filters.path);
      if (filters.method !== undefined) q = q.where('method', '=', filters.method);
      return q.orderBy('service').orderBy('path').execute();
    },
    rulesOf: (appCredId: string): Promise<AccessRuleRow[]> =>
      db
        .selectFrom('ks_app_credential_access_rule')
        .innerJoin('ks_access_rule', 'ks_access_rule.id', 'ks_app_credential_access_rule.access_rule_id')
        .selectAll('ks_access_rule')
        .where('ks_app_credential_access_rule.app_credential_id', '=', appCredId)
        .execute(),
    async ruleInUse(ruleId: string): Promise<boolean> {
      const r = await db.selectFrom('ks_app_credential_access_rule').select('app_credential_id').where('access_rule_id', '=', ruleId).executeTakeFirst();
      return r !== undefined;
    },
    async deleteRule(ruleId: string): Promise<void> {
      await db.deleteFrom('ks_access_rule').where('id', '=', ruleId).execute();
    },
    async deleteRulesOfUser(userId: string): Promise<void> {
      await db.deleteFrom('ks_access_rule').where('user_id', '=', userId).execute();
    },
  };
}

export type AppCredentialRepo = ReturnType<typeof createAppCredentialRepo>;
