import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';

/**
 * A task's options live once per distinct set, keyed by the SHA-256 of their JSON, and rows reference
 * them: a batch of 1000 URIs with the same large headers stores those headers once, not 1000 times.
 * A set is deleted with the last row that references it (triggers, so user deletion's cascade too).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE option_sets (hash TEXT PRIMARY KEY, options TEXT NOT NULL)`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN option_set TEXT`.execute(db);
  const { rows } = await sql<{
    options: string;
  }>`SELECT DISTINCT options FROM tasks WHERE options <> '{}'`.execute(db);
  for (const { options } of rows) {
    const hash = createHash('sha256').update(options).digest('hex');
    await sql`INSERT OR IGNORE INTO option_sets (hash, options) VALUES (${hash}, ${options})`.execute(db);
    await sql`UPDATE tasks SET option_set = ${hash} WHERE options = ${options}`.execute(db);
  }
  await sql`ALTER TABLE tasks DROP COLUMN options`.execute(db);
  await sql`CREATE INDEX tasks_option_set ON tasks(option_set) WHERE option_set IS NOT NULL`.execute(db);
  await sql`CREATE TRIGGER option_sets_gc_delete AFTER DELETE ON tasks
    WHEN OLD.option_set IS NOT NULL
    BEGIN
      DELETE FROM option_sets WHERE hash = OLD.option_set
        AND NOT EXISTS (SELECT 1 FROM tasks WHERE option_set = OLD.option_set);
    END`.execute(db);
  await sql`CREATE TRIGGER option_sets_gc_update AFTER UPDATE OF option_set ON tasks
    WHEN OLD.option_set IS NOT NULL AND OLD.option_set IS NOT NEW.option_set
    BEGIN
      DELETE FROM option_sets WHERE hash = OLD.option_set
        AND NOT EXISTS (SELECT 1 FROM tasks WHERE option_set = OLD.option_set);
    END`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS option_sets_gc_update`.execute(db);
  await sql`DROP TRIGGER IF EXISTS option_sets_gc_delete`.execute(db);
  await sql`DROP INDEX IF EXISTS tasks_option_set`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}'`.execute(db);
  await sql`UPDATE tasks SET options = (SELECT options FROM option_sets WHERE hash = tasks.option_set)
    WHERE option_set IS NOT NULL`.execute(db);
  await sql`ALTER TABLE tasks DROP COLUMN option_set`.execute(db);
  await sql`DROP TABLE IF EXISTS option_sets`.execute(db);
}
