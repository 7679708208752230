import type { Kysely } from 'kysely';
import type { Database } from '../../core/db/database.js';
import type { IdentityTables } from './tables.js';

export type IdentityDb = Kysely<IdentityTables>;

export function identityDb(database: Database): IdentityDb {
  return database.db as IdentityDb;
}
