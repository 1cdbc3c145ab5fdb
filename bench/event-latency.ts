/**
 * `event_latency_p95_ms`: from a download finishing to its owner's socket hearing `task_update` with
 * status `complete`.
 *
 * The start of each interval is the moment the local HTTP server has handed the response's last byte to
 * the kernel (the 'finish' of `res.end`), measured on the same clock as the socket's arrival time (both
 * in this process). That is a little before aria2 has the byte, writes it and fires its notification,
 * so the figure is an upper bound of "aria2 finished → the user sees it": it includes aria2's own
 * finishing, the notification, the controller's targeted tellStatus, moving the file into the user's
 * folder, the database write and the socket push.
 *
 * 30 downloads a run, running together (so the once-a-second progress poll is running too, as in real
 * use), each finishing 250 ms after the one before. The run's figure is its 95th percentile.
 */
import http from 'node:http';
import type net from 'node:net';
import { freePort } from '../backend/src/aria2/daemon.js';
import { json, type LiveSocket, nowMs, openSocket, say, sleep, startControllerProcess } from './harness.js';
import { type Figure, median, percentile } from './lib.js';

const DOWNLOADS = 30;
const SIZE = 256 * 1024;
const FIRST_MS = 1500;
const STAGGER_MS = 250;
const SLICE_MS = 50;

interface TimedFile {
  size: number;
  durationMs: number;
  /** When the last byte of a GET was handed to the kernel. */
  endedAt?: number;
}

/** A tiny server that spreads each file's bytes over its duration and notes when the last one left. */
async function startTimedServer(): Promise<{
  origin: string;
  files: Map<string, TimedFile>;
  close(): Promise<void>;
}> {
  const files = new Map<string, TimedFile>();
  const body = Buffer.alloc(SIZE, 0x61);
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const file = files.get(req.url ?? '');
    if (!file) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': file.size,
      'accept-ranges': 'none',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const steps = Math.max(1, Math.round(file.durationMs / SLICE_MS));
    const piece = Math.ceil(file.size / steps);
    let sent = 0;
    const tick = () => {
      if (res.destroyed) return;
      const n = Math.min(piece, file.size - sent);
      sent += n;
      if (sent >= file.size) {
        res.end(body.subarray(0, n), () => {
          file.endedAt = nowMs();
        });
      } else {
        res.write(body.subarray(0, n));
        setTimeout(tick, SLICE_MS);
      }
    };
    tick();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    files,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export async function benchEventLatency(runs = 3): Promise<Figure[]> {
  const p95Runs: number[] = [];
  const server = await startTimedServer();
  const c = await startControllerProcess();
  let socket: LiveSocket | null = null;
  try {
    const cookie = await c.login();
    await json(c.origin, 'PUT', '/api/config', {
      cookie,
      body: { max_concurrent_downloads: 100, max_active_per_user: 0 },
    });
    socket = await openSocket(c.origin, cookie);
    const heard = new Map<number, number>();
    socket.onMessage((m, at) => {
      if (m.type === 'task_update' && m.task?.status === 'complete' && !heard.has(m.task.id)) {
        heard.set(m.task.id, at);
      }
    });

    for (let run = 0; run < runs; run++) {
      const paths = Array.from({ length: DOWNLOADS }, (_, i) => `/latency${run}/f${i}.bin`);
      paths.forEach((p, i) => {
        server.files.set(p, { size: SIZE, durationMs: FIRST_MS + i * STAGGER_MS });
      });
      const created = await json<{ created: { id: number; uri: string }[] }>(
        c.origin,
        'POST',
        '/api/tasks/batch',
        { cookie, body: { uris: paths.map((p) => `${server.origin}${p}`) } },
      );
      if (created.created.length !== DOWNLOADS)
        throw new Error(`only ${created.created.length} were created`);
      const pathOf = new Map(created.created.map((t) => [t.id, new URL(t.uri).pathname]));

      const deadline = Date.now() + FIRST_MS + DOWNLOADS * STAGGER_MS + 30_000;
      while ([...pathOf.keys()].some((id) => !heard.has(id))) {
        if (Date.now() > deadline) {
          throw new Error(
            `only ${[...pathOf.keys()].filter((id) => heard.has(id)).length} completions were heard`,
          );
        }
        await sleep(50);
      }
      const latencies = [...pathOf].map(([id, p]) => {
        const ended = server.files.get(p)?.endedAt;
        if (ended === undefined) throw new Error(`the server never finished sending ${p}`);
        return heard.get(id)! - ended;
      });
      const p95 = percentile(latencies, 95);
      p95Runs.push(p95);
      say(
        `run ${run + 1}: ${DOWNLOADS} completions, p50 ${median(latencies).toFixed(1)} ms, ` +
          `p95 ${p95.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
      );
      for (const p of paths) server.files.delete(p);
      await json(c.origin, 'DELETE', '/api/tasks?delete_files=true', { cookie });
    }
  } finally {
    await socket?.close();
    await c.stop();
    await server.close();
  }
  return [
    {
      key: 'event_latency_p95_ms',
      what: "p95 from a download's last byte leaving the server to the owner's socket hearing complete",
      unit: 'ms',
      target: '<= 25',
      runs: p95Runs,
    },
  ];
}
