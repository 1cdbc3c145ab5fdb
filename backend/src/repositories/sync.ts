import { addUsedSpace } from './space.js';
import { type Runner, type TaskPatch, type TaskRow, updateTask } from './tasks.js';

/** The sync engine's queries: the rows it looks at and the changes it writes, one transaction a pass. */

/** Rows that run or wait in the daemon (of one node, when named): what the progress pass follows. */
export function listRunningRows(db: Runner, node?: string): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('status', 'in', ['active', 'waiting'])
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .execute();
}

/** Whether anything runs or waits (on one node, when named): the progress pass runs only then. */
export async function hasRunningRow(db: Runner, node?: string): Promise<boolean> {
  const row = await db
    .selectFrom('tasks')
    .select('id')
    .where('status', 'in', ['active', 'waiting'])
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .limit(1)
    .executeTakeFirst();
  return !!row;
}

/** Rows (of one node, when named) whose download, or whose metadata download, has one of these gids. */
export function listRowsByGids(db: Runner, gids: readonly string[], node?: string): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where((eb) => eb.or([eb('gid', 'in', gids), eb('origin_gid', 'in', gids)]))
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .execute();
}

/** Writes the changes of one pass in one transaction, with each owner's used space; returns the rows. */
export function writeSyncPatches(
  db: Runner,
  items: readonly {
    row: Pick<TaskRow, 'id' | 'owner_id' | 'status'>;
    patch: TaskPatch;
    usedDelta?: number;
  }[],
): Promise<TaskRow[]> {
  return db.transaction().execute(async (trx) => {
    const out: TaskRow[] = [];
    for (const { row, patch, usedDelta } of items) {
      // A row whose status changed since the pass read it (a user's stop or pause in between) keeps
      // that change; the next pass reads it again. A finished download is recorded whatever happened.
      const updated =
        patch.status === 'complete'
          ? await updateTask(trx, row.id, patch)
          : await trx
              .updateTable('tasks')
              .set(patch)
              .where('id', '=', row.id)
              .where('status', '=', row.status)
              .returningAll()
              .executeTakeFirst();
      if (!updated) continue;
      if (usedDelta) await addUsedSpace(trx, row.owner_id, usedDelta);
      out.push(updated);
    }
    return out;
  });
}
