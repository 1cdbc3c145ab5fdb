import {
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type CreateTableBuilder,
  type Kysely,
  PostgresAdapter,
  type RawBuilder,
  sql,
} from 'kysely';

/**
 * Everything SQL that differs between SQLite and PostgreSQL, in one place: repositories and migrations
 * use these instead of writing it. Each helper learns the dialect from the Kysely instance (or
 * transaction) it is given, through `dialectOf`, and only that way.
 */

export type Dialect = 'sqlite' | 'postgres';

/** Any Kysely instance or transaction, whatever its tables. */
// biome-ignore lint/suspicious/noExplicitAny: the helpers serve every schema, including migrations'.
type AnyDb = Kysely<any>;

/** Which database `db` talks to, read from the adapter Kysely was built with. */
export function dialectOf(db: AnyDb): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

// ---- column types and schema ------------------------------------------------------------------------

/** A byte count or anything else that can pass 2^31 (SQLite's INTEGER holds 64 bits already). */
export function bigintType(db: AnyDb): ColumnDataType {
  return dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
}

/** Binary data (a .torrent file). */
export function blobType(db: AnyDb): ColumnDataType {
  return dialectOf(db) === 'postgres' ? 'bytea' : 'blob';
}

/** An integer id column that is never reused, not even the id of the row deleted last. */
export function addIdColumn<TB extends string, C extends string>(
  db: AnyDb,
  table: CreateTableBuilder<TB, C>,
): CreateTableBuilder<TB, C | 'id'> {
  if (dialectOf(db) === 'postgres') {
    // A sequence never hands out a number twice; "by default" lets a copy keep its ids.
    return table.addColumn('id', 'integer', (col) => col.primaryKey().generatedByDefaultAsIdentity());
  }
  return table.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement());
}

/**
 * A text column whose values are unique without regard to case (so "Alice" and "alice" are one name)
 * and compare that way. PostgreSQL gets a case-insensitive ICU collation, created once per database.
 */
export async function caseInsensitiveUniqueColumn(
  db: AnyDb,
): Promise<(col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder> {
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE COLLATION IF NOT EXISTS nocase
      (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`.execute(db);
    return (col) => col.unique().modifyFront(sql`COLLATE nocase`);
  }
  return (col) => col.unique().modifyEnd(sql`COLLATE NOCASE`);
}

/**
 * The garbage collection of option sets: a set is deleted with the last task row that references it,
 * whether the row is deleted (a user's cascade too) or given another set.
 * PostgreSQL: a transaction inserting a row that uses the set holds the set's row locked (the insert
 * writes it again, repositories/tasks.ts), so the collector locks it first and only then looks for
 * rows that use it, in a statement of its own and so with a snapshot taken after the lock: it sees
 * the new row once that transaction committed, and keeps the set.
 */
export async function createOptionSetCollector(db: AnyDb): Promise<void> {
  const unreferenced = sql`DELETE FROM option_sets WHERE hash = OLD.option_set
    AND NOT EXISTS (SELECT 1 FROM tasks WHERE option_set = OLD.option_set)`;
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE FUNCTION option_sets_gc() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM 1 FROM option_sets WHERE hash = OLD.option_set FOR UPDATE;
        ${unreferenced};
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER option_sets_gc_delete AFTER DELETE ON tasks FOR EACH ROW
      WHEN (OLD.option_set IS NOT NULL) EXECUTE FUNCTION option_sets_gc()`.execute(db);
    await sql`CREATE TRIGGER option_sets_gc_update AFTER UPDATE OF option_set ON tasks FOR EACH ROW
      WHEN (OLD.option_set IS NOT NULL AND OLD.option_set IS DISTINCT FROM NEW.option_set)
      EXECUTE FUNCTION option_sets_gc()`.execute(db);
    return;
  }
  await sql`CREATE TRIGGER option_sets_gc_delete AFTER DELETE ON tasks
    WHEN OLD.option_set IS NOT NULL
    BEGIN
      ${unreferenced};
    END`.execute(db);
  await sql`CREATE TRIGGER option_sets_gc_update AFTER UPDATE OF option_set ON tasks
    WHEN OLD.option_set IS NOT NULL AND OLD.option_set IS NOT NEW.option_set
    BEGIN
      ${unreferenced};
    END`.execute(db);
}

export async function dropOptionSetCollector(db: AnyDb): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`DROP TRIGGER IF EXISTS option_sets_gc_update ON tasks`.execute(db);
    await sql`DROP TRIGGER IF EXISTS option_sets_gc_delete ON tasks`.execute(db);
    await sql`DROP FUNCTION IF EXISTS option_sets_gc()`.execute(db);
    return;
  }
  await sql`DROP TRIGGER IF EXISTS option_sets_gc_update`.execute(db);
  await sql`DROP TRIGGER IF EXISTS option_sets_gc_delete`.execute(db);
}

