import { type Kysely, sql } from 'kysely';

/**
 * Retry, continued: a task's place in its lineage and its auto-retry plan, stored so the plan survives
 * restarts of the controller and of aria2.
 * - `attempt`: 1 for a first try, one more for each retry of a planned task.
 * - `auto_retry`: the add's own number of automatic retries (NULL: the admin setting; 0: none, also
 *   what cancelling a plan sets).
 * - `next_retry_at`: when the scheduler retries the task; NULL when nothing is planned.
 * - `error_code`: aria2's errorCode of the failure (NULL for the controller's own reasons), which tells
 *   a passing failure from a lasting one (docs/auto-retry.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN auto_retry INTEGER`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN next_retry_at TEXT`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN error_code TEXT`.execute(db);
  await sql`CREATE INDEX tasks_next_retry ON tasks(next_retry_at) WHERE next_retry_at IS NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS tasks_next_retry`.execute(db);
  for (const column of ['error_code', 'next_retry_at', 'auto_retry', 'attempt']) {
    await sql`ALTER TABLE tasks DROP COLUMN ${sql.ref(column)}`.execute(db);
  }
}
