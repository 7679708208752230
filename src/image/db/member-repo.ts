import type { ImageDb } from './image-db.js';
import type { MemberRow, MemberStatus } from './tables.js';

/** Image members: projects an image is shared with, and whether they accepted. */
export function createMemberRepo(db: ImageDb) {
  return {
    async get(imageId: string, member: string): Promise<MemberRow | undefined> {
      return db.selectFrom('img_member').selectAll().where('image_id', '=', imageId).where('member', '=', member).executeTakeFirst();
    },
    async list(imageId: string): Promise<MemberRow[]> {
      return db.selectFrom('img_member').selectAll().where('image_id', '=', imageId).orderBy('created_at').orderBy('member').execute();
    },
    async count(imageId: string): Promise<number> {
      const r = await db.selectFrom('img_member').select((eb) => eb.fn.countAll<number>().as('n')).where('image_id', '=', imageId).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    /** Adds a pending member; throws a unique violation when it exists. */
    async insert(row: MemberRow): Promise<void> {
      await db.insertInto('img_member').values(row).execute();
    },
    async setStatus(imageId: string, member: string, status: MemberStatus, now: string): Promise<boolean> {
      const r = await db
        .updateTable('img_member')
        .set({ status, updated_at: now })
        .where('image_id', '=', imageId)
        .where('member', '=', member)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async delete(imageId: string, member: string): Promise<boolean> {
      const r = await db.deleteFrom('img_member').where('image_id', '=', imageId).where('member', '=', member).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}

export type MemberRepo = ReturnType<typeof createMemberRepo>;
