import { createHash } from 'node:crypto';
import {
  type ExpressionBuilder,
  type Insertable,
  type Selectable,
  sql,
  type Updateable,
  type WhereInterface,
} from 'kysely';
import type { Task } from '../contracts/tasks.js';
import { compiledOnce, compiledPerNames, rowOf, rowValues } from '../db/compiled.js';
import {
  allColumnsOf,
  caseInsensitive,
  clockMs,
  dialectOf,
  likeIgnoringCase,
  lockUntilCommit,
  rowList,
} from '../db/dialect.js';
import { type Db, readArrays } from '../db/index.js';
import type { Database, TasksTable } from '../db/schema.js';
import { WAITING_REASONS, type WaitingReason } from '../domain/admission.js';
import { publicMessage } from '../domain/messages.js';
import { CURRENT_STATUSES, HISTORY_STATUSES, isSeeding, type TaskStatus } from '../domain/task-status.js';
import { markHandOvers, type StoredMark } from './hand-overs.js';

export type TaskRow = Selectable<TasksTable>;
/** A row to insert: `options` (the JSON of the task's options) is stored once per distinct set. */
export type NewTaskRow = Insertable<TasksTable> & { options?: string };
export type TaskPatch = Updateable<TasksTable>;
/** The database or a transaction on it (a Kysely Transaction is a Kysely too). */
export type Runner = Db;

/** The columns a Task is made of: what a list reads, never the torrent file or the stored secrets. */
export const TASK_COLUMNS = [
  'id',
  'owner_id',
  'gid',
  'display_uri',
  'status',
  'name',
  'total_length',
  'completed_length',
  'download_speed',
  'upload_speed',
  'error',
  'created_at',
  'updated_at',
  'artifact_path',
  'artifact_token',
  'held_for',
  'attempt',
  'next_retry_at',
  'queue_position',
  'origin_gid',
  'info_hash',
] as const;
export type TaskView = Pick<TaskRow, (typeof TASK_COLUMNS)[number]>;

/** A row read as an array (`readArrays`): the values of TASK_COLUMNS, in that order. */
type Columns = typeof TASK_COLUMNS;
export type TaskValues = {
  -readonly [K in keyof Columns]: Columns[K] extends keyof TaskView ? TaskView[Columns[K]] : never;
};

/** The API's view of a row: credentials masked, internal columns dropped. */
export function toTask(row: TaskView): Task {
  return taskOfValues(TASK_COLUMNS.map((c) => row[c]) as unknown as TaskValues);
}

/**
 * `toTask` of a row read as an array: the list builds each task straight from the driver's values,
 * with no object per row in between (and the task's keys in the schema's order, as the encoder writes
 * them).
 */
export function taskOfValues(v: TaskValues): Task {
  const status = v[4] as TaskStatus;
  const uri = v[3];
  return {
    id: v[0],
    owner_id: v[1],
    gid: v[2],
    uri,
    status,
    name: v[5],
    total_length: v[6],
    completed_length: v[7],
    download_speed: v[8],
    upload_speed: v[9],
    error: v[10] === null ? null : publicMessage(v[10]),
    created_at: v[11],
    updated_at: v[12],
    artifact_path: v[13],
    artifact_token: v[14],
    waiting_reason: status === 'waiting' ? waitingReason(v[15]) : null,
    attempt: v[16],
    next_retry_at: v[17],
    position: status === 'waiting' ? v[18] : null,
    // A magnet runs first as aria2's metadata download; the task follows the real one afterwards.
    phase: status === 'active' && uri.startsWith('magnet:') && v[19] === null ? 'metadata' : null,
    seeding: isSeeding({ status, info_hash: v[20], total_length: v[6], completed_length: v[7] }),
  };
}

/** Why a waiting task waits: held by the fair admission (its reason), else in aria2's own queue. */
function waitingReason(heldFor: string | null): WaitingReason {
  return (WAITING_REASONS as readonly string[]).includes(heldFor ?? '')
    ? (heldFor as WaitingReason)
    : 'queue';
}

/** One of the owner's tasks, or undefined: ownership lives in the query. */
export function getTask(db: Runner, ownerId: number, id: number): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

const ownTasks = compiledOnce((db: Runner, ownerId: number, ids: readonly number[]) =>
  db.selectFrom('tasks').selectAll().where('owner_id', '=', ownerId).where('id', 'in', ids),
);

export async function getTasks(db: Runner, ownerId: number, ids: readonly number[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return (await ownTasks(db, ownerId, ids)).rows;
}

export function getTaskByToken(db: Runner, ownerId: number, token: string): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('artifact_token', '=', token)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

/** Rows by id whoever owns them: for hand-overs and the admission only, never for a request. */
export function getTasksAnyOwner(db: Runner, ids: readonly number[]): Promise<TaskRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('tasks').selectAll().where('id', 'in', ids).execute();
}

/**
 * Stores each distinct option set of `rows` once and gives the rows their reference. Runs in the
 * transaction that inserts the rows; an existing set is written again (the same value) so its row
 * stays locked until that transaction ends: the collector's delete of a set waits for the lock and then
 * sees the new rows (dialect.ts, `createOptionSetCollector`).
 */
