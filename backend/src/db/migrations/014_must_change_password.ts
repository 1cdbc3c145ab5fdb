import type { Kysely } from 'kysely';

/**
 * `must_change_password`: 1 while the user signs in with a password someone else chose (the generated
 * first-admin password, or one an admin set and asked them to replace); their own change clears it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('must_change_password', 'integer', (col) => col.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('must_change_password').execute();
}
