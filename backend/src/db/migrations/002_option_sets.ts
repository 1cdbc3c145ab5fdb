import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { createOptionSetCollector, dropOptionSetCollector } from '../dialect.js';

interface OptionSets {
  option_sets: { hash: string; options: string };
}

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
    await (db as Kysely<OptionSets>)
      .insertInto('option_sets')
      .values({ hash, options })
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute();
    await sql`UPDATE tasks SET option_set = ${hash} WHERE options = ${options}`.execute(db);
  }
  await sql`ALTER TABLE tasks DROP COLUMN options`.execute(db);
  await sql`CREATE INDEX tasks_option_set ON tasks(option_set) WHERE option_set IS NOT NULL`.execute(db);
  await createOptionSetCollector(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropOptionSetCollector(db);
  await sql`DROP INDEX IF EXISTS tasks_option_set`.execute(db);
  await sql`ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}'`.execute(db);
  await sql`UPDATE tasks SET options = (SELECT options FROM option_sets WHERE hash = tasks.option_set)
    WHERE option_set IS NOT NULL`.execute(db);
  await sql`ALTER TABLE tasks DROP COLUMN option_set`.execute(db);
  await sql`DROP TABLE IF EXISTS option_sets`.execute(db);
}
