/**
 * `throughput_ratio`: 1 GiB over loopback through the controller ÷ the same file by a bare aria2c with
 * the same download options (`--continue=true --file-allocation=none`, split defaults), side by side in
 * the same run, one download at a time ("ABA" below). Not both at once: two identical bare aria2c
 * downloading the same file together from one server split the bandwidth anywhere from 1:2 to 5:4.
 * On a busy 2-core machine one download varies by ±15% by itself: the median of several ABA runs
 * is what reaches the few per cent the target is about.
 *
 * - Through the controller: from sending `POST /api/tasks` to the owner's socket hearing the task
 *   `complete` (the HEAD size check, the hand-over, the download, the move into the user's folder and
 *   the push all count: it is what a user waits for).
 * - Bare: from sending `aria2.addUri` to aria2's `onDownloadComplete` notification.
 * The ratio is bare time ÷ controller time (1 = the controller costs nothing). Each downloaded file is
 * deleted at once (1 GiB each).
 *
 * The test file server writes for as long as the socket takes data, so while aria2 reads from loopback
 * this process's event loop is busy for most of a download (bare or not): intermediate times (such as
 * when the POST was answered) mean nothing here. Both sides' end events are read as soon as the last
 * byte is out, so the totals compare fairly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Aria2Client, type Aria2Notification } from '../backend/src/aria2/client.js';
import { startTestAria2 } from '../backend/test/helpers/aria2.js';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import {
  cpuSeconds,
  json,
  type LiveSocket,
  nowMs,
  openSocket,
  say,
  startControllerProcess,
} from './harness.js';
import type { Figure } from './lib.js';

const SIZE = 1024 ** 3;
const MiB = 1024 * 1024;

export async function benchThroughput(runs = 6): Promise<Figure[]> {
  const ratioRuns: number[] = [];
  // The controller's own CPU per download (its egress proxy relays every byte): load blurs it less.
  const cpuRuns: number[] = [];
  const server = await startFileServer();
  server.addFile('/big.bin', { size: SIZE });
  const uri = server.url('/big.bin');
  const bare = await startTestAria2({ extraArgs: ['--continue=true'] });
  const client = new Aria2Client({ url: bare.url, secret: bare.secret });
  await client.start();
  const c = await startControllerProcess();
  let socket: LiveSocket | null = null;
  try {
    const cookie = await c.login();
    socket = await openSocket(c.origin, cookie);
    const finished = new Map<number, { status: string; at: number }>();
    socket.onMessage((m, at) => {
      if (m.type === 'task_update' && m.task && ['complete', 'error'].includes(m.task.status)) {
        finished.set(m.task.id, { status: m.task.status, at });
      }
    });

    const viaController = async (): Promise<number> => {
      const cpu0 = cpuSeconds(c.pid);
      const start = nowMs();
      const task = await json<{ id: number }>(c.origin, 'POST', '/api/tasks', { cookie, body: { uri } });
      const end = await new Promise<{ status: string; at: number }>((resolve, reject) => {
        const timer = setInterval(() => {
          const f = finished.get(task.id);
          if (f) {
            clearInterval(timer);
            resolve(f);
          } else if (nowMs() - start > 300_000) {
            clearInterval(timer);
            reject(new Error('the controller download did not finish within 5 min'));
          }
        }, 5);
      });
      if (end.status !== 'complete') throw new Error('the controller download failed');
      cpuRuns.push(cpuSeconds(c.pid) - cpu0);
      await json(c.origin, 'DELETE', `/api/tasks/${task.id}?delete_files=true`, { cookie });
      return end.at - start;
    };

    const bareDownload = async (): Promise<number> => {
      let gid = '';
      const start = nowMs();
      const done = new Promise<{ method: string; at: number }>((resolve) => {
        // A 1 GiB download cannot finish before addUri answers: notifications before that are not ours.
        const listener = (n: Aria2Notification) => {
          if (
            gid &&
            n.gid === gid &&
            (n.method === 'aria2.onDownloadComplete' || n.method === 'aria2.onDownloadError')
          ) {
            client.off('notification', listener);
            resolve({ method: n.method, at: nowMs() });
          }
        };
        client.on('notification', listener);
      });
      gid = await client.addUri([uri], { dir: bare.dir });
      const end = await done;
      if (end.method !== 'aria2.onDownloadComplete') throw new Error('the bare aria2c download failed');
      await client.removeDownloadResult(gid).catch(() => undefined);
      fs.rmSync(path.join(bare.dir, 'big.bin'), { force: true });
      return end.at - start;
    };

    // ABA: each run times three downloads, alternately bare-controller-bare and controller-bare-
    // controller, and compares the middle one with the mean of the two around it.
    const mean = (a: number, b: number) => (a + b) / 2;
    const secs = (ms: number) => (ms / 1000).toFixed(2);
    for (let run = 0; run < runs; run++) {
      const cpuBefore = cpuRuns.length;
      let ctlMs: number;
      let bareMs: number;
      let times: string;
      if (run % 2 === 0) {
        const b1 = await bareDownload();
        ctlMs = await viaController();
        const b2 = await bareDownload();
        bareMs = mean(b1, b2);
        times = `bare ${secs(b1)} s, controller ${secs(ctlMs)} s, bare ${secs(b2)} s`;
      } else {
        const c1 = await viaController();
        bareMs = await bareDownload();
        const c2 = await viaController();
        ctlMs = mean(c1, c2);
        times = `controller ${secs(c1)} s, bare ${secs(bareMs)} s, controller ${secs(c2)} s`;
      }
      const ratio = bareMs / ctlMs;
      ratioRuns.push(ratio);
      const rate = (ms: number) => `${(SIZE / MiB / (ms / 1000)).toFixed(0)}`;
      say(
        `run ${run + 1}: ${times}; ${rate(ctlMs)} vs ${rate(bareMs)} MiB/s, ratio ${ratio.toFixed(3)}; ` +
          `controller CPU ${cpuRuns
            .slice(cpuBefore)
            .map((s) => s.toFixed(2))
            .join(', ')} s per GiB`,
      );
    }
  } finally {
    await socket?.close();
    await c.stop();
    await client.close();
    await bare.stop();
    await server.close();
  }
  return [
    {
      key: 'throughput_ratio',
      what: '1 GiB over loopback: through the controller / by a bare aria2c, same options',
      unit: 'x',
      target: '>= 0.98',
      runs: ratioRuns,
    },
    {
      key: 'throughput_controller_cpu_s',
      what: "the controller's own CPU for one 1 GiB download through it (its egress proxy relays every byte)",
      unit: 's',
      target: '',
      runs: cpuRuns,
    },
  ];
}
