import type { IdentityDb } from './identity-db.js';
import type { DomainConfigRow } from './tables.js';

/** Domain-specific configuration options, one row per (domain, group, option); values are JSON. */
export function createDomainConfigRepo(db: IdentityDb) {
  return {
    list: (domainId: string): Promise<DomainConfigRow[]> =>
      db.selectFrom('ks_domain_config').selectAll().where('domain_id', '=', domainId).orderBy('group_name').orderBy('option_name').execute(),
    async upsert(row: DomainConfigRow): Promise<void> {
      await db
        .insertInto('ks_domain_config')
        .values(row)
        .onConflict((oc) => oc.columns(['domain_id', 'group_name', 'option_name']).doUpdateSet({ value: row.value, sensitive: row.sensitive }))
        .execute();
    },
    async delete(domainId: string, group?: string, option?: string): Promise<void> {
      let q = db.deleteFrom('ks_domain_config').where('domain_id', '=', domainId);
      if (group !== undefined) q = q.where('group_name', '=', group);
      if (option !== undefined) q = q.where('option_name', '=', option);
      await q.execute();
    },
  };
}

export type DomainConfigRepo = ReturnType<typeof createDomainConfigRepo>;
