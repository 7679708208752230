import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';

export type Migrations = Record<string, Migration>;

/**
 * Each service owns its migrations and its own migration table
 * (`<service>_migrations`), so services evolve independently and a service
 * split into its own process migrates only its own tables. Names sort in
 * application order: `0001_initial`, `0002_…`.
 */
export async function migrateService(database: Database, service: string, migrations: Migrations): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    db: database.db,
    provider,
    migrationTableName: `${service}_migrations`,
    migrationLockTableName: `${service}_migrations_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`${service} migration ${failed?.migrationName ?? '?'} failed: ${String((error as Error).message ?? error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
