/**
 * Retry, continued, against the controller process (`npm start`'s way) and a local HTTP server:
 * - `retry_one_p50_ms`: `POST /api/tasks/{id}/retry` of one failed small download on loopback, one
 *   after the other, median per run;
 * - `retry_filter_10k_s`: `POST /api/tasks/retry {filter: {status: "error"}}` of 10,000 failed tasks
 *   (10,000 distinct URIs), until all are handed to aria2;
 * - `retry_filter_vs_floor_ratio`: that time / the floor, timed in the same run: the same 10,000 HEAD
 *   requests at the same concurrency (a new connection each, as the controller's size check makes
 *   them), plus the same adds in multicalls of the same size to a bare aria2c.
 * Failed tasks are written straight into the SQLite file (through the project's migrations) before the
 * controller starts, as a long history would be.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Aria2Client } from '../backend/src/aria2/client.js';
import { type DatabaseTarget, openDatabase } from '../backend/src/db/index.js';
import { hashPassword } from '../backend/src/domain/passwords.js';
import type { NewTaskRow } from '../backend/src/repositories/tasks.js';
import { FILTER_CHUNK } from '../backend/src/services/retry.js';
import { HEAD_CONCURRENCY, mapLimit } from '../backend/src/services/tasks/sources.js';
import { startTestAria2 } from '../backend/test/helpers/aria2.js';
import { type FileServer, startFileServer } from '../backend/test/helpers/file-server.js';
import {
  ADMIN_PASSWORD,
  cpuSeconds,
  json,
  nowMs,
  request,
  say,
  startControllerProcess,
  tempDataDir,
} from './harness.js';
import { type Figure, median, timeMs } from './lib.js';

const ONE_RETRIES = 60;
const ONE_WARMUP = 10;
const FILTER_COUNT = 10_000;

/** The admin (id 1) and `uris.length` failed tasks of theirs in `<dataDir>/controller.db` (or `target`). */
async function seedFailed(
  dataDir: string,
  uris: string[],
  target: DatabaseTarget = { kind: 'sqlite', file: path.join(dataDir, 'controller.db') },
): Promise<void> {
  const db = await openDatabase(target);
  try {
    const iso = `${new Date().toISOString().slice(0, 19)}Z`;
    const rows: NewTaskRow[] = uris.map((uri) => {
      const gid = randomBytes(8).toString('hex');
      return {
        owner_id: 1,
        gid,
        uri,
        display_uri: uri,
        status: 'error',
        name: path.basename(new URL(uri).pathname),
        error: 'The response status is not successful. status=503',
        created_at: iso,
        updated_at: iso,
        finished_at: iso,
        dir: path.join(dataDir, 'downloads', '1', '.incomplete', gid),
        held_for: null,
        // Planned for never: a figure of the retry itself, not of the scheduler.
        auto_retry: 0,
      };
    });
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('users')
        .values({
          id: 1,
          username: 'admin',
          password_hash: await hashPassword(ADMIN_PASSWORD),
          is_admin: 1,
          quota: 0,
          created_at: iso,
        })
        .execute();
      for (let i = 0; i < rows.length; i += 500)
        await trx
          .insertInto('tasks')
          .values(rows.slice(i, i + 500))
          .execute();
    });
  } finally {
    await db.destroy();
  }
}