/**
 * Keeps `task_counts` (owner_id, status, n) exact: every row inserted into or deleted from `tasks`, and
 * every change of a row's status or owner, adds signed rows to it in the same transaction, so the sum
 * of `n` per owner and status is always the real number of task rows. Only ever appended to (no row
 * is updated), so concurrent transactions never wait on one another for it; the repository folds the
 * rows of an owner together now and then (repositories/tasks.ts, `compactTaskCounts`).
 * PostgreSQL counts an INSERT or DELETE statement once (transition tables), a status change per row.
 */
export async function createTaskCounter(db: AnyDb): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE FUNCTION task_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO task_counts (owner_id, status, n)
          SELECT owner_id, status, COUNT(*) FROM new_rows GROUP BY owner_id, status;
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE FUNCTION task_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO task_counts (owner_id, status, n)
          SELECT owner_id, status, -COUNT(*) FROM old_rows GROUP BY owner_id, status;
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE FUNCTION task_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO task_counts (owner_id, status, n)
          VALUES (OLD.owner_id, OLD.status, -1), (NEW.owner_id, NEW.status, 1);
        RETURN NULL;
      END $$`.execute(db);
    await sql`CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION task_counts_insert()`.execute(db);
    await sql`CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION task_counts_delete()`.execute(db);
    await sql`CREATE TRIGGER task_counts_update AFTER UPDATE OF status, owner_id ON tasks FOR EACH ROW
      WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.owner_id IS DISTINCT FROM NEW.owner_id)
      EXECUTE FUNCTION task_counts_update()`.execute(db);
    return;
  }
  await sql`CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks
    BEGIN
      INSERT INTO task_counts (owner_id, status, n) VALUES (NEW.owner_id, NEW.status, 1);
    END`.execute(db);
  await sql`CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks
    BEGIN
      INSERT INTO task_counts (owner_id, status, n) VALUES (OLD.owner_id, OLD.status, -1);
    END`.execute(db);
  await sql`CREATE TRIGGER task_counts_update AFTER UPDATE OF status, owner_id ON tasks
    WHEN OLD.status IS NOT NEW.status OR OLD.owner_id IS NOT NEW.owner_id
    BEGIN
      INSERT INTO task_counts (owner_id, status, n)
        VALUES (OLD.owner_id, OLD.status, -1), (NEW.owner_id, NEW.status, 1);
    END`.execute(db);
}

export async function dropTaskCounter(db: AnyDb): Promise<void> {
  for (const name of ['task_counts_insert', 'task_counts_delete', 'task_counts_update']) {
    if (dialectOf(db) === 'postgres') {
      await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)} ON tasks`.execute(db);
      await sql`DROP FUNCTION IF EXISTS ${sql.raw(name)}()`.execute(db);
    } else {
      await sql`DROP TRIGGER IF EXISTS ${sql.raw(name)}`.execute(db);
    }
  }
}

// ---- locks ------------------------------------------------------------------------------------------

/**
 * Holds a lock named `name` until the transaction `trx` ends, so read-then-write steps under the same
 * name never interleave, on any instance: PostgreSQL takes an advisory transaction lock; SQLite runs one
 * writing transaction at a time already.
 */
export async function lockUntilCommit(trx: AnyDb, name: string): Promise<void> {
  if (dialectOf(trx) === 'postgres')
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${name}, 0))`.execute(trx);
}

/**
 * Runs `fn` while holding the lock `name`, so no other instance runs a step under the same name at the
 * same time; `fn` uses `db` as usual. PostgreSQL: an advisory lock held by a transaction of its own
 * for the duration; `fn`'s statements run on other connections, each committed on its own, so its
 * result is given as soon as it is done and the lock's COMMIT follows without being waited for (the
 * next holder waits for it in the server; a COMMIT that fails ends its session, which frees the lock
 * too). SQLite: one instance only, whose callers serialise the step themselves.
 */
export function whileLocked<T>(db: AnyDb, name: string, fn: () => Promise<T>): Promise<T> {
  if (dialectOf(db) !== 'postgres') return fn();
  // BEGIN and the lock in one round trip: a query without parameters may hold several statements.
  const literal = `'${name.replaceAll("'", "''")}'`;
  return new Promise<T>((resolve, reject) => {
    db.connection()
      .execute(async (conn) => {
        try {
          await sql.raw(`BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${literal}, 0))`).execute(conn);
          resolve(await fn());
        } catch (err) {
          // Outside a transaction (BEGIN itself failed) this only warns; on a lost connection it fails too.
          await sql
            .raw('ROLLBACK')
            .execute(conn)
            .catch(() => undefined);
          throw err;
        }
        await sql.raw('COMMIT').execute(conn);
      })
      // No connection, or `fn` failed; once `fn`'s result is given, a failed COMMIT changes nothing.
      .catch(reject);
  });
}

// ---- expressions ------------------------------------------------------------------------------------

/**
 * Epoch milliseconds on the database's clock, or `given` when a test supplies its own clock. Expiries
 * several instances compare (leases, hand-over marks) are written and compared on it, so the instances'
 * own clocks need not agree. SQLite has one instance, whose clock it is.
 */
