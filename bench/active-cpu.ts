/**
 * `active_100_cpu_pct` (and `active_1000_cpu_pct` with 1,000 downloads): the controller's own CPU (not its aria2c) over 30 s while 100 downloads run
 * from a throttled local server, with the owner's UI open (one socket receiving every update).
 * The sync engine then refreshes progress once a second in one multicall and pushes the changed rows;
 * how far the socket is behind is printed as the time between one task's updates in the window.
 * Each run also prints the bytes the local server sent in the window: every one of them passes through
 * the controller's egress proxy, whose relaying is most of the figure (BENCHMARKS.md), and the
 * controller's read and write system calls per second and download (`/proc/<pid>/io`): a count that
 * the machine's load blurs less than the CPU.
 */
import fs from 'node:fs';
import { HOLD_SLOW_AFTER_MS } from '../backend/src/egress/proxy.js';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import {
  cpuOverWindow,
  cpuSeconds,
  json,
  type LiveSocket,
  openSocket,
  say,
  sleep,
  startControllerProcess,
} from './harness.js';
import { type Figure, percentile } from './lib.js';

/** Bytes per second per download: slow enough that none finishes within the window. */
const THROTTLE = 16 * 1024;
const SIZE = 64 * 1024 * 1024;
const WINDOW_MS = 30_000;

/** The controller's aria2c: its child process of that name. */
function aria2Pid(pid: number): number | null {
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    for (const child of fs
      .readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)) {
      if (fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'aria2c') return Number(child);
    }
  }
  return null;
}

/** The read and write system calls a process has made (syscr, syscw of `/proc/<pid>/io`). */
function syscalls(pid: number): { reads: number; writes: number } {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN);
  return { reads: field('syscr'), writes: field('syscw') };
}

export async function benchActiveCpu(runs = 3, DOWNLOADS = 100, target = '<= 2'): Promise<Figure[]> {
  const cpuRuns: number[] = [];
  const server = await startFileServer();
  try {
    for (let run = 0; run < runs; run++) {
      const paths = Array.from({ length: DOWNLOADS }, (_, i) => `/active${run}/f${i}.bin`);
      for (const p of paths) server.addFile(p, { size: SIZE }, { throttle: THROTTLE });
      const c = await startControllerProcess();
      let socket: LiveSocket | null = null;
      try {
        const cookie = await c.login();
        // The defaults run 5 at a time, 3 per user; the benchmark wants all of one user's at once.
        await json(c.origin, 'PUT', '/api/config', {
          cookie,
          body: { max_concurrent_downloads: DOWNLOADS, max_active_per_user: 0 },
        });
        const created = await json<{ created: unknown[]; failed: unknown[] }>(
          c.origin,
          'POST',
          '/api/tasks/batch',
          {
            cookie,
            body: { uris: paths.map((p) => server.url(p)) },
          },
        );
        if (created.created.length !== DOWNLOADS) {
          throw new Error(
            `only ${created.created.length} downloads were created: ${JSON.stringify(created.failed[0])}`,
          );
        }
        const deadline = Date.now() + 60_000;
        for (;;) {
          const active = await json<{ total: number }>(c.origin, 'GET', '/api/tasks?status=active&limit=1', {
            cookie,
          });
          if (active.total === DOWNLOADS) break;
          if (Date.now() > deadline)
            throw new Error(`only ${active.total} of ${DOWNLOADS} downloads became active`);
          await sleep(250);
        }
        socket = await openSocket(c.origin, cookie);
        // The window is a long download's steady state: the proxy reads the slow tunnels in batches.
        await sleep(HOLD_SLOW_AFTER_MS + 2000);
        const before = socket.received;
        // How far the socket is behind: per running task, the time between its updates in the window.
        const lastUpdate = new Map<number, number>();
        const gaps: number[] = [];
        let measuring = true;
        socket.onMessage((m, at) => {
          if (!measuring || m.type !== 'task_update' || !m.task) return;
          const last = lastUpdate.get(m.task.id);
          if (last !== undefined) gaps.push(at - last);
          lastUpdate.set(m.task.id, at);
        });
        const sent = () => server.requests.reduce((n, r) => n + r.bytesSent, 0);
        const sentBefore = sent();
        const callsBefore = syscalls(c.pid);
        const aria2 = aria2Pid(c.pid);
        const aria2Before = aria2 ? cpuSeconds(aria2) : 0;
        const cpu = await cpuOverWindow(c.pid, WINDOW_MS);
        measuring = false;
        const callsAfter = syscalls(c.pid);
        const aria2Cpu = aria2 ? ((cpuSeconds(aria2) - aria2Before) / (WINDOW_MS / 1000)) * 100 : Number.NaN;
        const perDownload = (n: number) => (n / (WINDOW_MS / 1000) / DOWNLOADS).toFixed(2);
        const messages = socket.received - before;
        const mibPerSecond = (sent() - sentBefore) / (WINDOW_MS / 1000) / 1024 ** 2;
        const still = await json<{ total: number }>(c.origin, 'GET', '/api/tasks?status=active&limit=1', {
          cookie,
        });
        if (still.total !== DOWNLOADS) throw new Error(`only ${still.total} downloads were still active`);
        cpuRuns.push(cpu);
        say(
          `run ${run + 1}: ${DOWNLOADS} active, controller CPU ${cpu.toFixed(2)} % over ${WINDOW_MS / 1000} s ` +
            `(its aria2c ${aria2Cpu.toFixed(2)} %), ` +
            `${(messages / (WINDOW_MS / 1000)).toFixed(0)} socket messages/s, ` +
            `${perDownload(callsAfter.reads - callsBefore.reads)} reads and ` +
            `${perDownload(callsAfter.writes - callsBefore.writes)} writes (system calls) a second per download, ` +
            `${mibPerSecond.toFixed(1)} MiB/s served (${((mibPerSecond * 1024) / DOWNLOADS).toFixed(1)} KiB/s each); ` +
            `a task's updates ${gaps.length > 0 ? `${percentile(gaps, 50).toFixed(0)} ms apart at the median, p95 ${percentile(gaps, 95).toFixed(0)}, max ${Math.max(...gaps).toFixed(0)}` : 'none'} ` +
            `(${lastUpdate.size} tasks heard)`,
        );
      } finally {
        await socket?.close();
        await c.stop();
        for (const p of paths) server.removeFile(p);
      }
    }
  } finally {
    await server.close();
  }
  return [
    {
      key: `active_${DOWNLOADS}_cpu_pct`,
      what: `controller CPU over 30 s while ${DOWNLOADS} downloads run (throttled local server), one socket`,
      unit: '%',
      target,
      runs: cpuRuns,
    },
  ];
}