async function withOptionSets(db: Runner, rows: NewTaskRow[]): Promise<Insertable<TasksTable>[]> {
  const sets = new Map<string, string>();
  const out = rows.map(({ options, ...row }) => {
    if (options === undefined) return row;
    if (options === '{}') return { ...row, option_set: null };
    const hash = createHash('sha256').update(options).digest('hex');
    sets.set(hash, options);
    return { ...row, option_set: hash };
  });
  if (sets.size > 0) {
    await db
      .insertInto('option_sets')
      .values([...sets].map(([hash, options]) => ({ hash, options })))
      .onConflict((oc) => oc.column('hash').doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash') })))
      .execute();
  }
  return out;
}

/** The options JSON of each row ('{}' for none), for handing it to aria2. */
export async function attachOptions<T extends Pick<TaskRow, 'option_set'>>(
  db: Runner,
  rows: readonly T[],
): Promise<(T & { options: string })[]> {
  const hashes = [...new Set(rows.flatMap((r) => (r.option_set ? [r.option_set] : [])))];
  const found = new Map<string, string>();
  for (let i = 0; i < hashes.length; i += 500) {
    const part = await db
      .selectFrom('option_sets')
      .select(['hash', 'options'])
      .where('hash', 'in', hashes.slice(i, i + 500))
      .execute();
    for (const s of part) found.set(s.hash, s.options);
  }
  return rows.map((r) => ({ ...r, options: (r.option_set && found.get(r.option_set)) || '{}' }));
}

/** Gives a row new options (stored once, like at an insert) together with other fields. */
export async function updateTaskOptions(
  db: Runner,
  id: number,
  options: string,
  patch: TaskPatch,
): Promise<TaskRow | undefined> {
  if (!db.isTransaction) return db.transaction().execute((trx) => updateTaskOptions(trx, id, options, patch));
  const [stored] = await withOptionSets(db, [{ options } as NewTaskRow]);
  return updateTask(db, id, { ...patch, option_set: stored!.option_set ?? null });
}

export async function insertTask(db: Runner, row: NewTaskRow): Promise<TaskRow> {
  if (!db.isTransaction) return db.transaction().execute((trx) => insertTask(trx, row));
  const [stored] = await withOptionSets(db, [row]);
  return db.insertInto('tasks').values(stored!).returningAll().executeTakeFirstOrThrow();
}

export async function insertTasks(db: Runner, newRows: NewTaskRow[]): Promise<TaskRow[]> {
  if (newRows.length === 0) return [];
  if (!db.isTransaction) return db.transaction().execute((trx) => insertTasks(trx, newRows));
  const rows = await withOptionSets(db, newRows);
  // SQLite caps bound parameters; 1000 rows of ~12 columns fit well under it in chunks of 200.
  const out: TaskRow[] = [];
  for (let i = 0; i < rows.length; i += 200) {
    const part = rows.slice(i, i + 200);
    const given = rowValues(part);
    out.push(
      ...(given
        ? (await insertRows(given.columns)(db, given.values)).rows
        : await db.insertInto('tasks').values(part).returningAll().execute()),
    );
  }
  return out;
}
const insertRows = compiledPerNames((columns) =>
  compiledOnce((db: Runner, values: readonly (readonly unknown[])[]) =>
    db
      .insertInto('tasks')
      .values(values.map((v) => rowOf(columns, v) as Insertable<TasksTable>))
      .returningAll(),
  ),
);

export async function updateTask(db: Runner, id: number, patch: TaskPatch): Promise<TaskRow | undefined> {
  return db.updateTable('tasks').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

export async function deleteTask(db: Runner, id: number): Promise<void> {
  await db.deleteFrom('tasks').where('id', '=', id).execute();
}

/**
 * How many current (queued, active, waiting, paused) tasks a user has; a seeding torrent is done for
 * its owner and not counted (the same rule as domain/task-status.ts's isSeeding).
 */
export async function countCurrentTasks(db: Runner, ownerId: number): Promise<number> {
  const row = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner_id', '=', ownerId)
    .where('status', 'in', CURRENT_STATUSES)
    .where(notSeeding)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Rows aria2 should be running or holding (on one node, when named): the sync engine's working set. */
export function listCurrentTasks(db: Runner, node?: string): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('status', 'in', CURRENT_STATUSES)
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .execute();
}

/** Rows that own a gid in any state, on one node when named (to tell owned aria2 entries from orphans). */
export async function listOwnedGids(db: Runner, node?: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('tasks')
    .select(['gid', 'origin_gid'])
    .where((eb) => eb.or([eb('gid', 'is not', null), eb('origin_gid', 'is not', null)]))
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .execute();
  const gids = new Set<string>();
  for (const r of rows) {
    if (r.gid) gids.add(r.gid);
    if (r.origin_gid) gids.add(r.origin_gid);
  }
  return gids;
}

export function listTasksByOwner(db: Runner, ownerId: number): Promise<TaskRow[]> {
  return db.selectFrom('tasks').selectAll().where('owner_id', '=', ownerId).execute();
}

/** What the Files API needs of every task of an owner: where each writes, and what each finished. */
export function listFolderTasks(
  db: Runner,
  ownerId: number,
): Promise<Pick<TaskRow, 'id' | 'status' | 'dir' | 'artifact_path' | 'completed_length'>[]> {
  return db
    .selectFrom('tasks')
    .select(['id', 'status', 'dir', 'artifact_path', 'completed_length'])
    .where('owner_id', '=', ownerId)
    .execute();
}

export function listHistoryTasks(db: Runner, ownerId: number, status?: TaskStatus): Promise<TaskRow[]> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('status', 'in', status ? HISTORY_STATUSES.filter((s) => s === status) : HISTORY_STATUSES)
    .where('replaced_by', 'is', null)
    .execute();
}

export interface ListFilter {
  view: 'current' | 'history' | 'all';
  status?: TaskStatus;
  q?: string;
  sort: 'created_at' | 'updated_at' | 'name' | 'size' | 'speed' | 'progress' | 'position';
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

const SORT_COLUMNS = {
  created_at: () => sql`created_at`,
  updated_at: () => sql`updated_at`,
  name: (db: Db) => caseInsensitive(db, sql`name`),
  size: () => sql`total_length`,
  speed: () => sql`download_speed`,
  progress: () =>
    sql`CASE WHEN total_length > 0 THEN CAST(completed_length AS DOUBLE PRECISION) / total_length ELSE 0 END`,
} as const;

/**
 * One page of the owner's tasks and the total that matches; indexed by (owner_id, status, created_at).
 * Only the Task columns are read: a page of uploaded torrents would otherwise load every .torrent file.
 */
export async function listTasks(
  db: Db,
  ownerId: number,
  f: ListFilter,
): Promise<{ rows: Task[]; total: number }> {
  let query = db.selectFrom('tasks').where('owner_id', '=', ownerId);
  if (f.view === 'current') query = query.where('status', 'in', CURRENT_STATUSES);
  if (f.view === 'history') query = query.where('status', 'in', HISTORY_STATUSES);
  if (f.status) query = query.where('status', '=', f.status);
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        likeIgnoringCase(db, eb.ref('name'), pattern),
        likeIgnoringCase(db, eb.ref('display_uri'), pattern),
      ]),
    );
  }
  // A search counts its matches; a view or status alone reads the kept counts (exact, and a few rows).
  const total = f.q
    ? Number(
        (await query.select((eb) => eb.fn.countAll<number>().as('total')).executeTakeFirstOrThrow()).total,
      )
    : countOf(await taskCounts(db, ownerId), f);
  // NULLs (no name, no queue place) sort first when ascending on both databases, as SQLite puts them.
  const direction = f.order === 'asc' ? sql`ASC NULLS FIRST` : sql`DESC NULLS LAST`;
  // aria2's queue order: running tasks first (newest first), then the waiting ones in their places,
  // then paused ones; `order` turns the whole list round.
  // Columns never null are ordered without NULLS …: PostgreSQL then walks the (owner_id, created_at,
  // id) index backwards for the newest page instead of sorting every row of the owner.
  const plain = f.order === 'asc' ? sql`ASC` : sql`DESC`;
  const sortBy =
    f.sort === 'position'
      ? sql`CASE status WHEN 'active' THEN 0 WHEN 'queued' THEN 1 WHEN 'waiting' THEN 2 ELSE 3 END ${direction}, queue_position ${direction}`
      : sql`${SORT_COLUMNS[f.sort](db)} ${f.sort === 'created_at' || f.sort === 'updated_at' ? plain : direction}`;
  const page = query
    .select(TASK_COLUMNS)
    .orderBy(sortBy)
    .orderBy(sql`id ${plain}`)
    .limit(f.limit)
    .offset(f.offset);
  // Rows as arrays straight into tasks: most of a long page's time was the drivers' row objects.
  const values = (await readArrays(db, page.compile())) as unknown as TaskValues[];
  return { rows: values.map(taskOfValues), total };
}

