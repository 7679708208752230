import type { ImageDb } from './image-db.js';
import type { TaskRow } from './tables.js';

/** Import tasks (Glance `api_image_import` tasks). */
export function createTaskRepo(db: ImageDb) {
  return {
    async get(id: string): Promise<TaskRow | undefined> {
      return db.selectFrom('img_task').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async forImage(imageId: string): Promise<TaskRow[]> {
      return db.selectFrom('img_task').selectAll().where('image_id', '=', imageId).orderBy('created_at').execute();
    },
    async insert(row: TaskRow): Promise<void> {
      await db.insertInto('img_task').values(row).execute();
    },
    async update(id: string, changes: Partial<TaskRow>): Promise<void> {
      await db.updateTable('img_task').set(changes).where('id', '=', id).execute();
    },
    async unfinished(): Promise<TaskRow[]> {
      return db.selectFrom('img_task').selectAll().where('status', 'in', ['pending', 'processing']).execute();
    },
    /** Drops tasks that expired before `now`. */
    async purgeExpired(now: string): Promise<void> {
      await db.deleteFrom('img_task').where('expires_at', 'is not', null).where('expires_at', '<', now).execute();
    },
  };
}

export type TaskRepo = ReturnType<typeof createTaskRepo>;
