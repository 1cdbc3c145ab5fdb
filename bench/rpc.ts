/**
 * The aria2-compatible `/jsonrpc` under aria2 clients' load:
 * - `rpc_tell_active_ratio`: `tellActive` (AriaNg's key list) with 100 running downloads through the
 *   controller's `/jsonrpc`, p50 ÷ the same call to a bare aria2c running the same 100, in the same run;
 * - `rpc_poll_cpu_pct`: the controller's own CPU over 30 s while five AriaNg-like clients poll it once a
 *   second (tellActive, tellWaiting and tellStopped with AriaNg's key list in one multicall, then
 *   getGlobalStat), ten downloads running.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { openDatabase } from '../backend/src/db/index.js';
import { nowIso } from '../backend/src/domain/time.js';
import { HOLD_SLOW_AFTER_MS } from '../backend/src/egress/proxy.js';
import { hashToken, TOKEN_PREFIX } from '../backend/src/services/tokens.js';
import { startTestAria2 } from '../backend/test/helpers/aria2.js';
import { type FileServer, startFileServer } from '../backend/test/helpers/file-server.js';
import {
  type ControllerProcess,
  cpuOverWindow,
  json,
  request,
  say,
  sleep,
  startControllerProcess,
} from './harness.js';
import { type Figure, median, timeMs } from './lib.js';

const THROTTLE = 16 * 1024;
const SIZE = 64 * 1024 * 1024;
const CALLS = 20;
/** Calls a second apart, as clients poll: a status read the controller reuses briefly cannot flatter it. */
const SPACING_MS = 1000;
const WINDOW_MS = 30_000;
/** AriaNg's keys for its task lists. */
const KEYS = [
  'gid',
  'totalLength',
  'completedLength',
  'uploadSpeed',
  'downloadSpeed',
  'connections',
  'numSeeders',
  'seeder',
  'status',
  'errorCode',
  'verifiedLength',
  'verifyIntegrityPending',
];

/** A token of the admin, written into the running controller's database (the bench has no session UI). */
async function adminToken(c: ControllerProcess): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const db = await openDatabase(path.join(c.dataDir, 'controller.db'));
  try {
    const admin = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'admin')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('api_tokens')
      .values({ user_id: admin.id, name: 'bench', token_hash: hashToken(token), created_at: nowIso() })
      .execute();
  } finally {
    await db.destroy();
  }
  return token;
}

