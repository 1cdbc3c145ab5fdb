import { sql } from 'kysely';
import { compiledOnce } from '../db/compiled.js';
import { dialectOf, forUpdate, greatest } from '../db/dialect.js';
import { CURRENT_STATUSES } from '../domain/task-status.js';
import type { Runner } from './tasks.js';

// A user's space: the counter of what their folder holds, partial bytes and reservations.

/**
 * The bytes of the owner's unfinished downloads still on disk (partial files count against the
 * quota), and what their current downloads reserve (each known size minus the bytes it already holds,
 * never negative; an unknown size is 0 and reserves nothing): one row, whatever the owner holds.
 */
function partialAndReserved(db: Runner, ownerId: number) {
  const current = sql.join(CURRENT_STATUSES.map((s) => sql`${s}`));
  return db
    .selectFrom('tasks')
    .select([
      sql<number>`COALESCE(SUM(CASE WHEN status != 'complete' THEN completed_length ELSE 0 END), 0)`.as(
        'partial',
      ),
      sql<number>`COALESCE(SUM(CASE WHEN status IN (${current}) AND total_length > completed_length
        THEN total_length - completed_length ELSE 0 END), 0)`.as('reserved'),
    ])
    .where('owner_id', '=', ownerId);
}

/** The user's quota and counter with their partial and reserved bytes, in one statement (see usedSpace). */
const readUserSpace = compiledOnce((db: Runner, ownerId: number) =>
  db
    .selectFrom('users')
    .innerJoin(partialAndReserved(db, ownerId).as('t'), (join) => join.onTrue())
    .select(['users.quota', 'users.used_space', 't.partial', 't.reserved'])
    .where('users.id', '=', ownerId),
);
const lockUser = compiledOnce((db: Runner, ownerId: number) =>
  forUpdate(db, db.selectFrom('users').select(['quota', 'used_space']).where('id', '=', ownerId)),
);
const readPartialAndReserved = compiledOnce(partialAndReserved);

/** Finished bytes and orphaned partial bytes held in the owner's folder outside any unfinished row. */
export async function addUsedSpace(db: Runner, ownerId: number, delta: number): Promise<void> {
  if (delta === 0) return;
  await db
    .updateTable('users')
    .set((eb) => ({ used_space: greatest(db, 0, sql`${eb.ref('used_space')} + ${delta}`) }))
    .where('id', '=', ownerId)
    .execute();
}

/** Used space of every user at once (the admin's list): the counter plus each one's partial bytes. */
export async function usedSpaceAll(db: Runner): Promise<Map<number, number>> {
  const partial = await db
    .selectFrom('tasks')
    .select((eb) => ['owner_id', eb.fn.sum<number>('completed_length').as('bytes')])
    .where('status', '!=', 'complete')
    .groupBy('owner_id')
    .execute();
  const users = await db.selectFrom('users').select(['id', 'used_space']).execute();
  const out = new Map(users.map((u) => [u.id, u.used_space]));
  for (const p of partial) out.set(p.owner_id, (out.get(p.owner_id) ?? 0) + Number(p.bytes));
  return out;
}

/**
 * A user's quota, the space their folder holds (finished files plus partial ones) and what their
 * current downloads reserve on top of it.
 */
export async function usedSpace(
  db: Runner,
  ownerId: number,
  /**
   * Lock the user's row until the transaction `db` ends (nothing else reserves meanwhile); `'held'`:
   * an earlier statement of `db` locked it already (a retry's claim).
   */
  lock: boolean | 'held' = false,
): Promise<{ quota: number; used: number; reserved: number } | undefined> {
  // PostgreSQL locks the user's row first and reads the bytes in a statement of its own: a statement
  // that waited for the lock still reads the tasks as they were when it began, so it would miss what
  // the transaction it waited for reserved. SQLite runs one transaction at a time: one statement.
  if (lock === true && dialectOf(db) === 'postgres') {
    const user = (await lockUser(db, ownerId)).rows[0];
    if (!user) return undefined;
    const bytes = (await readPartialAndReserved(db, ownerId)).rows[0]!;
    return {
      quota: user.quota,
      used: user.used_space + Number(bytes.partial),
      reserved: Number(bytes.reserved),
    };
  }
  const user = (await readUserSpace(db, ownerId)).rows[0];
  if (!user) return undefined;
  return { quota: user.quota, used: user.used_space + Number(user.partial), reserved: Number(user.reserved) };
}
