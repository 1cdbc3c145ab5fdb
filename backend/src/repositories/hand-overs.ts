import { sql } from 'kysely';
import { clockMs } from '../db/dialect.js';
import type { Db } from '../db/index.js';

/** A hand-over mark as a statement that inserts the marked rows writes it with them (`insertReplacements`). */
export interface StoredMark {
  holder: string;
  ttlMs: number;
  /** A test's clock; null: the database's. */
  now: number | null;
}

/**
 * Marks tasks as being handed over by `holder` for `ttlMs` (a mark of another holder is taken over), on
 * the database's clock (`now` null) or a test's.
 */
export async function markHandOvers(
  db: Db,
  taskIds: readonly number[],
  holder: string,
  ttlMs: number,
  now: number | null = null,
): Promise<void> {
  if (taskIds.length === 0) return;
  const expires_at = now === null ? sql<number>`${clockMs(db)} + ${ttlMs}` : now + ttlMs;
  await db
    .insertInto('hand_overs')
    .values(taskIds.map((task_id) => ({ task_id, holder, expires_at })))
    .onConflict((oc) =>
      oc.column('task_id').doUpdateSet((eb) => ({
        holder: eb.ref('excluded.holder'),
        expires_at: eb.ref('excluded.expires_at'),
      })),
    )
    .execute();
}

/** Removes `holder`'s marks of these tasks. */
export async function unmarkHandOvers(db: Db, taskIds: readonly number[], holder: string): Promise<void> {
  if (taskIds.length === 0) return;
  await db.deleteFrom('hand_overs').where('task_id', 'in', taskIds).where('holder', '=', holder).execute();
}

/** The marks of other holders that have not lapsed (lapsed marks are deleted on the way). */
export async function listOthersHandOvers(
  db: Db,
  holder: string,
  now: number | null = null,
): Promise<{ task_id: number; holder: string }[]> {
  await db.deleteFrom('hand_overs').where('expires_at', '<', clockMs(db, now)).execute();
  return db
    .selectFrom('hand_overs')
    .select(['task_id', 'holder'])
    .where('holder', '!=', holder)
    .where('expires_at', '>=', clockMs(db, now))
    .execute();
}
