import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/core/db/database.js';

/**
 * Database URLs repository tests run against: always SQLite; PostgreSQL when
 * NIMBUS_TEST_POSTGRES_URL points at a server where the user may create
 * databases (CI sets it); MySQL likewise with NIMBUS_TEST_MYSQL_URL.
 */
export function testDialects(): Array<'sqlite' | 'postgres' | 'mysql'> {
  const out: Array<'sqlite' | 'postgres' | 'mysql'> = ['sqlite'];
  if (process.env['NIMBUS_TEST_POSTGRES_URL']) out.push('postgres');
  if (process.env['NIMBUS_TEST_MYSQL_URL']) out.push('mysql');
  return out;
}

/** A fresh, empty database of the dialect; `drop()` removes it. */
export async function freshDatabase(dialect: 'sqlite' | 'postgres' | 'mysql'): Promise<Database & { drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-db-'));
    const db = await openDatabase(`sqlite:${join(dir, 'test.db')}`);
    return { ...db, drop: async () => { await db.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const adminUrl = process.env[dialect === 'postgres' ? 'NIMBUS_TEST_POSTGRES_URL' : 'NIMBUS_TEST_MYSQL_URL']!;
  const name = `nimbus_test_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase(adminUrl, { poolSize: 1 });
  const { sql } = await import('kysely');
  await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), { poolSize: 5 });
  return {
    ...db,
    drop: async () => {
      await db.close();
      const a = await openDatabase(adminUrl, { poolSize: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS ${name}`).execute(a.db);
      await a.close();
    },
  };
}

/**
 * A URL for a fresh, empty database of the dialect (for a whole test cloud);
 * `drop()` removes it. SQLite gives `undefined`: the cloud's own file is fresh.
 */
export async function freshDatabaseUrl(dialect: 'sqlite' | 'postgres' | 'mysql'): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  if (dialect === 'sqlite') return { url: undefined, drop: async () => undefined };
  const adminUrl = process.env[dialect === 'postgres' ? 'NIMBUS_TEST_POSTGRES_URL' : 'NIMBUS_TEST_MYSQL_URL']!;
  const name = `nimbus_test_${randomBytes(6).toString('hex')}`;
  const { sql } = await import('kysely');
  const admin = await openDatabase(adminUrl, { poolSize: 1 });
  await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
  await admin.close();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = await openDatabase(adminUrl, { poolSize: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS ${name}`).execute(a.db);
      await a.close();
    },
  };
}
