import type { IdentityDb } from './identity-db.js';
import type { ConsumerRow } from './tables.js';

/** OS-OAUTH1 consumers. */
export function createConsumerRepo(db: IdentityDb) {
  return {
    get: (id: string): Promise<ConsumerRow | undefined> => db.selectFrom('ks_consumer').selectAll().where('id', '=', id).executeTakeFirst(),
    list: (): Promise<ConsumerRow[]> => db.selectFrom('ks_consumer').selectAll().orderBy('id').execute(),
    async insert(row: ConsumerRow): Promise<void> {
      await db.insertInto('ks_consumer').values(row).execute();
    },
    async update(id: string, changes: Partial<ConsumerRow>): Promise<void> {
      await db.updateTable('ks_consumer').set(changes).where('id', '=', id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom('ks_consumer').where('id', '=', id).execute();
    },
  };
}

export type ConsumerRepo = ReturnType<typeof createConsumerRepo>;
