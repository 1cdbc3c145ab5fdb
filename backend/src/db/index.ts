import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type CompiledQuery,
  type Dialect,
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
} from 'kysely';
import type pg from 'pg';
import * as initial from './migrations/001_initial.js';
import * as optionSets from './migrations/002_option_sets.js';
import * as fairAdmission from './migrations/003_fair_admission.js';
import * as shares from './migrations/004_shares.js';
import * as autoRetry from './migrations/005_auto_retry.js';
import * as taskQueue from './migrations/006_task_queue.js';
import * as taskNode from './migrations/007_task_node.js';
import * as apiTokens from './migrations/008_api_tokens.js';
import * as userNode from './migrations/009_user_node.js';
import * as instances from './migrations/010_instances.js';
import * as taskCounts from './migrations/011_task_counts.js';
import * as optionSetLock from './migrations/012_option_set_lock.js';
import * as sharedSecrets from './migrations/013_shared_secrets.js';
import * as mustChangePassword from './migrations/014_must_change_password.js';
import type { Database } from './schema.js';
import { withNamedStatements, withStatementCache } from './statements.js';

export type Db = Kysely<Database>;
export type { Database } from './schema.js';

/** Migrations in order; a new one is a new numbered file added here. */
const migrations: Record<string, Migration> = {
  '001_initial': initial,
  '002_option_sets': optionSets,
  '003_fair_admission': fairAdmission,
  '004_shares': shares,
  '005_auto_retry': autoRetry,
  '006_task_queue': taskQueue,
  '007_task_node': taskNode,
  '008_api_tokens': apiTokens,
  '009_user_node': userNode,
  '010_instances': instances,
  '011_task_counts': taskCounts,
  '012_option_set_lock': optionSetLock,
  '013_shared_secrets': sharedSecrets,
  '014_must_change_password': mustChangePassword,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Which database to open: the embedded SQLite file (`:memory:` for a throwaway one) or PostgreSQL. */
export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

// PostgreSQL sends int8 (COUNT, bigint columns) and numeric (SUM of bigint) as text, since they can
// pass 2^53; the controller's values are byte counts and counts that do not, and SQLite gives numbers.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
function pgTypes(driver: typeof pg): pg.CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
      // biome-ignore lint/suspicious/noExplicitAny: pg's overloads take the format as a literal type.
      return driver.types.getTypeParser(oid, format as any);
    },
  } as pg.CustomTypesConfig;
}

/**
 * The PostgreSQL driver, loaded only when a PostgreSQL database is opened: a controller on its SQLite
 * file never loads it (its modules take about 1.5 MB of heap for nothing).
 */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}

/** The driver under each opened database, for `readArrays`. */
type Native =
  | { kind: 'sqlite'; sqlite: SQLite.Database; statements: Map<string, SQLite.Statement> }
  | { kind: 'postgres'; pool: pg.Pool };
const natives = new WeakMap<object, Native>();
/** Distinct list queries are a few dozen shapes (sort, order, filters); past this the cache starts over. */
const MAX_STATEMENTS = 200;

/**
 * Rows of a read as arrays of values in the select's order, for the reads that return thousands of
 * rows (the task list): the drivers then build no object per row (better-sqlite3's `raw()`, pg's
 * `rowMode: 'array'`), and each query shape is prepared once (a cached statement on SQLite, a named
 * prepared statement on PostgreSQL). SQLite's read waits for Kysely's connection like any query, so it
 * never runs inside another caller's open transaction. A transaction (or a database not opened here)
 * goes through Kysely.
 */
export async function readArrays(db: Kysely<Database>, query: CompiledQuery): Promise<unknown[][]> {
  const native = db.isTransaction ? undefined : natives.get(db);
  if (!native) {
    const { rows } = await db.executeQuery<Record<string, unknown>>(query);
    return rows.map((row) => Object.values(row));
  }
  if (native.kind === 'postgres') {
    const name = `r${createHash('sha1').update(query.sql).digest('hex').slice(0, 20)}`;
    const result = await native.pool.query<unknown[]>({
      name,
      text: query.sql,
      values: query.parameters as unknown[],
      rowMode: 'array',
    });
    return result.rows;
  }
  return db.connection().execute(async () => {
    let statement = native.statements.get(query.sql);
    if (!statement) {
      if (native.statements.size >= MAX_STATEMENTS) native.statements.clear();
      statement = native.sqlite.prepare(query.sql).raw(true);
      native.statements.set(query.sql, statement);
    }
    return statement.all(...query.parameters) as unknown[][];
  });
}

function sqliteDialect(file: string, onOpen: (sqlite: SQLite.Database) => void): Dialect {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  onOpen(sqlite);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database: withStatementCache(sqlite) });
}

async function postgresDialect(url: string, onOpen: (pool: pg.Pool) => void): Promise<Dialect> {
  const driver = await loadPg();
  const pool = new driver.Pool({
    connectionString: url,
    types: pgTypes(driver),
    max: 10,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection that drops (a restarted server) is replaced on the next query, not a crash.
  pool.on('error', () => undefined);
  onOpen(pool);
  return new PostgresDialect({ pool: withNamedStatements(pool) });
}

/**
 * Opens the controller's database (creating an SQLite file if needed) and brings its schema up to
 * date. A string is an SQLite file.
 */
export async function openDatabase(target: DatabaseTarget | string): Promise<Db> {
  const t: DatabaseTarget = typeof target === 'string' ? { kind: 'sqlite', file: target } : target;
  let native: Native | undefined;
  const dialect =
    t.kind === 'sqlite'
      ? sqliteDialect(t.file, (sqlite) => {
          native = { kind: 'sqlite', sqlite, statements: new Map() };
        })
      : await postgresDialect(t.url, (pool) => {
          native = { kind: 'postgres', pool };
        });
  const db = new Kysely<Database>({ dialect });
  if (native) natives.set(db, native);
  // Several instances starting at once: Kysely's Migrator takes a lock (an advisory lock on PostgreSQL).
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    // A database that cannot be reached keeps its code, so callers can tell it from a bad migration.
    if (!failed && error instanceof Error) throw error;
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}