/** Past this many change rows for one owner, reading the counts folds them into one row per status. */
const COUNT_ROWS_BEFORE_COMPACTING = 64;

/** How many task rows the owner has in each status, from `task_counts` (migration 011). */
export async function taskCounts(db: Db, ownerId: number): Promise<Map<string, number>> {
  const query = db
    .selectFrom('task_counts')
    .select((eb) => ['status', eb.fn.sum<number>('n').as('n'), eb.fn.countAll<number>().as('rows')])
    .where('owner_id', '=', ownerId)
    .groupBy('status');
  // Read on every list request: prepared once, like the page.
  const rows = (await readArrays(db, query.compile())) as [string, number, number][];
  const counts = new Map<string, number>();
  let changeRows = 0;
  for (const [status, n, changes] of rows) {
    changeRows += Number(changes);
    if (Number(n) !== 0) counts.set(status, Number(n));
  }
  if (changeRows > COUNT_ROWS_BEFORE_COMPACTING) await compactTaskCounts(db, ownerId);
  return counts;
}

/**
 * The counts per status of several owners in one statement (the live hub's stats of every user due
 * together); owners with many change rows are folded as `taskCounts` does. Owners without rows get none.
 */
export async function taskCountsOf(
  db: Db,
  ownerIds: readonly number[],
): Promise<Map<number, Map<string, number>>> {
  const out = new Map<number, Map<string, number>>();
  const changeRows = new Map<number, number>();
  for (const part of chunks(ownerIds)) {
    if (part.length === 0) continue;
    const rows = await db
      .selectFrom('task_counts')
      .select((eb) => [
        'owner_id',
        'status',
        eb.fn.sum<number>('n').as('n'),
        eb.fn.countAll<number>().as('rows'),
      ])
      .where('owner_id', 'in', part)
      .groupBy(['owner_id', 'status'])
      .execute();
    for (const r of rows) {
      changeRows.set(r.owner_id, (changeRows.get(r.owner_id) ?? 0) + Number(r.rows));
      if (Number(r.n) === 0) continue;
      const counts = out.get(r.owner_id) ?? new Map<string, number>();
      counts.set(r.status, Number(r.n));
      out.set(r.owner_id, counts);
    }
  }
  for (const [ownerId, n] of changeRows)
    if (n > COUNT_ROWS_BEFORE_COMPACTING) await compactTaskCounts(db, ownerId);
  return out;
}

/**
 * Folds an owner's change rows into one per status (none for a status at 0). Only rows this
 * transaction sees are folded, and their sum is written back in the same statement or transaction,
 * so changes other transactions have not committed yet stay as they are and every sum stays exact.
 */
export async function compactTaskCounts(db: Db, ownerId: number): Promise<void> {
  if (!db.isTransaction) return db.transaction().execute((trx) => compactTaskCounts(trx, ownerId));
  // Two folds of one owner at once would be correct too, but the second would only wait.
  await lockUntilCommit(db, `task_counts:${ownerId}`);
  if (dialectOf(db) === 'postgres') {
    await sql`WITH folded AS (DELETE FROM task_counts WHERE owner_id = ${ownerId} RETURNING status, n)
        INSERT INTO task_counts (owner_id, status, n)
        SELECT ${ownerId}, status, SUM(n) FROM folded GROUP BY status HAVING SUM(n) <> 0`.execute(db);
    return;
  }
  // SQLite: one writer at a time, so a read and the rewrite are one step.
  const sums = await db
    .selectFrom('task_counts')
    .select((eb) => ['status', eb.fn.sum<number>('n').as('n')])
    .where('owner_id', '=', ownerId)
    .groupBy('status')
    .execute();
  await db.deleteFrom('task_counts').where('owner_id', '=', ownerId).execute();
  const kept = sums.filter((r) => Number(r.n) !== 0);
  if (kept.length > 0) {
    await db
      .insertInto('task_counts')
      .values(kept.map((r) => ({ owner_id: ownerId, status: r.status, n: Number(r.n) })))
      .execute();
  }
}

/** The number of rows a list filter without a search matches, from the owner's counts per status. */
function countOf(counts: ReadonlyMap<string, number>, f: Pick<ListFilter, 'view' | 'status'>): number {
  const view: readonly string[] | null =
    f.view === 'current' ? CURRENT_STATUSES : f.view === 'history' ? HISTORY_STATUSES : null;
  let total = 0;
  for (const [status, n] of counts) {
    if (view && !view.includes(status)) continue;
    if (f.status && f.status !== status) continue;
    total += n;
  }
  return total;
}

