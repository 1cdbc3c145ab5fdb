// `npm run migrate-to-postgres [-- --from <sqlite file>] [--to <postgres url>]`: copies the controller's
// SQLite database into an empty PostgreSQL database (docs/scale-out.md, "Moving from SQLite").
//
// The source is read from a snapshot (SQLite's online backup) brought to the current schema with the
// project's migrations, so the file itself is never written. The target is migrated the same way,
// must hold no rows, and receives every table in foreign-key order, in batches, inside one
// transaction; the id counters are then set past the highest ids ever handed out, and each table's
// rows are counted on both sides.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import SQLite from 'better-sqlite3';
import { type Kysely, sql } from 'kysely';
import { loadConfig } from '../src/config/index.js';
import { openDatabase } from '../src/db/index.js';

/**
 * Kysely's own bookkeeping: the target's is written by its migrations, not copied. Nor are the kept
 * task counts: the target's triggers count the task rows as they are copied in.
 */
const SKIPPED = /^(sqlite_|kysely_|task_counts$)/;
/** PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 60_000;

export class MigrateError extends Error {}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface MigrateOptions {
  /** The SQLite file to copy. */
  from: string;
  /** postgres:// or postgresql:// URL of an empty database. */
  to: string;
  /** Where progress lines go (never a password). */
  log?: (line: string) => void;
}

/** The URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(the PostgreSQL URL)';
  }
}

/** A message with the URL's password (and the URL, where it appears whole) taken out. */
function scrub(message: string, url: string): string {
  let out = message.split(url).join(redactUrl(url));
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) out = out.split(password).join('***');
  } catch {
    // not a URL: nothing to take out
  }
  return out;
}