/** One HEAD on a new connection (what the controller's size check does), resolving on the answer. */
export function head(uri: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(uri, { method: 'HEAD', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

/** `postgres`: a fresh PostgreSQL database URL for each run instead of the SQLite file. */
export async function benchRetryOne(
  server: FileServer,
  runs: number,
  postgres?: () => Promise<string>,
): Promise<number[]> {
  const out: number[] = [];
  for (let run = 0; run < runs; run++) {
    const uris = Array.from({ length: ONE_RETRIES + ONE_WARMUP }, (_, i) => {
      server.addFile(`/one${run}/f${i}.bin`, Buffer.alloc(2000, 7), { throttle: 1 });
      return server.url(`/one${run}/f${i}.bin`);
    });
    const dataDir = tempDataDir();
    const url = postgres ? await postgres() : null;
    await seedFailed(dataDir, uris, url ? { kind: 'postgres', url } : undefined);
    const c = await startControllerProcess({ dataDir, env: url ? { DATABASE_URL: url } : {} });
    try {
      const cookie = await c.login();
      const { items } = await json<{ items: { id: number }[] }>(
        c.origin,
        'GET',
        '/api/tasks?limit=1000&order=asc',
        {
          cookie,
        },
      );
      const times: number[] = [];
      let cpu0 = 0;
      for (const [i, t] of items.entries()) {
        // The controller's own CPU over the measured retries: what a loaded machine's waits do not blur.
        if (i === ONE_WARMUP) cpu0 = cpuSeconds(c.pid);
        const t0 = nowMs();
        const r = await request(c.origin, 'POST', `/api/tasks/${t.id}/retry`, { cookie });
        const ms = nowMs() - t0;
        if (r.status !== 200) throw new Error(`retry ${t.id}: ${r.status} ${r.body.slice(0, 200)}`);
        if (i >= ONE_WARMUP) times.push(ms);
      }
      const cpuMs = ((cpuSeconds(c.pid) - cpu0) * 1000) / times.length;
      out.push(median(times));
      say(
        `run ${run + 1}: one retry p50 ${median(times).toFixed(2)} ms (of ${times.length}), controller CPU ${cpuMs.toFixed(2)} ms per retry, load ${os.loadavg()[0]!.toFixed(1)}`,
      );
    } finally {
      await c.stop();
    }
  }
  return out;
}

async function benchRetryFilter(
  server: FileServer,
  runs: number,
): Promise<{ secs: number[]; ratios: number[] }> {
  const secs: number[] = [];
  const ratios: number[] = [];
  for (let run = 0; run < runs; run++) {
    const uris = Array.from({ length: FILTER_COUNT }, (_, i) => {
      // Throttled to a trickle: the downloads stay running, so the figure is the hand-over only.
      server.addFile(`/filter${run}/f${i}.bin`, Buffer.alloc(2000, 7), { throttle: 1 });
      return server.url(`/filter${run}/f${i}.bin`);
    });

    // The floor, in the same run: the same HEADs at the same concurrency, the same adds in multicalls.
    const bare = await startTestAria2({ extraArgs: ['--max-concurrent-downloads=5', '--pause=true'] });
    const client = new Aria2Client({ url: bare.url, secret: bare.secret });
    await client.start();
    const floorMs = await timeMs(async () => {
      await mapLimit(uris, HEAD_CONCURRENCY, head);
      for (let i = 0; i < uris.length; i += FILTER_CHUNK) {
        await client.multicall(
          uris
            .slice(i, i + FILTER_CHUNK)
            .map((u) => ({ method: 'aria2.addUri', params: [[u], { dir: bare.dir }] })),
        );
      }
    });
    await client.close();
    await bare.stop();

    const dataDir = tempDataDir();
    await seedFailed(dataDir, uris);
    const c = await startControllerProcess({ dataDir });
    try {
      const cookie = await c.login();
      let body: { retried: number; failed: unknown[] } = { retried: 0, failed: [] };
      const cpu0 = cpuSeconds(c.pid);
      const load0 = os.loadavg()[0]!;
      const ms = await timeMs(async () => {
        body = await json(c.origin, 'POST', '/api/tasks/retry', {
          cookie,
          body: { filter: { status: 'error' } },
        });
      });
      if (body.retried !== FILTER_COUNT)
        throw new Error(`only ${body.retried} retried: ${JSON.stringify(body.failed.slice(0, 3))}`);
      secs.push(ms / 1000);
      ratios.push(ms / floorMs);
      // The controller's own CPU for the request, and the load around it: what a busy machine blurs less.
      const cpu = cpuSeconds(c.pid) - cpu0;
      say(
        `run ${run + 1}: retry by filter ${(ms / 1000).toFixed(2)} s (controller CPU ${cpu.toFixed(2)} s), floor ${(floorMs / 1000).toFixed(2)} s, load ${load0.toFixed(1)} -> ${os.loadavg()[0]!.toFixed(1)}`,
      );
    } finally {
      await c.stop();
    }
    for (const u of uris) server.removeFile(new URL(u).pathname);
  }
  return { secs, ratios };
}

export async function benchRetryContinued(runs = 3): Promise<Figure[]> {
  const server = await startFileServer();
  try {
    const one = await benchRetryOne(server, runs);
    const filter = await benchRetryFilter(server, runs);
    return [
      {
        key: 'retry_one_p50_ms',
        what: 'POST /api/tasks/{id}/retry of one failed small download on loopback, p50',
        unit: 'ms',
        target: '<= 3',
        runs: one,
      },
      {
        key: 'retry_filter_10k_s',
        what: 'POST /api/tasks/retry by filter of 10,000 failed tasks, until all are handed to aria2',
        unit: 's',
        target: '<= 10',
        runs: filter.secs,
      },
      {
        key: 'retry_filter_vs_floor_ratio',
        what: 'that time / the same HEADs at the same concurrency plus the same adds in multicalls to a bare aria2c',
        unit: 'x',
        target: '<= 1.5',
        runs: filter.ratios,
      },
    ];
  } finally {
    await server.close();
  }
}