export async function speedTotals(
  db: Runner,
  ownerId: number,
): Promise<{ download_speed: number; upload_speed: number; active_count: number }> {
  const r = await db
    .selectFrom('tasks')
    .select((eb) => [
      eb.fn.coalesce(eb.fn.sum<number>('download_speed'), sql<number>`0`).as('download_speed'),
      eb.fn.coalesce(eb.fn.sum<number>('upload_speed'), sql<number>`0`).as('upload_speed'),
      eb.fn.countAll<number>().as('active_count'),
    ])
    .where('owner_id', '=', ownerId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return {
    download_speed: Number(r.download_speed),
    upload_speed: Number(r.upload_speed),
    active_count: Number(r.active_count),
  };
}

/**
 * Per owner, in one statement over their rows: speed totals and count of active rows (as
 * `speedTotals`), and the partial bytes and reservations of `space.ts`'s `partialAndReserved`.
 * Owners without rows get none.
 */
export async function speedAndSpaceOf(
  db: Runner,
  ownerIds: readonly number[],
): Promise<
  Map<
    number,
    { download_speed: number; upload_speed: number; active_count: number; partial: number; reserved: number }
  >
> {
  const current = sql.join(CURRENT_STATUSES.map((s) => sql`${s}`));
  const out = new Map<
    number,
    { download_speed: number; upload_speed: number; active_count: number; partial: number; reserved: number }
  >();
  for (const part of chunks(ownerIds)) {
    if (part.length === 0) continue;
    const rows = await db
      .selectFrom('tasks')
      .select([
        'owner_id',
        sql<number>`COALESCE(SUM(CASE WHEN status = 'active' THEN download_speed ELSE 0 END), 0)`.as(
          'download_speed',
        ),
        sql<number>`COALESCE(SUM(CASE WHEN status = 'active' THEN upload_speed ELSE 0 END), 0)`.as(
          'upload_speed',
        ),
        sql<number>`COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0)`.as('active_count'),
        sql<number>`COALESCE(SUM(CASE WHEN status != 'complete' THEN completed_length ELSE 0 END), 0)`.as(
          'partial',
        ),
        sql<number>`COALESCE(SUM(CASE WHEN status IN (${current}) AND total_length > completed_length
          THEN total_length - completed_length ELSE 0 END), 0)`.as('reserved'),
      ])
      .where('owner_id', 'in', part)
      .groupBy('owner_id')
      .execute();
    for (const r of rows) {
      out.set(r.owner_id, {
        download_speed: Number(r.download_speed),
        upload_speed: Number(r.upload_speed),
        active_count: Number(r.active_count),
        partial: Number(r.partial),
        reserved: Number(r.reserved),
      });
    }
  }
  return out;
}

/** Not a seeding torrent: the SQL of domain/task-status.ts's isSeeding, negated. */
function notSeeding(eb: ExpressionBuilder<Database, 'tasks'>) {
  return eb.not(
    eb.and([
      eb('status', '=', 'active'),
      eb('info_hash', 'is not', null),
      eb('total_length', '>', 0),
      eb('completed_length', '>=', eb.ref('total_length')),
    ]),
  );
}

/**
 * Active downloads that take a download slot (seeding torrents take none): a user's own, and those of
 * the node they live on. What the waiting reasons count.
 */
export async function countDownloading(
  db: Runner,
  ownerId: number,
  node: string,
): Promise<{ own: number; node: number }> {
  const r = await db
    .selectFrom('tasks')
    .select((eb) => [
      eb.fn.countAll<number>().as('node'),
      eb.fn.sum<number>(eb.case().when('owner_id', '=', ownerId).then(1).else(0).end()).as('own'),
    ])
    .where('status', '=', 'active')
    .where('node', '=', node)
    .where(notSeeding)
    .executeTakeFirstOrThrow();
  return { own: Number(r.own ?? 0), node: Number(r.node) };
}

/**
 * Active downloads that take a download slot, per node and owner, in one statement: what
 * `countDownloading` gives one user, for every user at once (a node's count is the sum of its owners').
 */
export async function downloadingByNode(db: Runner): Promise<Map<string, Map<number, number>>> {
  const rows = await db
    .selectFrom('tasks')
    .select((eb) => ['node', 'owner_id', eb.fn.countAll<number>().as('n')])
    .where('status', '=', 'active')
    .where(notSeeding)
    .groupBy(['node', 'owner_id'])
    .execute();
  const out = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const owners = out.get(r.node) ?? new Map<number, number>();
    owners.set(r.owner_id, Number(r.n));
    out.set(r.node, owners);
  }
  return out;
}

// ---- retry: claims and replacements in bulk, so a batch of 1000 is a handful of statements ----------

const CHUNK = 500;
/** A list in parts of at most `size`, so each statement stays within the parameter limits. */
export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Claims failed or stopped tasks for a retry (replaced_by = -1 until the new row exists). The
 * conditional update is what makes concurrent retries of one task exclusive. Returns the claimed ids.
 * On PostgreSQL each statement also locks the owner's row until the transaction `db` ends (one round
 * trip fewer than a lock of its own): whenever anything is claimed, the owner is locked, so the space
 * read after it (`usedSpace(db, ownerId, 'held')`) sees what a transaction it waited for reserved.
 */
