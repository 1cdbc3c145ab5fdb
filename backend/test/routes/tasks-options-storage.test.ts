/**
 * Stored task options are bounded per task, and a batch's shared options are stored once (an option
 * set the rows reference, removed with its last row), yet every download and retry still gets them.
 * Real controller, database (SQLite or PostgreSQL), aria2c and local HTTP servers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type DatabaseTarget, openDatabase } from '../../src/db/index.js';
import * as initial from '../../src/db/migrations/001_initial.js';
import { attachOptions } from '../../src/repositories/tasks.js';
import { sqliteFile, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, refusedUrl } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { freshDatabaseUrl, testsUsePostgres } from '../helpers/postgres.js';
import { type ApiClient, as, isFinished } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let alice: ApiClient;

useController({ users: ['alice'] }, async (fx) => {
  ({ c, server } = fx);
  // A thousand downloads that fail at once: let them all run rather than wait for slots.
  await c.context.settings.update({ max_concurrent_downloads: 1000, max_active_per_user: 0 });
  alice = fx.api('alice');
});

/**
 * What the database stores: on SQLite the file's size with the write-ahead log folded in; on
 * PostgreSQL (which compresses long values) the text of every task and option-set row.
 */
async function databaseBytes(): Promise<number> {
  if (c.config.database.kind === 'postgres') {
    const { rows } = await sql<{ n: number }>`SELECT
      (SELECT COALESCE(SUM(octet_length(t::text)), 0) FROM tasks t) +
      (SELECT COALESCE(SUM(octet_length(o::text)), 0) FROM option_sets o) AS n`.execute(c.db);
    return Number(rows[0]!.n);
  }
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(c.db);
  return fs.statSync(sqliteFile(c.config)).size;
}
const optionSetCount = async () =>
  Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM option_sets`.execute(c.db)).rows[0]!.n);
const taskCount = async (user: ApiClient) => (await user.get('/api/tasks?view=all')).json().total as number;

describe('task options', () => {
  it('headers over 16 KiB together are a 422 naming the field, and nothing is created', async () => {
    const header = [1, 2, 3].map((i) => `X-Big-${i}: ${'a'.repeat(6000)}`);
    const before = await taskCount(alice);
    for (const [url, body] of [
      ['/api/tasks', { uri: server.url('/x.bin'), options: { header } }],
      ['/api/tasks/batch', { uris: [server.url('/x.bin')], options: { header } }],
    ] as const) {
      const res = await alice.post(url, body);
      expect(res.statusCode, url).toBe(422);
      expect(res.json().detail).toMatch(/options\.header/);
      expect(res.json().detail).toMatch(/16 KiB/);
    }
    expect(await taskCount(alice)).toBe(before);
  });

  it('a batch of 1000 URIs with ~16 KiB of headers grows the database by about one copy, not 1000', async () => {
    const bob = as(c, (await c.createUser('bob')).cookie);
    const header = [`X-A: ${'a'.repeat(8000)}`, `X-B: ${'b'.repeat(8000)}`];
    const base = await refusedUrl('/many.bin');
    const uris = Array.from({ length: 1000 }, (_, i) => `${base}?i=${i}`);
    const setsBefore = await optionSetCount();
    const before = await databaseBytes();
    const res = await bob.post('/api/tasks/batch', { uris, options: { header } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json().created).toHaveLength(1000);
    const grown = (await databaseBytes()) - before;
    // 1000 copies would be over 16 MB; the rows themselves take well under 2 MiB.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
    expect(await optionSetCount()).toBe(setsBefore + 1);

    // Every download reached aria2 with the headers (none failed to be handed over).
    const created = res.json().created as { id: number; error: string | null }[];
    expect(created.filter((t) => t.error?.startsWith('Failed to hand'))).toEqual([]);
    const sample = created[999]!;
    const row = await c.db
      .selectFrom('tasks')
      .select('gid')
      .where('id', '=', sample.id)
      .executeTakeFirstOrThrow();
    const opts = await c.aria2.call<Record<string, string>>('aria2.getOption', [row.gid]);
    expect(opts.header).toContain(header[1]);

    // The set goes with its last row.
    await waitFor(
      async () => (await bob.get('/api/tasks?view=current')).json().total === 0,
      60_000,
      'the downloads to fail',
    );
    expect((await bob.del('/api/tasks')).json()).toEqual({ deleted: 1000 });
    expect(await optionSetCount()).toBe(setsBefore);
  }, 180_000);

  it('one copy serves a download and its retry: both send the headers', async () => {
    server.addFile('/retry-opts.bin', Buffer.from('hello options'), { status: 404 });
    const header = ['X-Token: kept-across-retry'];
    const t = await alice.add(server.url('/retry-opts.bin'), { header });
    await alice.waitTask(t.id, isFinished, 'the first try to fail');
    server.update('/retry-opts.bin', { status: undefined });
    const retried = await alice.post(`/api/tasks/${t.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    await alice.waitTask(retried.json().id, (x) => x.status === 'complete', 'the retry to finish');
    const gets = server.requestsFor('/retry-opts.bin').filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThanOrEqual(2);
    for (const g of gets) expect(g.headers['x-token']).toBe('kept-across-retry');
  });
});

describe('the option-set migration', () => {
  it('moves the options of existing rows into shared sets and keeps them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'option-sets-migration-'));
    const file = path.join(dir, 'controller.db');
    // The same database the suite runs on: an SQLite file, or a fresh PostgreSQL database.
    const target: DatabaseTarget = testsUsePostgres()
      ? { kind: 'postgres', url: await freshDatabaseUrl() }
      : { kind: 'sqlite', file };
    try {
      const old = new Kysely<unknown>({
        dialect:
          target.kind === 'sqlite'
            ? new SqliteDialect({ database: new SQLite(target.file) })
            : new PostgresDialect({ pool: new pg.Pool({ connectionString: target.url }) }),
      });
      await new Migrator({
        db: old,
        provider: { getMigrations: async () => ({ '001_initial': initial }) },
      }).migrateToLatest();
      await sql`INSERT INTO users (username, password_hash, created_at)
        VALUES ('u', 'x', '2026-01-01T00:00:00Z')`.execute(old);
      const opts = JSON.stringify({ header: ['X-Old: 1'] });
      for (const [i, o] of [
        [1, opts],
        [2, opts],
        [3, '{}'],
      ] as const) {
        await sql`INSERT INTO tasks (owner_id, uri, display_uri, status, created_at, updated_at, dir, options)
          VALUES (1, ${`http://127.0.0.1/${i}`}, ${`http://127.0.0.1/${i}`}, 'error', '2026-01-01T00:00:00Z',
            '2026-01-01T00:00:00Z', '/tmp/x', ${o})`.execute(old);
      }
      await old.destroy();

      const db = await openDatabase(target);
      try {
        const rows = await db.selectFrom('tasks').selectAll().orderBy('id').execute();
        expect(rows.map((r) => (r as Record<string, unknown>).options)).toEqual([
          undefined,
          undefined,
          undefined,
        ]);
        expect((await attachOptions(db, rows)).map((r) => r.options)).toEqual([opts, opts, '{}']);
        expect(
          Number((await sql<{ n: number }>`SELECT COUNT(*) AS n FROM option_sets`.execute(db)).rows[0]!.n),
        ).toBe(1);
      } finally {
        await db.destroy();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
