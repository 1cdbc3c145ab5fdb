import { CompiledQuery } from 'kysely';
import { dialectOf, type RowListType } from '../db/dialect.js';
import { addUsedSpace } from './space.js';
import { chunks, type Runner, type TaskPatch, type TaskRow, updateTask } from './tasks.js';

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

/** A sync item: the row as the pass read it, its changes, and what its owner's used space grows by. */
export interface SyncWrite {
  row: Pick<TaskRow, 'id' | 'owner_id' | 'status'>;
  patch: TaskPatch;
  usedDelta?: number;
}

/** The columns a pass may write in a statement shared by many rows, with their SQL types. */
const SHARED_COLUMNS: Readonly<Record<string, RowListType>> = {
  gid: 'text',
  origin_gid: 'text',
  status: 'text',
  name: 'text',
  total_length: 'bigint',
  completed_length: 'bigint',
  download_speed: 'bigint',
  upload_speed: 'bigint',
  error: 'text',
  error_code: 'text',
  info_hash: 'text',
  held_for: 'text',
  finished_at: 'text',
  updated_at: 'text',
  artifact_path: 'text',
  artifact_token: 'text',
  counted_bytes: 'bigint',
};

const SHARED_KEYS = Object.keys(SHARED_COLUMNS);
const SHARED_BIT: ReadonlyMap<string, number> = new Map(SHARED_KEYS.map((k, i) => [k, 1 << i]));

/**
 * The set columns of a patch as bits of SHARED_KEYS (patches with the same bits share a statement):
 * 0 when it sets nothing, -1 when it sets a column outside SHARED_COLUMNS. A number, not a sorted list
 * of names: a pass of 1,000 rows made 1,000 arrays and strings for it, a tenth of its garbage.
 */
function sharedSignature(patch: TaskPatch): number {
  let bits = 0;
  for (const k in patch) {
    if ((patch as Record<string, unknown>)[k] === undefined) continue;
    const bit = SHARED_BIT.get(k);
    if (bit === undefined) return -1;
    bits |= bit;
  }
  return bits;
}

/** Rows written together per statement (a dozen parameters each). */
const SHARED_CHUNK = 200;

/**
 * Writes the changes of one pass in one transaction, with each owner's used space; returns the rows.
 * A row whose status changed since the pass read it (a user's stop or pause in between) keeps that
 * change; the next pass reads it again. A finished download is recorded whatever happened.
 * The once-a-second progress of many downloads changes the same columns of every row: rows with the
 * same columns are written in one `UPDATE … FROM (VALUES …)` per chunk rather than one each.
 */
export function writeSyncPatches(db: Runner, items: readonly SyncWrite[]): Promise<TaskRow[]> {
  if (items.length === 0) return Promise.resolve([]);
  return db.transaction().execute(async (trx) => {
    const byId = new Map<number, TaskRow>();
    const groups = new Map<number, SyncWrite[]>();
    for (const item of items) {
      const signature = sharedSignature(item.patch);
      if (signature === 0) continue;
      if (item.patch.status === 'complete' || item.usedDelta || signature < 0) {
        const updated = await writeOne(trx, item);
        if (updated) byId.set(updated.id, updated);
        continue;
      }
      const group = groups.get(signature);
      if (group) group.push(item);
      else groups.set(signature, [item]);
    }
    for (const [signature, group] of groups) {
      const keys = SHARED_KEYS.filter((_, i) => signature & (1 << i));
      for (const part of chunks(group, SHARED_CHUNK)) {
        for (const row of await writeShared(trx, keys, part)) byId.set(row.id, row);
      }
    }
    // In the order given, as the one-by-one writes were.
    return items.map((i) => byId.get(i.row.id)).filter((r): r is TaskRow => r !== undefined);
  });
}

async function writeOne(trx: Runner, { row, patch, usedDelta }: SyncWrite): Promise<TaskRow | undefined> {
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
  if (updated && usedDelta) await addUsedSpace(trx, row.owner_id, usedDelta);
  return updated;
}

/**
 * The text of `writeShared`'s statement for one shape (dialect, columns, rows), made once: building it
 * through Kysely's `sql` fragments cost a fragment per value and their compilation on every pass, more
 * CPU than SQLite's own work for 1,000 rows (a few dozen shapes at most: chunk sizes × column sets).
 */
const sharedTexts = new Map<string, string>();
const MAX_SHARED_TEXTS = 100;

function sharedText(postgres: boolean, keys: readonly string[], rows: number): string {
  const shape = `${postgres ? 'pg' : 'sqlite'}|${keys.join(',')}|${rows}`;
  let text = sharedTexts.get(shape);
  if (text !== undefined) return text;
  const types: RowListType[] = ['integer', 'text', ...keys.map((k) => SHARED_COLUMNS[k]!)];
  let n = 0;
  // PostgreSQL would read every parameter of a VALUES list as text: each value says its type.
  const value = (type: RowListType) => (postgres ? `CAST($${++n} AS ${type})` : '?');
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) tuples.push(`(${types.map(value).join(', ')})`);
  // Both databases name the columns of a VALUES list column1, column2, …; id and the status read first.
  const set = keys.map((k, i) => `"${k}" = "v"."column${i + 3}"`).join(', ');
  // PostgreSQL's `*` would add the VALUES list's columns; SQLite takes no `tasks.*` there.
  const returning = postgres ? '"tasks".*' : '*';
  text = `UPDATE "tasks" SET ${set} FROM (VALUES ${tuples.join(', ')}) AS "v"
    WHERE "tasks"."id" = "v"."column1" AND "tasks"."status" = "v"."column2" RETURNING ${returning}`;
  if (sharedTexts.size >= MAX_SHARED_TEXTS) sharedTexts.clear();
  sharedTexts.set(shape, text);
  return text;
}

/** Rows whose patches set the same columns (`keys`), in one statement, each only if its status held. */
async function writeShared(trx: Runner, keys: readonly string[], part: readonly SyncWrite[]) {
  const parameters: unknown[] = [];
  for (const { row, patch } of part) {
    parameters.push(row.id, row.status);
    for (const k of keys) parameters.push((patch as Record<string, unknown>)[k] ?? null);
  }
  const text = sharedText(dialectOf(trx) === 'postgres', keys, part.length);
  const { rows } = await trx.executeQuery<TaskRow>(CompiledQuery.raw(text, parameters));
  return rows;
}
