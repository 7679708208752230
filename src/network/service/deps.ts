import type { Transaction } from 'kysely';
import { inTransaction, isUniqueViolation, type DialectName } from '../../core/db/database.js';
import type { Log } from '../../core/log.js';
import type { Enforcer } from '../../core/policy/enforcer.js';
import type { NimbusConfig } from '../../runtime/config-schema.js';
import type { Change, NetworkBackend } from '../backend/backend.js';
import type { NetDb, NetworkTables } from '../db/tables.js';
import type { ComputeNotifier } from './compute-events.js';

export type NetworkConfig = NimbusConfig['network'];

/** What the networking service's functions need (convention 7: passed in, never imported). */
export interface NetworkDeps {
  db: NetDb;
  dialect: DialectName;
  config: NetworkConfig;
  log: Log;
  enforcer: Enforcer;
  backend: NetworkBackend;
  compute: ComputeNotifier;
}

export type Trx = Transaction<NetworkTables>;

/** Collects the changes of one transaction and shows each to the backend's precommit. */
export interface ChangeSink {
  emit(change: Change): Promise<void>;
  /** Runs after commit (e.g. compute notifications). */
  after(fn: () => void | Promise<void>): void;
}

export interface WriteOptions {
  /** Re-run the whole transaction this many times on a unique violation (e.g. a generated MAC or address collided). */
  uniqueRetries?: number;
}

/**
 * One write: a transaction in which changes are emitted (backend precommit),
 * then, after commit, the backend's postcommit for each change in order.
 * Serialization conflicts are retried by inTransaction; unique violations
 * when asked (the function must then be safe to re-run).
 */
export async function write<T>(deps: NetworkDeps, fn: (trx: Trx, sink: ChangeSink) => Promise<T>, options: WriteOptions = {}): Promise<T> {
  let changes: Change[] = [];
  let afters: Array<() => void | Promise<void>> = [];
  let result: T;
  for (let attempt = 0; ; attempt++) {
    changes = [];
    afters = [];
    try {
      result = await inTransaction(deps.db, async (trx) => {
        changes = [];
        afters = [];
        const sink: ChangeSink = {
          async emit(change) {
            changes.push(change);
            await deps.backend.precommit(change, trx);
          },
          after(fn) {
            afters.push(fn);
          },
        };
        return fn(trx, sink);
      });
      break;
    } catch (err) {
      if (attempt < (options.uniqueRetries ?? 0) && isUniqueViolation(err)) continue;
      throw err;
    }
  }
  for (const change of changes) {
    try {
      await deps.backend.postcommit(change);
    } catch (err) {
      deps.log.error({ err, kind: change.kind, action: change.action }, 'network backend postcommit failed');
    }
  }
  for (const fn of afters) {
    try {
      await fn();
    } catch (err) {
      deps.log.error({ err }, 'after-commit action failed');
    }
  }
  return result!;
}
