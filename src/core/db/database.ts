import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Kysely,
  MysqlDialect,
  PostgresDialect,
  SqliteDialect,
  type Transaction,
  sql,
} from 'kysely';

export type DialectName = 'sqlite' | 'postgres' | 'mysql';

/**
 * A database handle. Services type their own tables with
 * `handle.db as Kysely<MyTables>`; the SQL they write must work on all three
 * dialects (portable column types: varchar/text/integer/bigint; booleans are
 * stored as 0/1 integers, JSON as text, timestamps as ISO-8601 text).
 */
export interface Database {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly db: Kysely<any>;
  readonly dialect: DialectName;
  readonly url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  poolSize?: number;
}

export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (url.startsWith('sqlite:')) return openSqlite(url);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pg = await import('pg');
    // Keep BIGINT (int8) as a JS number: our counters and sizes stay far below 2^53.
    pg.default.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.default.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', url, close: () => db.destroy() };
  }
  if (url.startsWith('mysql://')) {
    const mysql = await import('mysql2');
    const pool = mysql.createPool({ uri: url, connectionLimit: options.poolSize ?? 10, supportBigNumbers: true });
    const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
    return { db, dialect: 'mysql', url, close: () => db.destroy() };
  }
  throw new Error(`unsupported database url: ${redactUrl(url)} (use sqlite:PATH, postgres://… or mysql://…)`);
}

async function openSqlite(url: string): Promise<Database> {
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  const path = url.slice('sqlite:'.length) || ':memory:';
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const conn = new BetterSqlite3(path);
  // WAL lets readers proceed during a write; NORMAL sync is durable at checkpoints and
  // never corrupts; busy_timeout covers a second process (e.g. `nimbus db sync`) on the file.
  conn.pragma('journal_mode = WAL');
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: withStatementCache(conn) }) });
  return { db, dialect: 'sqlite', url, close: () => db.destroy() };
}

/**
 * Kysely prepares every query anew; preparing costs as much as running a
 * small query. Statements are reused per SQL text (bounded), which is safe
 * because Kysely runs one statement at a time on the connection (we never
 * stream, which would keep a statement busy).
 */
function withStatementCache<T extends { prepare(sql: string): unknown }>(conn: T, max = 2000): T {
  const cache = new Map<string, unknown>();
  const prepare = conn.prepare.bind(conn);
  return new Proxy(conn, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (sql: string) => {
        let stmt = cache.get(sql);
        if (stmt === undefined) {
          stmt = prepare(sql);
          if (cache.size >= max) cache.delete(cache.keys().next().value as string);
          cache.set(sql, stmt);
        }
        return stmt;
      };
    },
  });
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

/** True when the error is a unique/primary-key violation, on any dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  if (!e) return false;
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === '23505' ||
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062
  );
}

/** True when the error is a foreign-key violation, on any dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  if (!e) return false;
  return e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e.code === '23503' || e.errno === 1451 || e.errno === 1452;
}

function isRetryableConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | undefined;
  if (!e) return false;
  // serialization failure / deadlock (postgres), deadlock / lock wait (mysql), busy (sqlite, another process)
  return e.code === '40001' || e.code === '40P01' || e.errno === 1213 || e.errno === 1205 || e.code === 'SQLITE_BUSY';
}

/**
 * Runs `fn` in a transaction, retrying a few times when the database reports a
 * serialization conflict or deadlock. `fn` must not have side effects outside
 * the transaction (convention 3: side effects after commit).
 */
export async function inTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  retries = 5,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= retries || !isRetryableConflict(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * 2 ** attempt + Math.random() * 10));
    }
  }
}

/** `SELECT … FOR UPDATE` where the dialect has it (SQLite serialises writers anyway). */
export function supportsForUpdate(dialect: DialectName): boolean {
  return dialect !== 'sqlite';
}

export { sql };
