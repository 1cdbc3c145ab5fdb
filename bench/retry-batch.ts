/**
 * Batch retry of 1,000 failed tasks (`POST /api/tasks/retry`) until all are handed to aria2, against
 * two floors timed in the same run just before it: adding the same 1,000 URIs straight to a bare
 * aria2c in one multicall (`batch_retry_vs_raw_ratio`), and that plus the same 1,000 HEAD requests at
 * the same concurrency that the retry's size check sends first (`batch_retry_vs_floor_ratio`).
 */
import os from 'node:os';
import { Aria2Client } from '../backend/src/aria2/client.js';
import { HEAD_CONCURRENCY, mapLimit } from '../backend/src/services/tasks/sources.js';
import { startTestAria2 } from '../backend/test/helpers/aria2.js';
import { startTestController, waitFor } from '../backend/test/helpers/controller.js';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import { type Figure, timeMs } from './lib.js';
import { head } from './retry-continued.js';

const COUNT = 1000;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

export async function benchRetryBatch(runs = 3): Promise<Figure[]> {
  const server = await startFileServer();
  const retryRuns: number[] = [];
  const ratioRuns: number[] = [];
  const floorRuns: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const paths = Array.from({ length: COUNT }, (_, i) => `/r${run}/f${i}.bin`);
      for (const p of paths) server.addFile(p, Buffer.alloc(1000, 1), { status: 404 });
      const uris = paths.map((p) => server.url(p));

      // The controller: 1,000 failed tasks of one user, retried in one request.
      const c = await startTestController();
      try {
        const cookie = await c.adminCookie();
        const created = await c.app.inject({
          method: 'POST',
          url: '/api/tasks/batch',
          headers: { cookie },
          payload: { uris },
        });
        const ids: number[] = created.json().created.map((t: { id: number }) => t.id);
        if (ids.length !== COUNT) throw new Error(`only ${ids.length} tasks were created`);
        await waitFor(
          async () => {
            const r = await c.app.inject({
              method: 'GET',
              url: '/api/tasks?status=error&limit=1',
              headers: { cookie },
            });
            return r.json().total === COUNT;
          },
          120_000,
          'all tasks to fail',
        );
        for (const p of paths) server.update(p, { status: undefined, throttle: 1 });

        // The floors, with the files served as the retry finds them: the HEADs at the same
        // concurrency (a new connection each), then a bare aria2c taking the same URIs in one multicall.
        const headsMs = await timeMs(() => mapLimit(uris, HEAD_CONCURRENCY, head));
        const bare = await startTestAria2({ extraArgs: ['--max-concurrent-downloads=5', '--pause=true'] });
        const client = new Aria2Client({ url: bare.url, secret: bare.secret });
        await client.start();
        const rawMs = await timeMs(() =>
          client.multicall(uris.map((u) => ({ method: 'aria2.addUri', params: [[u], { dir: bare.dir }] }))),
        );
        await client.close();
        await bare.stop();

        let ok = 0;
        // The controller runs in this process: its CPU for the request (the client's inject included).
        const cpu0 = process.cpuUsage();
        const load0 = os.loadavg()[0]!;
        const retryMs = await timeMs(async () => {
          const r = await c.app.inject({
            method: 'POST',
            url: '/api/tasks/retry',
            headers: { cookie },
            payload: { ids },
          });
          ok = r.json().results.filter((x: { ok: boolean }) => x.ok).length;
        });
        if (ok !== COUNT) throw new Error(`only ${ok} of ${COUNT} retries succeeded`);
        retryRuns.push(retryMs / 1000);
        ratioRuns.push(retryMs / rawMs);
        floorRuns.push(retryMs / (headsMs + rawMs));
        process.stdout.write(
          `  run ${run + 1}: retry ${(retryMs / 1000).toFixed(3)} s (CPU ${(cpuMs(process.cpuUsage(cpu0)) / 1000).toFixed(3)} s), HEADs ${headsMs.toFixed(1)} ms, raw multicall ${rawMs.toFixed(1)} ms, load ${load0.toFixed(1)} -> ${os.loadavg()[0]!.toFixed(1)}\n`,
        );
      } finally {
        await c.destroy();
      }
      for (const p of paths) server.removeFile(p);
    }
  } finally {
    await server.close();
  }
  return [
    {
      key: 'batch_retry_1000_s',
      what: 'POST /api/tasks/retry of 1,000 failed tasks, until all are handed to aria2',
      unit: 's',
      target: '<= 5',
      runs: retryRuns,
    },
    {
      key: 'batch_retry_vs_raw_ratio',
      what: 'that time / adding the same 1,000 URIs to aria2 in one multicall',
      unit: 'x',
      target: '<= 3',
      runs: ratioRuns,
    },
    {
      key: 'batch_retry_vs_floor_ratio',
      what: 'that time / the same 1,000 HEADs at the same concurrency plus that multicall, in the same run',
      unit: 'x',
      target: '<= 1.5',
      runs: floorRuns,
    },
  ];
}
