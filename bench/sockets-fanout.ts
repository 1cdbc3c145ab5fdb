/**
 * `sockets_1000_fanout_p95_ms`: 1,000 users, each with the UI open (one socket) and one download
 * running; every progress pass of the sync engine (once a second) changes all 1,000 tasks, and each
 * user's socket gets its own `task_update`. The figure is how long the last users wait behind the
 * first: for each pass, every socket's arrival time minus the pass's first arrival, and the run's
 * 95th percentile over all of them. Arrivals are grouped into passes by the quiet gap between them.
 *
 * The users, their sessions and their downloads are written straight into the SQLite file before the
 * controller starts: 1,000 sign-ins would measure the password hash, and 1,000 adds one by one (a HEAD,
 * a hand-over and an admission pass each, while hundreds of downloads already run through the same
 * two cores) did not reach 1,000 running downloads in the time a run has under load. Each download is
 * written as a held download its daemon does not know (as after a daemon restart): the controller's
 * start-up reconcile hands all 1,000 to aria2 in one batch, and raising `max_concurrent_downloads`
 * starts them in one admission pass.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { openDatabase } from '../backend/src/db/index.js';
import { hashSessionId } from '../backend/src/domain/passwords.js';
import { SESSION_COOKIE } from '../backend/src/plugins/auth.js';
import type { NewTaskRow } from '../backend/src/repositories/tasks.js';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import {
  cpuSeconds,
  json,
  nowMs,
  say,
  seedDatabase,
  sleep,
  startControllerProcess,
  tempDataDir,
} from './harness.js';
import { type Figure, percentile } from './lib.js';

const USERS = 1000;
/** Slow enough that no download finishes within the window; each still changes at every pass. */
const THROTTLE = 4 * 1024;
const SIZE = 64 * 1024 * 1024;
const WINDOW_MS = 15_000;
/** Arrivals further apart than this belong to different passes (passes are a second apart). */
const PASS_GAP_MS = 300;

/**
 * Users 2..USERS+1, one session each, and one held download each of `uris[i]` (in user order); returns
 * their cookies, in user order.
 */
async function seedUsers(dataDir: string, uris: readonly string[]): Promise<string[]> {
  await seedDatabase(dataDir, 0);
  const db = await openDatabase({ kind: 'sqlite', file: path.join(dataDir, 'controller.db') });
  try {
    const admin = await db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const cookies: string[] = [];
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < USERS; i++) {
        const id = i + 2;
        await trx
          .insertInto('users')
          .values({
            id,
            username: `user${String(i).padStart(4, '0')}`,
            password_hash: admin.password_hash,
            is_admin: 0,
            quota: 0,
            created_at: created,
          })
          .execute();
        const sessionId = randomBytes(32).toString('base64url');
        await trx
          .insertInto('sessions')
          .values({
            id_hash: hashSessionId(sessionId),
            user_id: id,
            created_at: created,
            expires_at: Date.now() + 24 * 3600_000,
          })
          .execute();
        cookies.push(`${SESSION_COOKIE}=${sessionId}`);
      }
      const tasks: NewTaskRow[] = uris.map((uri, i) => {
        const gid = randomBytes(8).toString('hex');
        return {
          owner_id: i + 2,
          gid,
          uri,
          display_uri: uri,
          status: 'waiting',
          held_for: 'queue',
          name: path.basename(new URL(uri).pathname),
          created_at: created,
          updated_at: created,
          dir: path.join(dataDir, 'downloads', String(i + 2), '.incomplete', gid),
        };
      });
      for (let i = 0; i < tasks.length; i += 500) {
        await trx
          .insertInto('tasks')
          .values(tasks.slice(i, i + 500))
          .execute();
      }
    });
    return cookies;
  } finally {
    await db.destroy();
  }
}

