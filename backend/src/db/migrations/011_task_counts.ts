import { type Kysely, sql } from 'kysely';
import { createTaskCounter, dropTaskCounter } from '../dialect.js';

/**
 * How many tasks each owner has in each status, kept exact by triggers (dialect.ts,
 * `createTaskCounter`), so a list's total is a read of a few rows instead of a count of every task
 * of the owner. Rows are signed changes; their sum per owner and status is the count.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('task_counts')
    .addColumn('owner_id', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('task_counts_owner')
    .on('task_counts')
    .columns(['owner_id', 'status'])
    .execute();
  await sql`INSERT INTO task_counts (owner_id, status, n)
    SELECT owner_id, status, COUNT(*) FROM tasks GROUP BY owner_id, status`.execute(db);
  await createTaskCounter(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await dropTaskCounter(db);
  await db.schema.dropTable('task_counts').ifExists().execute();
}
