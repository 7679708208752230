import { sql } from 'kysely';
import { isUniqueViolation } from '../../core/db/database.js';
import type { Db } from './resource-repo.js';

export class QuotaExceeded extends Error {
  constructor(
    readonly resource: string,
    readonly limit: number,
    readonly inUse: number,
    readonly requested: number,
  ) {
    super(`quota exceeded for ${resource}: limit ${limit}, in use ${inUse}, requested ${requested}`);
    this.name = 'QuotaExceeded';
  }
}

/**
 * Quota limits (per project and per class) and usage counters. Usage moves
 * only through `consume`: a conditional UPDATE per resource inside one
 * transaction, so concurrent creations can never together pass a limit.
 */
export function createQuotaRepo(db: Db) {
  async function ensureRows(projectId: string, resources: string[]): Promise<void> {
    const have = new Set(
      (await db.selectFrom('vol_quota_usages').select('resource').where('project_id', '=', projectId).where('resource', 'in', resources).execute()).map((r) => r.resource),
    );
    for (const resource of resources) {
      if (have.has(resource)) continue;
      try {
        await db.insertInto('vol_quota_usages').values({ project_id: projectId, resource, in_use: 0 }).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
  }

  return {
    async projectLimits(projectId: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('vol_quota_limits').selectAll().where('project_id', '=', projectId).execute();
      return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
    },
    async setProjectLimits(projectId: string, limits: Record<string, number>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const [resource, hard_limit] of Object.entries(limits)) {
          await trx.deleteFrom('vol_quota_limits').where('project_id', '=', projectId).where('resource', '=', resource).execute();
          await trx.insertInto('vol_quota_limits').values({ project_id: projectId, resource, hard_limit }).execute();
        }
      });
    },
    async deleteProjectLimits(projectId: string): Promise<void> {
      await db.deleteFrom('vol_quota_limits').where('project_id', '=', projectId).execute();
    },
    async classLimits(className: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('vol_quota_classes').selectAll().where('class_name', '=', className).execute();
      return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
    },
    async setClassLimits(className: string, limits: Record<string, number>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        for (const [resource, hard_limit] of Object.entries(limits)) {
          await trx.deleteFrom('vol_quota_classes').where('class_name', '=', className).where('resource', '=', resource).execute();
          await trx.insertInto('vol_quota_classes').values({ class_name: className, resource, hard_limit }).execute();
        }
      });
    },
    async usage(projectId: string): Promise<Record<string, number>> {
      const rows = await db.selectFrom('vol_quota_usages').selectAll().where('project_id', '=', projectId).execute();
      return Object.fromEntries(rows.map((r) => [r.resource, r.in_use]));
    },
    /**
     * Adds `deltas` to the project's usage atomically. Positive deltas are
     * checked against `limits` (a negative limit is unlimited); any failure
     * rolls every delta back and throws QuotaExceeded.
     */
    async consume(projectId: string, deltas: Record<string, number>, limits: Record<string, number>): Promise<void> {
      const entries = Object.entries(deltas).filter(([, d]) => d !== 0);
      if (!entries.length) return;
      await ensureRows(projectId, entries.map(([r]) => r));
      await db.transaction().execute(async (trx) => {
        for (const [resource, delta] of entries) {
          const limit = limits[resource] ?? -1;
          if (delta > 0 && limit >= 0) {
            const r = await trx
              .updateTable('vol_quota_usages')
              .set({ in_use: sql`in_use + ${delta}` })
              .where('project_id', '=', projectId)
              .where('resource', '=', resource)
              .where(sql`in_use + ${delta}`, '<=', limit)
              .executeTakeFirst();
            if (Number(r.numUpdatedRows) === 0) {
              const row = await trx.selectFrom('vol_quota_usages').select('in_use').where('project_id', '=', projectId).where('resource', '=', resource).executeTakeFirst();
              throw new QuotaExceeded(resource, limit, row?.in_use ?? 0, delta);
            }
          } else {
            await trx
              .updateTable('vol_quota_usages')
              .set({ in_use: sql`case when in_use + ${delta} < 0 then 0 else in_use + ${delta} end` })
              .where('project_id', '=', projectId)
              .where('resource', '=', resource)
              .execute();
          }
        }
      });
    },
  };
}
export type QuotaRepo = ReturnType<typeof createQuotaRepo>;