/** A socket that only notes when each `task_update` arrives (parsing kept off the clock's path). */
function openTimedSocket(origin: string, cookie: string, arrivals: number[]): Promise<WebSocket> {
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws/tasks`, { headers: { cookie } });
  ws.on('message', (data) => {
    const at = nowMs();
    if (String(data).startsWith('{"type":"task_update"')) arrivals.push(at);
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve(ws));
  });
}

/**
 * The data folder in memory where there is one: on the shared virtual disk, aria2 writing 1,000 files
 * at once sat in disk waits long enough that no progress pass got its answer within 10 s. The figure
 * is about the hub, not the disk.
 */
function memoryDataDir(): string {
  return fs.existsSync('/dev/shm') ? fs.mkdtempSync(path.join('/dev/shm', 'aria2-bench-')) : tempDataDir();
}

export async function benchSocketsFanout(runs = 3): Promise<Figure[]> {
  const p95Runs: number[] = [];
  const cpuRuns: number[] = [];
  const server = await startFileServer();
  try {
    for (let run = 0; run < runs; run++) {
      const files = Array.from({ length: USERS }, (_, i) => `/fanout${run}/u${i}.bin`);
      for (const file of files) server.addFile(file, { size: SIZE }, { throttle: THROTTLE });
      const dataDir = memoryDataDir();
      const cookies = await seedUsers(
        dataDir,
        files.map((f) => server.url(f)),
      );
      const c = await startControllerProcess({ dataDir });
      const sockets: WebSocket[] = [];
      try {
        const admin = await c.login();
        await json(c.origin, 'PUT', '/api/config', {
          cookie: admin,
          body: { max_concurrent_downloads: USERS },
        });
        const arrivalsPerSocket = cookies.map(() => [] as number[]);
        for (let i = 0; i < USERS; i += 50) {
          sockets.push(
            ...(await Promise.all(
              cookies
                .slice(i, i + 50)
                .map((cookie, k) => openTimedSocket(c.origin, cookie, arrivalsPerSocket[i + k]!)),
            )),
          );
        }
        // Until every download runs, some users hear nothing: wait for a pass that reaches them all.
        const deadline = Date.now() + 120_000;
        for (;;) {
          await sleep(2000);
          // Passes come more than 2 s apart under load: a socket counts if it heard one in the last 6 s.
          const since = nowMs() - 6000;
          for (const a of arrivalsPerSocket) {
            const recent = a.filter((at) => at >= since);
            a.length = 0;
            a.push(...recent);
          }
          const heard = arrivalsPerSocket.filter((a) => a.length > 0).length;
          if (heard === USERS) break;
          if (Date.now() > deadline) throw new Error(`only ${heard} of ${USERS} sockets hear their download`);
          say(`${heard} of ${USERS} sockets hear their download so far`);
        }
        for (const a of arrivalsPerSocket) a.length = 0;
        const cpu0 = cpuSeconds(c.pid);
        await sleep(WINDOW_MS);
        const cpu = cpuSeconds(c.pid) - cpu0;
        const all = arrivalsPerSocket.flat().sort((a, b) => a - b);
        const delays: number[] = [];
        let passStart = Number.NEGATIVE_INFINITY;
        let previous = Number.NEGATIVE_INFINITY;
        let passes = 0;
        for (const at of all) {
          if (at - previous > PASS_GAP_MS) {
            passStart = at;
            passes++;
          }
          previous = at;
          delays.push(at - passStart);
        }
        if (passes < 3) throw new Error(`only ${passes} progress passes reached the sockets`);
        const p95 = percentile(delays, 95);
        p95Runs.push(p95);
        // The controller's own CPU per user's update: what the load blurs less than the wall clock.
        const cpuPerUpdate = (cpu * 1e6) / all.length;
        cpuRuns.push(cpuPerUpdate);
        const heard = arrivalsPerSocket.filter((a) => a.length > 0).length;
        say(
          `run ${run + 1}: ${all.length} updates in ${passes} passes to ${heard} of ${USERS} sockets; ` +
            `behind the pass's first: p50 ${percentile(delays, 50).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
            `max ${Math.max(...delays).toFixed(1)} ms; controller CPU ${cpu.toFixed(2)} s over ` +
            `${WINDOW_MS / 1000} s, ${cpuPerUpdate.toFixed(0)} µs per update; load ${os.loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        for (const s of sockets) s.terminate();
        await c.stop();
        for (const file of files) server.removeFile(file);
      }
    }
  } finally {
    await server.close();
  }
  return [
    {
      key: 'sockets_1000_fanout_p95_ms',
      what: '1,000 users with a socket each: how long each waits behind the first for its own update, p95',
      unit: 'ms',
      target: '<= 100',
      runs: p95Runs,
    },
    {
      key: 'sockets_1000_fanout_cpu_us',
      what: "the controller's own CPU per user's update in that window (all its work, sync included)",
      unit: 'µs',
      target: '',
      runs: cpuRuns,
    },
  ];
}
