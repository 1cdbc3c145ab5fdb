/**
 * What one retry costs, counted: the SQL statements and aria2 requests of one
 * `POST /api/tasks/{id}/retry` of a failed HTTP task, and the admission passes it leaves behind. A count
 * keeps a speed-up honest where a time on a shared machine cannot.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Aria2Client } from '../../src/aria2/client.js';
import { Admission } from '../../src/services/admission.js';
import { RetryService } from '../../src/services/retry.js';
import type { FileServer } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { testsUsePostgres } from '../helpers/postgres.js';
import type { ApiClient } from '../helpers/tasks-api.js';
import { waitUntilSteady } from '../helpers/wait.js';

let server: FileServer;
let alice: ApiClient;

useController({ users: ['alice'] }, (fx) => {
  ({ server } = fx);
  alice = fx.api('alice');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** better-sqlite3's statement class, whose methods run a prepared statement. */
const Statement = (() => {
  const db = new Database(':memory:');
  const proto = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
  db.close();
  return proto;
})();

/**
 * The retry being counted: `RetryService.retry` and whatever it starts (through promises and timers)
 * run in this context. The sync engine's passes run in the context of aria2's socket instead, so one
 * that reacts to the new download meanwhile (its start or failure, which come while the answer waits
 * for the admission) is not the retry's.
 */
const retrying = new AsyncLocalStorage<boolean>();

/**
 * Counts every SQL statement run (and prepared), aria2 request and admission pass from now on: those
 * of the request in `retrying` in `n`, all of them in `all`.
 */
function counting() {
  const n = { sql: 0, prepares: 0, aria2: 0, passes: 0, texts: [] as string[] };
  const all = { sql: 0, aria2: 0, passes: 0 };
  const count = (kind: 'sql' | 'prepares' | 'aria2' | 'passes', text?: string) => {
    if (kind !== 'prepares') all[kind]++;
    if (!retrying.getStore()) return;
    n[kind]++;
    if (text !== undefined) n.texts.push(text.slice(0, 80));
  };
  const sqlite = Database.prototype.prepare;
  vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, source) {
    count('prepares');
    return sqlite.call(this, source);
  });
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = Statement[method]!;
    vi.spyOn(Statement, method).mockImplementation(function (this: { source: string }, ...args: unknown[]) {
      count('sql', this.source);
      return original.apply(this, args);
    });
  }
  // pg: every statement is one `query`. One with parameters is parsed by the server unless it is a
  // named statement this connection parsed already (BEGIN and COMMIT go as simple queries).
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const q = (typeof args[0] === 'string' ? { text: args[0], values: args[1] } : args[0]) as {
      name?: string;
      text: string;
      values?: unknown[];
    };
    count('sql', q.text);
    const parsed = (this as unknown as { connection: { parsedStatements: Record<string, string> } })
      .connection.parsedStatements;
    if ((q.values?.length ?? 0) > 0 && !(q.name && parsed[q.name])) count('prepares');
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query);
  const proto = Aria2Client.prototype as unknown as Record<'sendRaw', (...args: unknown[]) => unknown>;
  const sendRaw = proto.sendRaw;
  vi.spyOn(proto, 'sendRaw').mockImplementation(function (this: unknown, ...args: unknown[]) {
    count('aria2');
    return sendRaw.apply(this, args);
  });
  const service = RetryService.prototype as unknown as Record<'retry', (...args: unknown[]) => unknown>;
  const retry = service.retry;
  vi.spyOn(service, 'retry').mockImplementation(function (this: unknown, ...args: unknown[]) {
    return retrying.run(true, () => retry.apply(this, args));
  });
  const admission = Admission.prototype as unknown as Record<'pass', (...args: unknown[]) => unknown>;
  const pass = admission.pass;
  vi.spyOn(admission, 'pass').mockImplementation(function (this: unknown, ...args: unknown[]) {
    count('passes');
    return pass.apply(this, args);
  });
  return { n, all };
}

describe('one retry, counted', () => {
  it('costs a fixed handful of statements and aria2 requests, and leaves no second admission pass', async () => {
    const { n, all } = counting();
    const counts: { sql: number; prepares: number; aria2: number; passes: number; after: number }[] = [];
    /** The statements of each try, for the message of a failed expectation. */
    const texts: string[][] = [];
    // The least of four retries: one may be the first on a pooled connection (PostgreSQL prepares).
    for (let i = 0; i < 4; i++) {
      const file = `/counts/f${i}.bin`;
      // The source still answers 404: the new download fails at once and nothing keeps running.
      server.addFile(file, Buffer.alloc(1000, 1), { status: 404 });
      const old = await alice.add(server.url(file));
      await alice.waitTask(old.id, (t) => t.status === 'error');
      await waitUntilSteady(() => all.sql + all.aria2);

      const before = { ...n, texts: n.texts.length, allPasses: all.passes };
      const res = await alice.post(`/api/tasks/${old.id}/retry`);
      expect(res.statusCode).toBe(200);
      const during = {
        sql: n.sql - before.sql,
        prepares: n.prepares - before.prepares,
        aria2: n.aria2 - before.aria2,
        passes: n.passes - before.passes,
      };
      texts.push(n.texts.slice(before.texts));
      const fresh = res.json() as { id: number };
      // What the retry leaves behind: the new download's own failure asks for one pass, nothing more.
      await alice.waitTask(fresh.id, (t) => t.status === 'error');
      await waitUntilSteady(() => all.sql + all.aria2);
      counts.push({ ...during, after: all.passes - before.allPasses - during.passes });
    }
    const least = (k: 'sql' | 'prepares' | 'aria2' | 'passes' | 'after') =>
      Math.min(...counts.map((x) => x[k]));
    // Every try's counts, in the message of whichever expectation fails.
    const fewest = counts.findIndex((c) => c.sql === least('sql'));
    const seen = `${JSON.stringify(counts)}; the statements of try ${fewest + 1}: ${JSON.stringify(texts[fewest])}`;
    // The task, the claim, the space (the user's row and their tasks' bytes in one), the insert, the
    // link, the outcome, the admission's rows and reasons, two transactions (the session was read
    // before, by the sign-in check of every request). PostgreSQL locks the user's row with the claim,
    // inserts the new row, links the old one and writes its hand-over mark in one statement, records
    // the outcome (and removes the mark) in one statement without a transaction, and adds the
    // admission's lock (a transaction of its own: BEGIN and the lock in one query, then COMMIT, which
    // the answer no longer waits for, nor for the events' notification, sent after it).
    expect(least('sql'), seen).toBeLessThanOrEqual(testsUsePostgres() ? 11 : 13);
    // Each statement text is prepared once: a retry after the first prepares nothing new (PostgreSQL
    // prepares once per pooled connection, and a retry may be the first on one of them).
    expect(least('prepares'), seen).toBeLessThanOrEqual(testsUsePostgres() ? 2 : 0);
    // The add with its status, the admission's snapshot and unpause, and the old download forgotten
    // (a result aria2 no longer knows is not looked at again).
    expect(least('aria2'), seen).toBeLessThanOrEqual(4);
    // The answer waits for exactly one admission pass.
    expect(least('passes'), seen).toBe(1);
    // After it: the new download's failure asks for one; the replaced task's removal asks for none.
    expect(least('after'), seen).toBeLessThanOrEqual(1);
  });
});
