import type { Db } from '../db/index.js';

/**
 * The shared value named `name`: `candidate` becomes it when none is stored yet, in one statement that
 * cannot overwrite one another instance stored first; then the stored value is read. Every instance
 * gets the same value, whichever offered its candidate first.
 */
export async function sharedSecret(db: Db, name: string, candidate: string): Promise<string> {
  await db
    .insertInto('secrets')
    .values({ name, value: candidate })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('secrets')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.value;
}
