/**
 * The controller on PostgreSQL (a throwaway cluster started the way the tests start theirs):
 * - `pg_list_page_p50_ms`: GET /api/tasks?limit=200 (the UI's first page) with 100,000 finished tasks
 *   of one user, median of many requests per run; each run a fresh controller process on the same
 *   seeded database;
 * - `list_page_100k_p50_ms`: the same page with the same 100,000 tasks in the controller's SQLite file;
 * - `pg_retry_one_p50_ms`: `POST /api/tasks/{id}/retry` of one failed small download on loopback, one
 *   after the other, median per run (as `retry_one_p50_ms` measures it on SQLite), each run on a
 *   fresh database.
 */
import fs from 'node:fs';
import pg from 'pg';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import { freshDatabaseUrl, startTestCluster } from '../backend/test/helpers/postgres.js';
import {
  copyDataDir,
  json,
  nowMs,
  request,
  say,
  seedDatabase,
  startControllerProcess,
  tempDataDir,
} from './harness.js';
import { type Figure, median } from './lib.js';
import { benchRetryOne } from './retry-continued.js';

const TASKS = 100_000;
const PAGE_REQUESTS = 60;

/** Refreshes the planner's statistics after the bulk load, as autovacuum would shortly. */
async function analyze(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/** Asks `origin` for the first page many times; the median of one controller process's requests. */
async function pageMedian(origin: string, cookie: string, label: string): Promise<number> {
  const first = await json<{ total: number }>(origin, 'GET', '/api/tasks?limit=1', { cookie });
  if (first.total !== TASKS) throw new Error(`the controller sees ${first.total} tasks, not ${TASKS}`);
  for (let i = 0; i < 10; i++) await request(origin, 'GET', '/api/tasks?limit=200', { cookie });
  const times: number[] = [];
  for (let i = 0; i < PAGE_REQUESTS; i++) {
    const start = nowMs();
    const res = await request(origin, 'GET', '/api/tasks?limit=200', { cookie });
    times.push(nowMs() - start);
    if (res.status !== 200) throw new Error(`list: ${res.status} ${res.body.slice(0, 200)}`);
  }
  say(`${label}: page of 200 of ${TASKS} p50 ${median(times).toFixed(2)} ms`);
  return median(times);
}

async function benchListPage(runs: number): Promise<number[]> {
  const url = await freshDatabaseUrl();
  const t0 = nowMs();
  const seedDir = tempDataDir();
  try {
    await seedDatabase(seedDir, TASKS, { kind: 'postgres', url });
  } finally {
    fs.rmSync(seedDir, { recursive: true, force: true });
  }
  await analyze(url);
  say(`seeded ${TASKS} finished tasks into PostgreSQL in ${Math.round(nowMs() - t0)} ms`);
  const out: number[] = [];
  for (let run = 0; run < runs; run++) {
    const c = await startControllerProcess({ env: { DATABASE_URL: url } });
    try {
      out.push(await pageMedian(c.origin, await c.login(), `PostgreSQL run ${run + 1}`));
    } finally {
      await c.stop();
    }
  }
  return out;
}

/** The same 100,000 tasks in the controller's SQLite file: each run a fresh process on a copy of it. */
async function benchListPageSqlite(runs: number): Promise<number[]> {
  const template = tempDataDir();
  try {
    const t0 = nowMs();
    await seedDatabase(template, TASKS);
    say(`seeded ${TASKS} finished tasks into SQLite in ${Math.round(nowMs() - t0)} ms`);
    const out: number[] = [];
    for (let run = 0; run < runs; run++) {
      const c = await startControllerProcess({ dataDir: copyDataDir(template) });
      try {
        out.push(await pageMedian(c.origin, await c.login(), `SQLite run ${run + 1}`));
      } finally {
        await c.stop();
      }
    }
    return out;
  } finally {
    fs.rmSync(template, { recursive: true, force: true });
  }
}

export async function benchPostgres(runs = 3): Promise<Figure[]> {
  const cluster = await startTestCluster();
  // freshDatabaseUrl finds the cluster here outside vitest.
  const previous = process.env.TEST_POSTGRES_ADMIN_URL;
  process.env.TEST_POSTGRES_ADMIN_URL = cluster.adminUrl;
  const server = await startFileServer();
  try {
    const list = await benchListPage(runs);
    const sqliteList = await benchListPageSqlite(runs);
    const retry = await benchRetryOne(server, runs, freshDatabaseUrl);
    return [
      {
        key: 'pg_list_page_p50_ms',
        what: 'median GET /api/tasks?limit=200 with 100,000 tasks of one user, on PostgreSQL',
        unit: 'ms',
        target: '<= 5',
        runs: list,
      },
      {
        key: 'list_page_100k_p50_ms',
        what: 'median GET /api/tasks?limit=200 with 100,000 tasks of one user, on SQLite',
        unit: 'ms',
        target: '<= 3',
        runs: sqliteList,
      },
      {
        key: 'pg_retry_one_p50_ms',
        what: 'POST /api/tasks/{id}/retry of one failed small download on loopback, p50, on PostgreSQL',
        unit: 'ms',
        target: '<= 5',
        runs: retry,
      },
    ];
  } finally {
    await server.close();
    if (previous === undefined) delete process.env.TEST_POSTGRES_ADMIN_URL;
    else process.env.TEST_POSTGRES_ADMIN_URL = previous;
    cluster.stop();
  }
}
