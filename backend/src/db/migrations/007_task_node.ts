import type { Kysely } from 'kysely';

/** `node`: the download daemon a task runs on; every task so far ran on the one named `local`. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('tasks')
    .addColumn('node', 'text', (col) => col.notNull().defaultTo('local'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').dropColumn('node').execute();
}
