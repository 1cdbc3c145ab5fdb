import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withNamedStatements, withStatementCache } from '../../src/db/statements.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function open() {
  const sqlite = new Database(':memory:');
  sqlite.exec('CREATE TABLE t (n INTEGER)');
  const prepare = vi.spyOn(sqlite, 'prepare');
  return { sqlite, prepare, db: withStatementCache(sqlite, 3) };
}

describe('the SQLite statement cache', () => {
  it('prepares each statement text once and runs it again with new parameters', () => {
    const { prepare, db } = open();
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t (n) VALUES (?)').run([i]);
    expect(prepare).toHaveBeenCalledTimes(1);
    expect(db.prepare('SELECT n FROM t WHERE n >= ? ORDER BY n').all([3])).toEqual([{ n: 3 }, { n: 4 }]);
    expect(db.prepare('SELECT n FROM t WHERE n >= ? ORDER BY n').all([4])).toEqual([{ n: 4 }]);
    expect(prepare).toHaveBeenCalledTimes(2);
  });

  it('keeps only the most recently used texts', () => {
    const { prepare, db } = open();
    const run = (k: number) => db.prepare(`SELECT ${k} AS k`).all([]);
    run(1);
    run(2);
    run(3);
    run(1); // 1 is now the most recent, 2 the least
    run(4); // 2 goes
    expect(prepare).toHaveBeenCalledTimes(4);
    run(1);
    run(3);
    run(4);
    expect(prepare).toHaveBeenCalledTimes(4);
    run(2);
    expect(prepare).toHaveBeenCalledTimes(5);
  });

  it('gives a statement still iterating its rows a fresh twin instead', () => {
    const { db } = open();
    db.prepare('INSERT INTO t (n) VALUES (1), (2)').run([]);
    const rows = db.prepare('SELECT n FROM t ORDER BY n').iterate([]);
    rows.next();
    // The same text while the first still iterates: it runs, and the first goes on where it was.
    expect(db.prepare('SELECT n FROM t ORDER BY n').all([])).toEqual([{ n: 1 }, { n: 2 }]);
    expect(rows.next().value).toEqual({ n: 2 });
  });

  it('runs a cached statement on the new schema after a change', () => {
    const { sqlite, db } = open();
    db.prepare('INSERT INTO t (n) VALUES (?)').run([7]);
    expect(db.prepare('SELECT * FROM t').all([])).toEqual([{ n: 7 }]);
    sqlite.exec('ALTER TABLE t ADD COLUMN m INTEGER DEFAULT 8');
    expect(db.prepare('SELECT * FROM t').all([])).toEqual([{ n: 7, m: 8 }]);
  });
});

describe('the PostgreSQL named statements', () => {
  it('parses each text once per connection and deallocates the least recently used past the limit', async () => {
    const pool = new pg.Pool({ connectionString: await freshDatabaseUrl(), max: 1 });
    const parses = vi.spyOn(pg.Client.prototype, 'query');
    try {
      const named = withNamedStatements(pool, 2);
      const client = await named.connect();
      const run = async (k: number, v: number) =>
        ((await client.query(`SELECT $1::int + ${k} AS n`, [v])) as { rows: { n: number }[] }).rows[0]!.n;
      const prepared = async () =>
        (
          (await client.query(
            'SELECT name, statement FROM pg_prepared_statements ORDER BY statement',
            [],
          )) as {
            rows: { statement: string }[];
          }
        ).rows.map((r) => r.statement);
      expect(await run(1, 1)).toBe(2);
      expect(await run(1, 2)).toBe(3);
      expect(await run(2, 1)).toBe(3);
      expect(await prepared()).toEqual(['SELECT $1::int + 1 AS n', 'SELECT $1::int + 2 AS n']);
      // A third text: the least recently used (… + 1) goes, on the server too.
      expect(await run(3, 1)).toBe(4);
      expect(await prepared()).toEqual(['SELECT $1::int + 2 AS n', 'SELECT $1::int + 3 AS n']);
      // Used again, it is parsed again and answers as before.
      expect(await run(1, 5)).toBe(6);
      expect(await prepared()).toEqual(['SELECT $1::int + 1 AS n', 'SELECT $1::int + 3 AS n']);
      // Without parameters: the simple protocol, never named.
      await client.query('SELECT 1', []);
      expect(
        parses.mock.calls.filter(([q]) => typeof q === 'object' && !(q as { name?: string }).name),
      ).toEqual([]);
      client.release();
    } finally {
      await pool.end();
    }
  });
});
