/**
 * What one page of the task list costs the database driver, counted: the page's rows come back as
 * arrays of values (no object per row built by the driver), and each list shape is prepared once, not
 * once per request (a cached statement on SQLite, a named prepared statement on PostgreSQL). Counted
 * by wrapping better-sqlite3's `prepare` and the statements it returns, or pg's `Client.query`.
 * The tasks the page answers are the same as each task's own answer.
 */
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTasks, type NewTaskRow } from '../../src/repositories/tasks.js';
import { startTestController, type TestController } from '../helpers/controller.js';

const TASKS = 300;
const REQUESTS = 20;

/** better-sqlite3's Statement class is not exported; its prototype is that of any statement. */
const statementPrototype: SQLite.Statement = (() => {
  const db = new SQLite(':memory:');
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1'));
  db.close();
  return proto;
})();

interface Read {
  sql: string;
  rows: number;
  arrays: boolean;
}

/** Every statement prepared and every read's shape while `fn` runs, whichever driver is in use. */
async function counting(fn: () => Promise<void>): Promise<{ prepared: string[]; reads: Read[] }> {
  const prepared: string[] = [];
  const reads: Read[] = [];
  const sqlitePrepare = SQLite.prototype.prepare;
  const all = statementPrototype.all;
  const pgQuery = pg.Client.prototype.query;
  SQLite.prototype.prepare = function (this: SQLite.Database, source: string) {
    prepared.push(source);
    return sqlitePrepare.call(this, source);
  } as typeof sqlitePrepare;
  statementPrototype.all = function (this: SQLite.Statement, ...params: unknown[]) {
    const rows = all.apply(this, params) as unknown[];
    reads.push({ sql: this.source, rows: rows.length, arrays: Array.isArray(rows[0]) });
    return rows;
  } as typeof all;
  // biome-ignore lint/suspicious/noExplicitAny: pg's query has many overloads; the wrapper passes them on.
  (pg.Client.prototype as any).query = function (this: pg.Client, config: any, ...rest: unknown[]) {
    const text: string = typeof config === 'string' ? config : config.text;
    // A named statement is prepared by its first use on a connection, then only executed.
    if (typeof config !== 'object' || !config.name) prepared.push(text);
    const seen = (r: pg.QueryResult) =>
      reads.push({ sql: text, rows: r.rows.length, arrays: Array.isArray(r.rows[0]) });
    // The pool's own query passes a callback; Kysely's connections use the promise.
    const args = rest.map((a) =>
      typeof a === 'function'
        ? (err: Error | null, r: pg.QueryResult) => {
            if (!err) seen(r);
            return a(err, r);
          }
        : a,
    );
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    const result = (pgQuery as any).call(this, config, ...args);
    if (result && typeof result.then === 'function') result.then(seen, () => undefined);
    return result;
  };
  try {
    await fn();
  } finally {
    SQLite.prototype.prepare = sqlitePrepare;
    statementPrototype.all = all;
    pg.Client.prototype.query = pgQuery;
  }
  return { prepared, reads };
}

describe('GET /api/tasks reads its page as arrays, prepared once', () => {
  let c: TestController;
  let cookie: string;

  beforeAll(async () => {
    c = await startTestController();
    cookie = await c.adminCookie();
    const me = await c.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    const ownerId = me.json<{ id: number }>().id;
    const rows: NewTaskRow[] = [];
    for (let i = 0; i < TASKS; i++) {
      const uri = `http://127.0.0.1:9/files/f${i}.bin`;
      rows.push({
        owner_id: ownerId,
        uri,
        display_uri: uri,
        status: i % 3 === 0 ? 'error' : 'complete',
        name: `f${i}.bin`,
        total_length: 1000 + i,
        completed_length: i % 3 === 0 ? 10 : 1000 + i,
        error: i % 3 === 0 ? 'Could not open /srv/private/downloads/f.bin' : null,
        created_at: `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
        updated_at: '2026-01-02T00:00:00Z',
        finished_at: '2026-01-02T00:00:00Z',
        artifact_path: i % 3 === 0 ? null : `f${i}.bin`,
        artifact_token: i % 3 === 0 ? null : `token-${i}`,
        dir: '/tmp/none',
      });
    }
    await insertTasks(c.db, rows);
  });

  afterAll(async () => {
    await c?.destroy();
  });

  const list = async (url: string) => {
    const res = await c.app.inject({ method: 'GET', url, headers: { cookie } });
    expect(res.statusCode).toBe(200);
    return res.json<{ items: { id: number; error: string | null }[]; total: number }>();
  };

  it('a page of 200, asked 20 times: every read of its rows gives arrays, and its SQL is prepared at most once', async () => {
    await list('/api/tasks?limit=200');
    const { prepared, reads } = await counting(async () => {
      for (let i = 0; i < REQUESTS; i++) {
        const page = await list('/api/tasks?limit=200');
        expect(page.items).toHaveLength(200);
        expect(page.total).toBe(TASKS);
      }
    });
    const pageReads = reads.filter((r) => r.rows === 200);
    expect(pageReads).toHaveLength(REQUESTS);
    expect(pageReads.every((r) => r.arrays)).toBe(true);
    const pageSql = pageReads[0]!.sql;
    expect(prepared.filter((s) => s === pageSql).length).toBeLessThanOrEqual(1);
    // The total comes from the kept counts, read the same way.
    const countReads = reads.filter((r) => r.sql.includes('task_counts'));
    expect(countReads).toHaveLength(REQUESTS);
    expect(countReads.every((r) => r.arrays)).toBe(true);
    expect(prepared.filter((s) => s === countReads[0]!.sql).length).toBeLessThanOrEqual(1);
  });

  it('another shape (sorted by name, a status, an offset) is read the same way', async () => {
    const url = '/api/tasks?view=history&status=error&sort=name&order=asc&limit=50&offset=10';
    await list(url);
    const { prepared, reads } = await counting(async () => {
      for (let i = 0; i < 5; i++) expect((await list(url)).items).toHaveLength(50);
    });
    const pageReads = reads.filter((r) => r.rows === 50);
    expect(pageReads).toHaveLength(5);
    expect(pageReads.every((r) => r.arrays)).toBe(true);
    expect(prepared.filter((s) => s === pageReads[0]!.sql).length).toBeLessThanOrEqual(1);
  });

  it('each listed task is exactly its own answer, its error without the server path', async () => {
    const page = await list('/api/tasks?limit=1000');
    expect(page.items).toHaveLength(TASKS);
    for (const item of page.items.slice(0, 30)) {
      const one = await c.app.inject({ method: 'GET', url: `/api/tasks/${item.id}`, headers: { cookie } });
      expect(one.json()).toEqual(item);
    }
    const failed = page.items.find((t) => t.error !== null)!;
    expect(failed.error).toBe('Could not open f.bin');
  });
});