export async function claimForRetry(
  db: Runner,
  ownerId: number,
  ids: readonly number[],
  plannedOnly = false,
): Promise<Set<number>> {
  const claimed = new Set<number>();
  const run = dialectOf(db) === 'postgres' ? claimLocking : claim;
  for (const part of chunks(ids)) {
    const { rows } = await run(db, ownerId, part, plannedOnly ? 1 : 0);
    for (const r of rows) claimed.add(r.id);
  }
  return claimed;
}
/** `planned` 1: only tasks with a plan (the scheduler's claim: a plan cancelled after it read the row is not retried). */
function claimQuery<Q extends WhereInterface<Database, 'tasks'>>(
  query: Q,
  ownerId: number,
  ids: readonly number[],
  planned: number,
): Q {
  return query
    .where('tasks.owner_id', '=', ownerId)
    .where('tasks.id', 'in', ids)
    .where('tasks.replaced_by', 'is', null)
    .where('tasks.status', 'in', ['error', 'removed'])
    .where((eb) => eb.or([eb(eb.val(planned), '=', 0), eb('tasks.next_retry_at', 'is not', null)])) as Q;
}
const claim = compiledOnce((db: Runner, ownerId: number, ids: readonly number[], planned: number) =>
  claimQuery(db.updateTable('tasks').set({ replaced_by: -1 }), ownerId, ids, planned).returning('tasks.id'),
);
const claimLocking = compiledOnce((db: Runner, ownerId: number, ids: readonly number[], planned: number) =>
  claimQuery(
    db
      .with('owner', (qb) => qb.selectFrom('users').select('id').where('id', '=', ownerId).forUpdate())
      .updateTable('tasks')
      .from('owner')
      .set({ replaced_by: -1 })
      .whereRef('tasks.owner_id', '=', 'owner.id'),
    ownerId,
    ids,
    planned,
  ).returning('tasks.id'),
);

const linkOne = compiledOnce((db: Runner, oldId: number, newId: number) =>
  db.updateTable('tasks').set({ replaced_by: newId }).where('id', '=', oldId),
);

/** Points each claimed old row at its new row: `[old id, new id]` pairs, one statement per chunk. */
export async function linkReplacements(
  db: Runner,
  pairs: readonly (readonly [number, number])[],
): Promise<void> {
  for (const part of chunks(pairs)) {
    if (part.length === 1) {
      const [oldId, newId] = part[0]!;
      await linkOne(db, oldId, newId);
      continue;
    }
    const v = rowList(db, 'v', { old: 'integer', fresh: 'integer' }, part);
    await sql`UPDATE tasks SET replaced_by = ${v.column('fresh')} FROM ${v.table}
      WHERE tasks.id = ${v.column('old')}`.execute(db);
  }
}

export interface ReplacementOutcome {
  newId: number;
  status: string;
  total_length: number;
  completed_length: number;
  error: string | null;
  finished_at: string | null;
}

/** Retry outcomes as rows of `outcomeList`. */
function outcomeRows(done: readonly ReplacementOutcome[]): (readonly unknown[])[] {
  return done.map((d) => [d.newId, d.status, d.total_length, d.completed_length, d.error, d.finished_at]);
}

/** Retry outcomes (`outcomeRows`) as a VALUES list `v` of the new rows' id and what aria2 said of them. */
function outcomeList(db: Runner, rows: readonly (readonly unknown[])[]) {
  return rowList(
    db,
    'v',
    {
      id: 'integer',
      status: 'text',
      total_length: 'bigint',
      completed_length: 'bigint',
      error: 'text',
      finished_at: 'text',
    },
    rows,
  );
}

/** The new rows take aria2's status and lose `retry_of`. */
function updateOutcomes(db: Runner, rows: readonly (readonly unknown[])[], now: string) {
  const v = outcomeList(db, rows);
  return sql`UPDATE tasks SET status = ${v.column('status')}, total_length = ${v.column('total_length')},
      completed_length = ${v.column('completed_length')}, error = ${v.column('error')},
      finished_at = ${v.column('finished_at')}, retry_of = NULL, updated_at = ${now}
    FROM ${v.table} WHERE tasks.id = ${v.column('id')}`;
}
const recordOutcomes = compiledOnce(updateOutcomes);

/** Finishes retries: the new rows take aria2's status and lose `retry_of`, the old rows go. */
export async function completeReplacements(
  db: Runner,
  done: readonly ReplacementOutcome[],
  oldIds: readonly number[],
  now: string,
): Promise<void> {
  for (const part of chunks(done, 200)) await recordOutcomes(db, outcomeRows(part), now);
  for (const part of chunks(oldIds)) await deleteRows(db, part);
}
const deleteRows = compiledOnce((db: Runner, ids: readonly number[]) =>
  db.deleteFrom('tasks').where('id', 'in', ids),
);

/**
 * Inserts the new rows of a retry (each with `retry_of`, inside the claim's transaction), points each
 * old row at its new one (`linkReplacements`) and writes `mark`, their hand-over mark, when given.
 * PostgreSQL does all three in one statement per chunk (a data-modifying WITH: the update sees the old
 * rows as they were, which is all it changes), two round trips fewer; SQLite runs them in-process.
 */
export async function insertReplacements(
  db: Runner,
  newRows: NewTaskRow[],
  mark: StoredMark | null = null,
): Promise<TaskRow[]> {
  if (dialectOf(db) !== 'postgres') {
    const fresh = await insertTasks(db, newRows);
    await linkReplacements(
      db,
      fresh.map((f) => [f.retry_of!, f.id] as const),
    );
    if (mark)
      await markHandOvers(
        db,
        fresh.map((f) => f.id),
        mark.holder,
        mark.ttlMs,
        mark.now,
      );
    return fresh;
  }
  const rows = await withOptionSets(db, newRows);
  const marks = mark ? [[mark.holder, mark.ttlMs, mark.now] as const] : [];
  const out: TaskRow[] = [];
  for (let i = 0; i < rows.length; i += 200) {
    const part = rows.slice(i, i + 200);
    const given = rowValues(part);
    out.push(
      ...(given
        ? (await insertAndLinkRows(given.columns)(db, given.values, marks)).rows
        : await insertAndLink(db, part, marks).execute()),
    );
  }
  return out as TaskRow[];
}
/** `marks`: none, or the one mark (holder, time to live, a test's clock or null) of every new row. */
function insertAndLink(
  db: Runner,
  rows: readonly Insertable<TasksTable>[],
  marks: readonly (readonly [string, number, number | null])[],
) {
  const linked = db
    .with('fresh', (qb) => qb.insertInto('tasks').values(rows).returningAll())
    .with('linked', (qb) =>
      qb
        .updateTable('tasks')
        .from('fresh')
        .set((eb) => ({ replaced_by: eb.ref('fresh.id') }))
        .whereRef('tasks.id', '=', 'fresh.retry_of'),
    );
  const [mark] = marks;
  // As markHandOvers writes it, on the database's clock unless a test gives its own.
  const marked = mark
    ? linked.with('marked', (qb) =>
        qb
          .insertInto('hand_overs')
          .columns(['task_id', 'holder', 'expires_at'])
          .expression((eb) =>
            eb
              .selectFrom('fresh')
              .select([
                'fresh.id',
                sql<string>`CAST(${mark[0]} AS text)`.as('holder'),
                sql<number>`COALESCE(CAST(${mark[2]} AS bigint), ${clockMs(db)}) + CAST(${mark[1]} AS bigint)`.as(
                  'expires_at',
                ),
              ]),
          )
          .onConflict((oc) =>
            oc.column('task_id').doUpdateSet((eb) => ({
              holder: eb.ref('excluded.holder'),
              expires_at: eb.ref('excluded.expires_at'),
            })),
          ),
      )
    : linked;
  return (marked as typeof linked).selectFrom('fresh').selectAll();
}
const insertAndLinkRows = compiledPerNames((columns) =>
  compiledOnce(
    (
      db: Runner,
      values: readonly (readonly unknown[])[],
      marks: readonly (readonly [string, number, number | null])[],
    ) =>
      insertAndLink(
        db,
        values.map((v) => rowOf(columns, v) as Insertable<TasksTable>),
        marks,
      ),
  ),
);

