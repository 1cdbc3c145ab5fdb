import { type Kysely, sql } from 'kysely';

/**
 * `queue_position`: a waiting task's place among its owner's waiting tasks in aria2's queue (0 first),
 * as last read from aria2; NULL for a task that does not wait. Kept so a list shows aria2's real order
 * without asking aria2, and a reload after a move shows the move.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN queue_position INTEGER`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks DROP COLUMN queue_position`.execute(db);
}