/** A controller with `count` of the admin's downloads running from the throttled server. */
async function controllerRunning(server: FileServer, tag: string, count: number) {
  const paths = Array.from({ length: count }, (_, i) => `/rpc-${tag}/f${i}.bin`);
  for (const p of paths) server.addFile(p, { size: SIZE }, { throttle: THROTTLE });
  const c = await startControllerProcess();
  const cookie = await c.login();
  await json(c.origin, 'PUT', '/api/config', {
    cookie,
    body: { max_concurrent_downloads: Math.max(5, count), max_active_per_user: 0 },
  });
  await json(c.origin, 'POST', '/api/tasks/batch', {
    cookie,
    body: { uris: paths.map((p) => server.url(p)) },
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const active = await json<{ total: number }>(c.origin, 'GET', '/api/tasks?status=active&limit=1', {
      cookie,
    });
    if (active.total === count) break;
    if (Date.now() > deadline) throw new Error(`only ${active.total} of ${count} downloads became active`);
    await sleep(250);
  }
  return { c, token: await adminToken(c), paths };
}

async function rpc(origin: string, urlPath: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await request(origin, 'POST', urlPath, { body: { jsonrpc: '2.0', id: 1, method, params } });
  const body = JSON.parse(res.body) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function benchRpc(runs = Number(process.env.BENCH_RPC_RUNS ?? 3)): Promise<Figure[]> {
  const server = await startFileServer();
  const ratioRuns: number[] = [];
  const cpuRuns: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      // The controller with 100 downloads running.
      const { c, token, paths } = await controllerRunning(server, `a${run}`, 100);
      let ours: number;
      try {
        const call = () => rpc(c.origin, '/jsonrpc', 'aria2.tellActive', [`token:${token}`, KEYS]);
        const got = (await call()) as unknown[];
        if (got.length !== 100) throw new Error(`tellActive listed ${got.length} downloads`);
        const times: number[] = [];
        for (let i = 0; i < CALLS; i++) {
          await sleep(SPACING_MS);
          times.push(await timeMs(call));
        }
        ours = median(times);
        say(`controller's tellActive times (ms): ${times.map((t) => t.toFixed(1)).join(' ')}`);
      } finally {
        await c.stop();
      }
      // A bare aria2c running the same 100.
      const bare = await startTestAria2({ extraArgs: ['--max-concurrent-downloads=100'] });
      let theirs: number;
      try {
        for (const p of paths) await bare.rpc('aria2.addUri', [[server.url(p)], { dir: bare.dir }]);
        const origin = new URL(bare.httpUrl).origin;
        const call = () => rpc(origin, '/jsonrpc', 'aria2.tellActive', [`token:${bare.secret}`, KEYS]);
        const deadline = Date.now() + 60_000;
        while (((await call()) as unknown[]).length < 100) {
          if (Date.now() > deadline) throw new Error('the bare aria2c did not run 100 downloads');
          await sleep(250);
        }
        const times: number[] = [];
        for (let i = 0; i < CALLS; i++) {
          await sleep(SPACING_MS);
          times.push(await timeMs(call));
        }
        theirs = median(times);
      } finally {
        await bare.stop();
      }
      ratioRuns.push(ours / theirs);
      say(`run ${run + 1}: tellActive of 100 p50 ${ours.toFixed(2)} ms, bare aria2c ${theirs.toFixed(2)} ms`);

      // Five AriaNg-like clients polling a controller with ten downloads running.
      const ten = await controllerRunning(server, `b${run}`, 10);
      let polling = true;
      let requests = 0;
      const poll = async () => {
        while (polling) {
          const started = Date.now();
          await rpc(ten.c.origin, '/jsonrpc', 'system.multicall', [
            [
              { methodName: 'aria2.tellActive', params: [`token:${ten.token}`, KEYS] },
              { methodName: 'aria2.tellWaiting', params: [`token:${ten.token}`, 0, 1000, KEYS] },
              { methodName: 'aria2.tellStopped', params: [`token:${ten.token}`, 0, 1000, KEYS] },
            ],
          ]);
          await rpc(ten.c.origin, '/jsonrpc', 'aria2.getGlobalStat', [`token:${ten.token}`]);
          requests += 2;
          await sleep(Math.max(0, 1000 - (Date.now() - started)));
        }
      };
      try {
        // What the controller spends on the ten downloads alone (sync, egress proxy), for reading the
        // figure: from when the proxy reads their slow tunnels in batches, as it does for most of a
        // long download.
        await sleep(HOLD_SLOW_AFTER_MS + 2000);
        const alone = await cpuOverWindow(ten.c.pid, WINDOW_MS / 2);
        say(
          `run ${run + 1}: the same controller without clients, CPU ${alone.toFixed(2)} % over ${WINDOW_MS / 2000} s`,
        );
        const clients = Array.from({ length: 5 }, () => poll());
        await sleep(3000);
        const requests0 = requests;
        const cpu = await cpuOverWindow(ten.c.pid, WINDOW_MS);
        const made = requests - requests0;
        polling = false;
        await Promise.all(clients);
        cpuRuns.push(cpu);
        say(
          `run ${run + 1}: five polling clients, controller CPU ${cpu.toFixed(2)} % over ${WINDOW_MS / 1000} s; ${made} requests, ≈ ${(((cpu - alone) * WINDOW_MS) / 100 / made).toFixed(2)} ms of CPU each above the controller alone`,
        );
      } finally {
        polling = false;
        await ten.c.stop();
        for (const p of [...paths, ...ten.paths]) server.removeFile(p);
      }
    }
  } finally {
    await server.close();
  }
  return [
    {
      key: 'rpc_tell_active_ratio',
      what: 'tellActive of 100 running downloads through /jsonrpc, p50 / the same call to a bare aria2c',
      unit: '',
      target: '<= 2',
      runs: ratioRuns,
    },
    {
      key: 'rpc_poll_cpu_pct',
      what: 'controller CPU over 30 s with five AriaNg-like clients polling once a second, ten downloads running',
      unit: '%',
      target: '<= 3',
      runs: cpuRuns,
    },
  ];
}