/** How many outcomes `completeReplacementsAtOnce` records in its one statement. */
const AT_ONCE = 200;

/**
 * Whether `completeReplacementsAtOnce` can record these: on PostgreSQL, which runs the update and the
 * delete as one statement (a data-modifying WITH), so they need no transaction and cost one round trip
 * instead of four; SQLite runs its few statements in-process, in a transaction.
 */
export function completesAtOnce(db: Runner, outcomes: number, oldIds: number): boolean {
  return dialectOf(db) === 'postgres' && outcomes > 0 && outcomes <= AT_ONCE && oldIds <= AT_ONCE;
}

/**
 * `completeReplacements` as one statement, atomic on its own (see `completesAtOnce`). `unmark`: the
 * hand-over marks of `holder` that go with it (the new rows' marks, when the database holds them), as
 * `unmarkStored` removes them in the transactional form.
 */
export async function completeReplacementsAtOnce(
  db: Runner,
  done: readonly ReplacementOutcome[],
  oldIds: readonly number[],
  now: string,
  unmark: { ids: readonly number[]; holder: string } | null = null,
): Promise<void> {
  await recordOutcomesAtOnce(db, outcomeRows(done), oldIds, now, unmark?.ids ?? [], unmark?.holder ?? '');
}
const recordOutcomesAtOnce = compiledOnce(
  (
    db: Runner,
    rows: readonly (readonly unknown[])[],
    oldIds: readonly number[],
    now: string,
    unmarkIds: readonly number[],
    holder: string,
  ) => {
    // The old rows are other rows than the new ones, so the two parts never touch one row twice.
    const gone =
      oldIds.length > 0
        ? sql`gone AS (DELETE FROM tasks WHERE id IN (${sql.join(oldIds)}) RETURNING id)`
        : null;
    const unmarked =
      unmarkIds.length > 0
        ? sql`unmarked AS (DELETE FROM hand_overs WHERE task_id IN (${sql.join(unmarkIds)})
            AND holder = ${holder} RETURNING task_id)`
        : null;
    const parts = [gone, unmarked].filter((p) => p !== null);
    const withParts = parts.length > 0 ? sql`WITH ${sql.join(parts)} ` : sql``;
    return sql`${withParts}${updateOutcomes(db, rows, now)}`;
  },
);

/** Undoes claims whose new download aria2 did not take: the new rows go, the old rows are free again. */
export async function undoReplacements(
  db: Runner,
  newIds: readonly number[],
  oldIds: readonly number[],
): Promise<void> {
  for (const part of chunks(newIds)) await db.deleteFrom('tasks').where('id', 'in', part).execute();
  for (const part of chunks(oldIds)) {
    await db.updateTable('tasks').set({ replaced_by: null }).where('id', 'in', part).execute();
  }
}

// ---- retry by filter and auto-retry plans ------------------------------------------------------------

/** The owner's newest task id (0 when none): a retry by filter stops there, so new tasks are not retried. */
export async function maxTaskId(db: Runner, ownerId: number): Promise<number> {
  const r = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.max<number | null>('id').as('max'))
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
  return Number(r?.max ?? 0);
}

/**
 * One chunk of the owner's retryable tasks (failed or stopped, not torrents, not being replaced) that
 * match a list filter, by ascending id in (after, upTo]. Only ids are read.
 */