export function clockMs(db: AnyDb, given: number | null = null): RawBuilder<number> {
  if (given !== null) return sql<number>`${given}`;
  return dialectOf(db) === 'postgres'
    ? sql<number>`(extract(epoch from now()) * 1000)::bigint`
    : sql<number>`${Date.now()}`;
}

/** The larger of two values (SQLite's MAX takes two arguments; PostgreSQL's is GREATEST). */
export function greatest<T>(db: AnyDb, a: unknown, b: unknown): RawBuilder<T> {
  return dialectOf(db) === 'postgres' ? sql<T>`GREATEST(${a}, ${b})` : sql<T>`MAX(${a}, ${b})`;
}

/**
 * An expression ordered and compared without regard to case, as SQLite's NOCASE does it (ASCII
 * letters folded, everything else by code point), whatever the PostgreSQL database's own collation.
 */
export function caseInsensitive<T>(db: AnyDb, expr: unknown): RawBuilder<T> {
  return dialectOf(db) === 'postgres' ? sql<T>`lower(${expr}) COLLATE "C"` : sql<T>`${expr} COLLATE NOCASE`;
}

/** `expr LIKE pattern` that ignores case (SQLite's LIKE does; PostgreSQL's ILIKE); `\` escapes. */
export function likeIgnoringCase(db: AnyDb, expr: unknown, pattern: string): RawBuilder<boolean> {
  return dialectOf(db) === 'postgres'
    ? sql<boolean>`${expr} ILIKE ${pattern} ESCAPE '\\'`
    : sql<boolean>`${expr} LIKE ${pattern} ESCAPE '\\'`;
}

/** The SQL types a `rowList` column may have (PostgreSQL types every column of a VALUES list). */
export type RowListType = 'integer' | 'bigint' | 'text' | 'double precision';

/**
 * A list of rows given inline, to join against (`FROM … WHERE t.id = v.id`): `table` is the FROM
 * item, `column(name)` one of its columns by the name given in `columns` (name -> SQL type, in order).
 */
export function rowList(
  db: AnyDb,
  alias: string,
  columns: Readonly<Record<string, RowListType>>,
  rows: readonly (readonly unknown[])[],
): { table: RawBuilder<unknown>; column(name: string): RawBuilder<unknown> } {
  const names = Object.keys(columns);
  const pg = dialectOf(db) === 'postgres';
  // PostgreSQL would read every parameter of a VALUES list as text: each value says its type.
  const value = (v: unknown, i: number) =>
    pg ? sql`CAST(${v} AS ${sql.raw(columns[names[i]!]!)})` : sql`${v}`;
  const values = sql.join(rows.map((row) => sql`(${sql.join(row.map(value))})`));
  return {
    // Both databases name the columns of a VALUES list column1, column2, …
    table: sql`(VALUES ${values}) AS ${sql.ref(alias)}`,
    column(name) {
      const i = names.indexOf(name);
      if (i < 0) throw new Error(`rowList ${alias} has no column ${name}`);
      return sql.ref(`${alias}.column${i + 1}`);
    },
  };
}

/**
 * What `RETURNING` names for every column of the updated table of an `UPDATE … FROM` (PostgreSQL's `*`
 * would add the FROM item's columns; SQLite takes no `table.*` there, and its `*` is the table's).
 */
export function allColumnsOf(db: AnyDb, table: string): RawBuilder<unknown> {
  return dialectOf(db) === 'postgres' ? sql`${sql.table(table)}.*` : sql`*`;
}

/**
 * A SELECT that locks the rows it reads until the transaction ends (PostgreSQL's FOR UPDATE), so a
 * check and the write that follows are one step across connections. SQLite runs one transaction at a
 * time and has no row locks: the query is left as it is.
 */
export function forUpdate<Q extends { forUpdate(): Q }>(db: AnyDb, query: Q): Q {
  return dialectOf(db) === 'postgres' ? query.forUpdate() : query;
}

// ---- errors -----------------------------------------------------------------------------------------

/** The database's error code of a failed statement, if it is one. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A UNIQUE constraint refused the write (a name taken between a check and the write). */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

/** Node's socket errors: PostgreSQL cannot be reached or dropped the connection. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * The database itself failed, not the statement's input. SQLite: any SQLITE_ code (busy, full,
 * corrupt, …). PostgreSQL: no connection, or SQLSTATE classes 08 (connection), 53 (resources), 57
 * (operator intervention: shutdown, cancelled), 58 (system) and XX (internal).
 */
export function isDatabaseFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code === undefined) {
    // pg's own errors for a lost or unobtainable connection carry no code.
    const message = err instanceof Error ? err.message : '';
    return /^Connection terminated|^timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    );
  }
  if (code.startsWith('SQLITE_')) return true;
  if (CONNECTION_CODES.has(code)) return true;
  return /^(08|53|57|58|XX)[0-9A-Z]{3}$/.test(code);
}
