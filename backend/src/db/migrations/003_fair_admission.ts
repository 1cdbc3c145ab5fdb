import { type Kysely, sql } from 'kysely';

/**
 * `held_for`: set while the controller holds a download paused in aria2 until it may start (fair
 * sharing of aria2's slots), with the reason it waits: 'queue' (not yet decided), 'user_limit' or
 * 'slots'. NULL for a download the controller does not hold (running, admitted, paused by its owner,
 * finished). A new row starts held, so no path that adds a download can bypass the admission.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN held_for TEXT DEFAULT 'queue'`.execute(db);
  // Rows from before: aria2 already runs or queues them unheld, and a paused one was paused by its owner.
  await sql`UPDATE tasks SET held_for = NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks DROP COLUMN held_for`.execute(db);
}
