import type { Db } from '../db/index.js';

/** Marks tasks as being handed over by `holder` until `expiresAt` (a mark of another holder is taken over). */
export async function markHandOvers(
  db: Db,
  taskIds: readonly number[],
  holder: string,
  expiresAt: number,
): Promise<void> {
  if (taskIds.length === 0) return;
  await db
    .insertInto('hand_overs')
    .values(taskIds.map((task_id) => ({ task_id, holder, expires_at: expiresAt })))
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
  now: number,
): Promise<{ task_id: number; holder: string }[]> {
  await db.deleteFrom('hand_overs').where('expires_at', '<', now).execute();
  return db
    .selectFrom('hand_overs')
    .select(['task_id', 'holder'])
    .where('holder', '!=', holder)
    .where('expires_at', '>=', now)
    .execute();
}
