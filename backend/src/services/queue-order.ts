import type { Db } from '../db/index.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';

/**
 * Records aria2's queue order on the rows: each waiting task's place among its owner's waiting tasks
 * (0 first) in `waitingGids` (aria2's tellWaiting order, every user's downloads together); a task that
 * does not wait loses its place. Writes only what changed and returns the rows it changed.
 */
export async function recordQueuePositions(
  db: Db,
  waitingGids: readonly string[],
  /** The node whose queue `waitingGids` is (each daemon has its own); without: every row. */
  node?: string,
): Promise<TaskRow[]> {
  const rows = await repo.listQueueRows(db, node);
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
  return repo.setQueuePositions(db, new Map(changes.map((r) => [r.id, wanted.get(r.id) ?? null])));
}
