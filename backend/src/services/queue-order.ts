import type { Db } from '../db/index.js';
import type { TaskRow } from '../repositories/tasks.js';

/**
 * Records aria2's queue order on the rows: each waiting task's place among its owner's waiting tasks
 * (0 first) in `waitingGids` (aria2's tellWaiting order, every user's downloads together); a task that
 * does not wait loses its place. Writes only what changed and returns the rows it changed.
 */
export async function recordQueuePositions(db: Db, waitingGids: readonly string[]): Promise<TaskRow[]> {
  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'owner_id', 'gid', 'status', 'queue_position'])
    .where((eb) => eb.or([eb('status', '=', 'waiting'), eb('queue_position', 'is not', null)]))
    .execute();
  if (rows.length === 0) return [];
  const place = new Map(waitingGids.map((gid, i) => [gid, i]));
  const wanted = new Map<number, number | null>();
  const byOwner = new Map<number, { id: number; at: number }[]>();
  for (const r of rows) {
    const at = r.status === 'waiting' && r.gid ? place.get(r.gid) : undefined;
    if (at === undefined) {
      wanted.set(r.id, null);
      continue;
    }
    const list = byOwner.get(r.owner_id) ?? [];
    list.push({ id: r.id, at });
    byOwner.set(r.owner_id, list);
  }
  for (const list of byOwner.values()) {
    list.sort((a, b) => a.at - b.at);
    for (const [i, e] of list.entries()) wanted.set(e.id, i);
  }
  const changes = rows.filter((r) => wanted.get(r.id) !== r.queue_position);
  if (changes.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const out: TaskRow[] = [];
    for (const r of changes) {
      const updated = await trx
        .updateTable('tasks')
        .set({ queue_position: wanted.get(r.id) ?? null })
        .where('id', '=', r.id)
        .returningAll()
        .executeTakeFirst();
      if (updated) out.push(updated);
    }
    return out;
  });
}
