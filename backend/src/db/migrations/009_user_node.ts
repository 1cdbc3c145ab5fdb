import type { Kysely } from 'kysely';

/**
 * `node`: the download daemon a user lives on, chosen when the user is created and fixed from then on.
 * Every user so far lived on the one node, named `local` (as their tasks are, since 007).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('node', 'text', (col) => col.notNull().defaultTo('local'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('node').execute();
}