export async function retryableIds(
  db: Runner,
  ownerId: number,
  f: { view?: 'current' | 'history' | 'all'; status?: TaskStatus; q?: string },
  after: number,
  upTo: number,
  limit: number,
): Promise<number[]> {
  let query = db
    .selectFrom('tasks')
    .select('id')
    .where('owner_id', '=', ownerId)
    .where('status', 'in', ['error', 'removed'])
    .where('replaced_by', 'is', null)
    .where('uri', '!=', '[torrent]')
    .where('id', '>', after)
    .where('id', '<=', upTo);
  if (f.view === 'current') query = query.where('status', 'in', CURRENT_STATUSES);
  if (f.status) query = query.where('status', '=', f.status);
  if (f.q) {
    const pattern = `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) =>
      eb.or([
        likeIgnoringCase(db, eb.ref('name'), pattern),
        likeIgnoringCase(db, eb.ref('display_uri'), pattern),
      ]),
    );
  }
  const rows = await query.orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

/** One of the owner's current tasks that already downloads this URI or info hash, if any. */
export async function findCurrentDuplicate(
  db: Runner,
  ownerId: number,
  uri: string | null,
  infoHash: string | null,
): Promise<number | undefined> {
  if (uri === null && infoHash === null) return undefined;
  const row = await db
    .selectFrom('tasks')
    .select('id')
    .where('owner_id', '=', ownerId)
    .where('status', 'in', CURRENT_STATUSES)
    .where('replaced_by', 'is', null)
    .where((eb) => {
      const ors = [];
      if (uri !== null) ors.push(eb('uri', '=', uri));
      if (infoHash !== null) ors.push(eb(sql`lower(info_hash)`, '=', infoHash.toLowerCase()));
      return eb.or(ors);
    })
    .orderBy('id')
    .executeTakeFirst();
  return row?.id;
}

/**
 * Failed rows that may be failures that pass (their aria2 code is one of `codes`, or `httpCode` with an
 * HTTP status in the message), with retries left and no plan yet: the scheduler plans them.
 */
export function listUnplanned(
  db: Runner,
  codes: readonly string[],
  httpCode: string,
  defaultAttempts: number,
): Promise<Pick<TaskRow, 'id' | 'owner_id' | 'attempt' | 'error_code' | 'error'>[]> {
  return db
    .selectFrom('tasks')
    .select(['id', 'owner_id', 'attempt', 'error_code', 'error'])
    .where('status', '=', 'error')
    .where('next_retry_at', 'is', null)
    .where('replaced_by', 'is', null)
    .where((eb) => eb.or([eb('error_code', 'in', codes), eb('error_code', '=', httpCode)]))
    .where(sql<boolean>`attempt <= COALESCE(auto_retry, ${defaultAttempts})`)
    .execute();
}

/** Ends a row's automatic retries: no plan, and none made again (auto_retry 0). */
export function endAutoRetry(
  db: Runner,
  id: number,
  ownerId: number,
  error?: string,
): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ next_retry_at: null, auto_retry: 0, ...(error !== undefined ? { error } : {}) })
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .where('replaced_by', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** Sets or clears a failed row's plan; only while it is still failed and not being replaced. */
export function setPlan(
  db: Runner,
  id: number,
  nextRetryAt: string | null,
  ownerId?: number,
): Promise<TaskRow | undefined> {
  let query = db
    .updateTable('tasks')
    .set({ next_retry_at: nextRetryAt })
    .where('id', '=', id)
    .where('replaced_by', 'is', null);
  if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
  return query.returningAll().executeTakeFirst();
}

/** Planned rows due at `now`: the scheduler retries them, grouped by owner. */
export function listDue(db: Runner, now: string, limit: number): Promise<Pick<TaskRow, 'id' | 'owner_id'>[]> {
  return db
    .selectFrom('tasks')
    .select(['id', 'owner_id'])
    .where('next_retry_at', 'is not', null)
    .where('next_retry_at', '<=', now)
    .where('replaced_by', 'is', null)
    .orderBy('next_retry_at')
    .limit(limit)
    .execute();
}

/** The earliest plan, to sleep until it. */
export async function nextPlanAt(db: Runner): Promise<string | null> {
  const r = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.min<string | null>('next_retry_at').as('next'))
    .where('next_retry_at', 'is not', null)
    .executeTakeFirst();
  return r?.next ?? null;
}

// ---- fair admission: which downloads the controller holds paused in aria2, and why -----------------

export type AdmissionRow = Pick<TaskRow, 'id' | 'owner_id' | 'gid' | 'origin_gid' | 'status' | 'held_for'>;

/** The current rows (of one node, when named), with just what the admission pass needs. */
export async function listAdmissionRows(db: Runner, node?: string): Promise<AdmissionRow[]> {
  return (await (node === undefined ? admissionRows(db) : admissionRowsOf(db, node))).rows;
}
function admissionRowsQuery(db: Runner) {
  return db
    .selectFrom('tasks')
    .select(['id', 'owner_id', 'gid', 'origin_gid', 'status', 'held_for'])
    .where('status', 'in', CURRENT_STATUSES);
}
const admissionRows = compiledOnce((db: Runner) => admissionRowsQuery(db));
const admissionRowsOf = compiledOnce((db: Runner, node: string) =>
  admissionRowsQuery(db).where('node', '=', node),
);

/**
 * Changes why a held row waits, or releases it (null); only while it is still held, so an owner's pause
 * that came first wins. Returns the row when it changed.
 */
export function updateHeld(db: Runner, id: number, heldFor: string | null): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ held_for: heldFor })
    .where('id', '=', id)
    .where('held_for', 'is not', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * `updateHeld` for many rows in one statement per chunk: each row's new reason (or null to release),
 * only while it is still held. Returns the rows that changed.
 */
export async function updateHeldMany(
  db: Runner,
  changes: readonly (readonly [id: number, heldFor: string | null])[],
): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (const part of chunks(changes)) out.push(...(await updateHeldRows(db, part)).rows);
  return out;
}
const updateHeldRows = compiledOnce(
  (db: Runner, changes: readonly (readonly [id: number, heldFor: string | null])[]) => {
    const v = rowList(db, 'v', { id: 'integer', held_for: 'text' }, changes);
    return sql<TaskRow>`UPDATE tasks SET held_for = ${v.column('held_for')}
      FROM ${v.table} WHERE tasks.id = ${v.column('id')} AND tasks.held_for IS NOT NULL
      RETURNING ${allColumnsOf(db, 'tasks')}`;
  },
);

/** What a hand-over records of one row: aria2's answer, or the reason it failed. */
export interface HandOverOutcome {
  id: number;
  /** The row's status when it was handed over: the outcome is recorded only while it still is. */
  was: string;
  gid: string | null;
  status: string;
  /** Null keeps the row's sizes (aria2 did not know them yet). */
  total_length: number | null;
  completed_length: number | null;
  error: string | null;
  finished_at: string | null;
}

/**
 * Records hand-overs in one statement per chunk; returns the rows as stored. A row gone meanwhile, or
 * whose status changed meanwhile (its owner stopped it), is not: that change stands.
 */
export async function recordHandOvers(
  db: Runner,
  outcomes: readonly HandOverOutcome[],
  now: string,
): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (const part of chunks(outcomes, 200)) {
    const v = rowList(
      db,
      'v',
      {
        id: 'integer',
        was: 'text',
        gid: 'text',
        status: 'text',
        total_length: 'bigint',
        completed_length: 'bigint',
        error: 'text',
        finished_at: 'text',
      },
      part.map((o) => [
        o.id,
        o.was,
        o.gid,
        o.status,
        o.total_length,
        o.completed_length,
        o.error,
        o.finished_at,
      ]),
    );
    const { rows } =
      await sql<TaskRow>`UPDATE tasks SET gid = ${v.column('gid')}, status = ${v.column('status')},
        total_length = COALESCE(${v.column('total_length')}, tasks.total_length),
        completed_length = COALESCE(${v.column('completed_length')}, tasks.completed_length),
        error = ${v.column('error')}, finished_at = ${v.column('finished_at')}, updated_at = ${now}
      FROM ${v.table} WHERE tasks.id = ${v.column('id')} AND tasks.status = ${v.column('was')}
      RETURNING ${allColumnsOf(db, 'tasks')}`.execute(db);
    out.push(...rows);
  }
  return out;
}

/** Marks rows held (undecided): downloads that wait paused in aria2 until the admission lets them start. */
export async function holdRows(db: Runner, ids: readonly number[]): Promise<void> {
  for (const part of chunks(ids))
    await db.updateTable('tasks').set({ held_for: 'queue' }).where('id', 'in', part).execute();
}

/** The owner pauses a held download: it is already paused in aria2, so only the row changes. */
export function pauseHeld(db: Runner, id: number, now: string): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ status: 'paused', held_for: null, download_speed: 0, upload_speed: 0, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'waiting')
    .where('held_for', 'is not', null)
    .returningAll()
    .executeTakeFirst();
}

/** The owner resumes a paused download: it waits, held, until the admission lets it start. */
export function resumeHeld(db: Runner, id: number, now: string): Promise<TaskRow | undefined> {
  return db
    .updateTable('tasks')
    .set({ status: 'waiting', held_for: 'queue', updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'paused')
    .returningAll()
    .executeTakeFirst();
}

// ---- the task services' own reads and writes: queue order, a user's waiting gids, retry repair ----

/** The gids of the owner's waiting downloads (to find their places in aria2's shared queue). */
export async function listWaitingGids(db: Runner, ownerId: number): Promise<Set<string | null>> {
  const rows = await db
    .selectFrom('tasks')
    .select('gid')
    .where('owner_id', '=', ownerId)
    .where('status', '=', 'waiting')
    .execute();
  return new Set(rows.map((r) => r.gid));
}

export type QueueRow = Pick<TaskRow, 'id' | 'owner_id' | 'gid' | 'status' | 'queue_position'>;

/** The rows (of one node, when named) that wait or still hold a queue place: what recording aria2's order looks at. */
export function listQueueRows(db: Runner, node?: string): Promise<QueueRow[]> {
  return db
    .selectFrom('tasks')
    .select(['id', 'owner_id', 'gid', 'status', 'queue_position'])
    .where((eb) => eb.or([eb('status', '=', 'waiting'), eb('queue_position', 'is not', null)]))
    .$if(node !== undefined, (q) => q.where('node', '=', node!))
    .execute();
}

/** Sets the queue places given (null: no place), in one transaction; returns the rows changed. */
export function setQueuePositions(
  db: Runner,
  places: ReadonlyMap<number, number | null>,
): Promise<TaskRow[]> {
  return db.transaction().execute(async (trx) => {
    const out: TaskRow[] = [];
    // One statement per chunk: thousands of downloads handed over at once all get a place.
    for (const part of chunks([...places])) {
      const v = rowList(trx, 'v', { id: 'integer', place: 'integer' }, part);
      const { rows } = await sql<TaskRow>`UPDATE tasks SET queue_position = ${v.column('place')}
        FROM ${v.table} WHERE tasks.id = ${v.column('id')}
        RETURNING ${allColumnsOf(trx, 'tasks')}`.execute(trx);
      out.push(...rows);
    }
    return out;
  });
}

/**
 * Undoes retries a crash interrupted: every new row still marked `retry_of` goes and its old task is
 * released; claims left without a new row are released too. Returns how many new rows went.
 */
export function repairInterruptedRetries(db: Db, running: readonly number[]): Promise<number> {
  // New rows another instance is handing over now (a retry under way there) are not interrupted ones.
  const busy = running.length === 0 ? [-1] : running;
  return db.transaction().execute(async (trx) => {
    const orphans = await trx
      .selectFrom('tasks')
      .select(['id', 'retry_of'])
      .where('retry_of', 'is not', null)
      .where('id', 'not in', busy)
      .execute();
    for (const row of orphans) {
      await deleteTask(trx, row.id);
      await trx.updateTable('tasks').set({ replaced_by: null }).where('id', '=', row.retry_of!).execute();
    }
    await trx
      .updateTable('tasks')
      .set({ replaced_by: null })
      .where('replaced_by', 'is not', null)
      .where('replaced_by', 'not in', busy)
      .execute();
    return orphans.length;
  });
}

/** One of the owner's tasks by its download's gid (or the metadata download's it started as). */
export function getTaskByGid(db: Runner, ownerId: number, gid: string): Promise<TaskRow | undefined> {
  return db
    .selectFrom('tasks')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where((eb) => eb.or([eb('gid', '=', gid), eb('origin_gid', '=', gid)]))
    .where('replaced_by', 'is', null)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** How many of the owner's tasks are in each status. */
export async function countByStatus(
  db: Runner,
  ownerId: number,
): Promise<Partial<Record<TaskStatus, number>>> {
  const rows = await db
    .selectFrom('tasks')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('owner_id', '=', ownerId)
    .where('replaced_by', 'is', null)
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * A page of the owner's tasks in the given statuses, without the torrent file: running ones newest
 * first, waiting ones in the daemon's queue order, finished ones oldest first (as aria2 lists them).
 */
export function listRowsByStatus(
  db: Runner,
  ownerId: number,
  statuses: readonly TaskStatus[],
  page: { offset: number; limit: number; newestFirst: boolean },
): Promise<(TaskView & Pick<TaskRow, 'dir' | 'node' | 'error_code' | 'option_set'>)[]> {
  const direction = page.newestFirst ? sql`DESC NULLS LAST` : sql`ASC NULLS FIRST`;
  return db
    .selectFrom('tasks')
    .select([...TASK_COLUMNS, 'dir', 'node', 'error_code', 'option_set'])
    .where('owner_id', '=', ownerId)
    .where('status', 'in', statuses)
    .where('replaced_by', 'is', null)
    .orderBy(
      sql`CASE status WHEN 'queued' THEN 1 WHEN 'waiting' THEN 0 ELSE 2 END, queue_position ${direction}, COALESCE(finished_at, created_at) ${direction}, id ${direction}`,
    )
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}
