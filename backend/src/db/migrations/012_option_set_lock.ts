import type { Kysely } from 'kysely';
import { createOptionSetCollector, dropOptionSetCollector } from '../dialect.js';

/**
 * The option sets' collector again, as dialect.ts now writes it: on PostgreSQL it locks a set before
 * it looks for rows that use it, so a set is never deleted under a task another transaction is
 * inserting with it. (SQLite's triggers come out the same.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await dropOptionSetCollector(db);
  await createOptionSetCollector(db);
}

export async function down(): Promise<void> {
  // The collector stays as it is: the earlier one differs only in the race it lost.
}
