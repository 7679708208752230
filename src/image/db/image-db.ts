import type { Kysely } from 'kysely';
import type { Database } from '../../core/db/database.js';
import type { ImageTables } from './tables.js';

export type ImageDb = Kysely<ImageTables>;

export function imageDb(database: Database): ImageDb {
  return database.db as ImageDb;
}