const quoteSqlite = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Tables in an order where every table comes after the tables its foreign keys point at. */
function dependencyOrder(source: SQLite.Database, tables: readonly string[]): string[] {
  const deps = new Map<string, Set<string>>();
  for (const t of tables) {
    const fks = source.prepare(`PRAGMA foreign_key_list(${quoteSqlite(t)})`).all() as { table: string }[];
    deps.set(t, new Set(fks.map((f) => f.table).filter((p) => p !== t && tables.includes(p))));
  }
  const done: string[] = [];
  const visiting = new Set<string>();
  const visit = (t: string) => {
    if (done.includes(t)) return;
    if (visiting.has(t)) throw new MigrateError(`The foreign keys of table ${t} form a cycle`);
    visiting.add(t);
    for (const p of deps.get(t) ?? []) visit(p);
    visiting.delete(t);
    done.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return done;
}

/** better-sqlite3 reads integers exactly as bigint; pg takes a number, or text past 2^53. */
function toPostgres(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

async function countRows(db: Kysely<unknown>, table: string): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Copies `from` into `to`; resolves to the row counts per table, or throws a MigrateError. */
export async function migrateToPostgres(options: MigrateOptions): Promise<TableCount[]> {
  const log = options.log ?? (() => undefined);
  const from = path.resolve(options.from);
  if (!/^postgres(ql)?:\/\//.test(options.to)) {
    throw new MigrateError('The target must be a postgres:// or postgresql:// URL (--to or DATABASE_URL)');
  }
  if (!fs.existsSync(from)) throw new MigrateError(`There is no SQLite database at ${from}`);

  // A consistent snapshot of the source, migrated to the schema the target gets.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-to-postgres-'));
  const snapshot = path.join(tmp, 'snapshot.db');
  let source: SQLite.Database | null = null;
  let target: Kysely<unknown> | null = null;
  try {
    const original = new SQLite(from, { readonly: true, fileMustExist: true });
    try {
      await original.backup(snapshot);
    } finally {
      original.close();
    }
    await (await openDatabase({ kind: 'sqlite', file: snapshot })).destroy();
    source = new SQLite(snapshot, { readonly: true });
    source.defaultSafeIntegers(true);

    log(`Copying ${from} into ${redactUrl(options.to)}`);
    target = (await openDatabase({ kind: 'postgres', url: options.to })) as unknown as Kysely<unknown>;

    const tables = (
      source.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
        name: string;
      }[]
    )
      .map((r) => r.name)
      .filter((n) => !SKIPPED.test(n));
    const targetColumns = new Map<string, Set<string>>();
    const { rows: cols } = await sql<{ table_name: string; column_name: string }>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema()`.execute(target);
    for (const c of cols) {
      if (SKIPPED.test(c.table_name)) continue;
      if (!targetColumns.has(c.table_name)) targetColumns.set(c.table_name, new Set());
      targetColumns.get(c.table_name)!.add(c.column_name);
    }

    // Refuse a target that holds anything: the copy keeps every id, and would collide or mix.
    for (const table of [...targetColumns.keys()].sort()) {
      const n = await countRows(target, table);
      if (n > 0) {
        throw new MigrateError(
          `The target database is not empty (table ${table} has ${n} row${n === 1 ? '' : 's'}): copy into a new, empty database`,
        );
      }
    }

    const order = dependencyOrder(source, tables);
    const columnsOf = new Map<string, string[]>();
    for (const table of order) {
      const have = targetColumns.get(table);
      if (!have)
        throw new MigrateError(`Table ${table} of the SQLite database is not in the target's schema`);
      const names = (
        source.prepare(`PRAGMA table_info(${quoteSqlite(table)})`).all() as { name: string }[]
      ).map((c) => c.name);
      const missing = names.filter((n) => !have.has(n));
      if (missing.length > 0) {
        throw new MigrateError(
          `Column ${table}.${missing[0]} of the SQLite database is not in the target's schema`,
        );
      }
      columnsOf.set(table, names);
    }
    // The highest id each AUTOINCREMENT table ever handed out, deleted rows included.
    const hasSequence = source.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`).get();
    const handedOut = new Map<string, number>(
      hasSequence
        ? (
            source.prepare('SELECT name, seq FROM sqlite_sequence').all() as { name: string; seq: bigint }[]
          ).map((r) => [r.name, Number(r.seq)])
        : [],
    );

    const counts: TableCount[] = [];
    await target.transaction().execute(async (trx) => {
      for (const table of order) {
        const names = columnsOf.get(table)!;
        const batchSize = Math.max(1, Math.floor(MAX_PARAMETERS / names.length));
        const select = source!.prepare(
          `SELECT ${names.map(quoteSqlite).join(', ')} FROM ${quoteSqlite(table)}`,
        );
        let batch: Record<string, unknown>[] = [];
        let copied = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          // biome-ignore lint/suspicious/noExplicitAny: the tables are read from the database, not typed.
          await (trx as Kysely<any>).insertInto(table).values(batch).execute();
          copied += batch.length;
          batch = [];
        };
        for (const row of select.iterate() as Iterable<Record<string, unknown>>) {
          batch.push(Object.fromEntries(names.map((n) => [n, toPostgres(row[n])])));
          if (batch.length >= batchSize) await flush();
        }
        await flush();

        // Identity (or serial) columns: the next id is past every id used so far, so none is reused.
        for (const column of names) {
          const { rows } = await sql<{ seq: string | null }>`
            SELECT pg_get_serial_sequence(${`"${table.replaceAll('"', '""')}"`}, ${column}) AS seq`.execute(
            trx,
          );
          const seq = rows[0]?.seq;
          if (!seq) continue;
          const { rows: top } = await sql<{ max: number | string | null }>`
            SELECT MAX(${sql.ref(column)}) AS max FROM ${sql.table(table)}`.execute(trx);
          const highest = Math.max(
            Number(top[0]?.max ?? 0),
            column === 'id' ? (handedOut.get(table) ?? 0) : 0,
          );
          if (highest > 0) await sql`SELECT setval(${seq}::regclass, ${highest}, true)`.execute(trx);
        }
        log(`  ${table}: ${copied} row${copied === 1 ? '' : 's'} copied`);
      }
      // Counted before the commit: a difference rolls the whole copy back.
      for (const table of order) {
        const row = source!.prepare(`SELECT COUNT(*) AS n FROM ${quoteSqlite(table)}`).get() as { n: bigint };
        counts.push({ table, source: Number(row.n), target: await countRows(trx, table) });
      }
      const bad = counts.filter((c) => c.source !== c.target);
      if (bad.length > 0) {
        throw new MigrateError(
          `Row counts differ after the copy (${bad.map((c) => `${c.table}: ${c.source} in SQLite, ${c.target} in PostgreSQL`).join('; ')}); nothing was kept`,
        );
      }
    });
    return counts;
  } catch (err) {
    if (err instanceof MigrateError) throw err;
    throw new MigrateError(scrub(err instanceof Error ? err.message : String(err), options.to));
  } finally {
    source?.close();
    await target?.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run migrate-to-postgres -- [--from <sqlite file>] [--to <postgres url>]\n' +
        '  --from  the SQLite database to copy (default: the controller database under DATA_DIR)\n' +
        '  --to    an empty PostgreSQL database (default: DATABASE_URL)\n',
    );
    return 0;
  }
  const to = values.to ?? process.env.DATABASE_URL ?? '';
  // The controller's own file: DATA_DIR as the controller reads it, with no DATABASE_URL.
  const own = loadConfig({ DATA_DIR: process.env.DATA_DIR }).database;
  const from = values.from ?? (own.kind === 'sqlite' ? own.file : '');
  try {
    const counts = await migrateToPostgres({ from, to, log: (line) => process.stdout.write(`${line}\n`) });
    const width = Math.max(...counts.map((c) => c.table.length), 5);
    process.stdout.write(`\n${'table'.padEnd(width)}  ${'sqlite'.padStart(8)}  ${'postgres'.padStart(8)}\n`);
    for (const c of counts) {
      process.stdout.write(
        `${c.table.padEnd(width)}  ${String(c.source).padStart(8)}  ${String(c.target).padStart(8)}\n`,
      );
    }
    process.stdout.write('Done: every table has the same number of rows in both databases.\n');
    return 0;
  } catch (err) {
    const message = err instanceof MigrateError ? err.message : scrub(String(err), to);
    process.stderr.write(`migrate-to-postgres: ${message}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => process.exit(code));
}
