import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect } from 'kysely';
import * as initial from './migrations/001_initial.js';
import * as optionSets from './migrations/002_option_sets.js';
import * as fairAdmission from './migrations/003_fair_admission.js';
import * as shares from './migrations/004_shares.js';
import * as autoRetry from './migrations/005_auto_retry.js';
import * as taskQueue from './migrations/006_task_queue.js';
import * as taskNode from './migrations/007_task_node.js';
import * as apiTokens from './migrations/008_api_tokens.js';
import * as instances from './migrations/010_instances.js';
import type { Database } from './schema.js';

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
  '010_instances': instances,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Opens (creating if needed) the controller's SQLite database and brings its schema up to date. */
export async function openDatabase(file: string): Promise<Db> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return db;
}
