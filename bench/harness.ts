/**
 * The benchmarks' real controller: a child process started as `npm start` runs it, with its own DATA_DIR in a temp folder, on a free loopback port, talked to
 * over HTTP and WebSocket like any client. Also: CPU and memory of that process from /proc, and seeding
 * its SQLite file with many finished tasks before it starts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { type DatabaseTarget, openDatabase } from '../backend/src/db/index.js';
import { hashPassword } from '../backend/src/domain/passwords.js';
import type { NewTaskRow } from '../backend/src/repositories/tasks.js';
import { spawnController } from '../backend/test/helpers/process.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ADMIN_PASSWORD = 'bench-admin-password';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const nowMs = () => performance.now();

/** Writes one progress line (phases are printed so a long run shows where it is). */
export function say(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

// ---- /proc -------------------------------------------------------------------------------------

let clockTicks = 0;
function ticksPerSecond(): number {
  if (!clockTicks) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) the process itself has used: its own threads, never its children. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]; 14 utime and 15 stime are fields[11] and fields[12].
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM). */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** The process's CPU use over a window, in percent of one core. */
export async function cpuOverWindow(pid: number, windowMs: number): Promise<number> {
  const cpu0 = cpuSeconds(pid);
  const t0 = nowMs();
  await sleep(windowMs);
  const cpu1 = cpuSeconds(pid);
  return ((cpu1 - cpu0) / ((nowMs() - t0) / 1000)) * 100;
}

// ---- HTTP and WebSocket clients ----------------------------------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export interface Response {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTP request over a keep-alive connection; resolves with the whole body as text. */
export function request(
  origin: string,
  method: string,
  urlPath: string,
  options: { cookie?: string; body?: unknown } = {},
): Promise<Response> {
  const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${origin}${urlPath}`,
      {
        method,
        agent,
        headers: {
          ...(options.cookie ? { cookie: options.cookie } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.end(payload);
  });
}

/** A request whose status must be 2xx; returns the parsed JSON body. */
export async function json<T = unknown>(
  origin: string,
  method: string,
  urlPath: string,
  options: { cookie?: string; body?: unknown } = {},
): Promise<T> {
  const res = await request(origin, method, urlPath, options);
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${method} ${urlPath}: ${res.status} ${res.body.slice(0, 300)}`);
  }
  return (res.body ? JSON.parse(res.body) : null) as T;
}

export interface TaskMessage {
  type: 'task_update' | 'task_removed' | 'stats';
  task?: { id: number; status: string };
  id?: number;
}

/** A live socket of a signed-in user; `onMessage` sees every message with its arrival time. */
export interface LiveSocket {
  readonly received: number;
  onMessage(fn: (message: TaskMessage, at: number) => void): void;
  close(): Promise<void>;
}

export function openSocket(origin: string, cookie: string): Promise<LiveSocket> {
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws/tasks`, { headers: { cookie } });
  const listeners: ((m: TaskMessage, at: number) => void)[] = [];
  let received = 0;
  ws.on('message', (data) => {
    const at = nowMs();
    received++;
    if (listeners.length === 0) return;
    const message = JSON.parse(String(data)) as TaskMessage;
    for (const fn of listeners) fn(message, at);
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`socket closed at once with ${code}`)));
    ws.once('open', () => {
      ws.removeAllListeners('close');
      resolve({
        get received() {
          return received;
        },
        onMessage: (fn) => listeners.push(fn),
        close: () =>
          new Promise<void>((done) => {
            if (ws.readyState === ws.CLOSED) return done();
            ws.once('close', () => done());
            ws.close();
          }),
      });
    });
  });
}

// ---- the controller process --------------------------------------------------------------------

export interface ControllerProcess {
  readonly pid: number;
  readonly origin: string;
  readonly dataDir: string;
  /** Signs the admin in and returns the Cookie header value. */
  login(): Promise<string>;
  /** SIGTERM (the controller saves aria2's session and stops it), then removes the data folder. */
  stop(): Promise<void>;
}

/** A fresh data folder in the temp directory. */
export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-bench-'));
}

/**
 * Node options for every controller process, from the environment:
 * - `BENCH_CPU_PROF=<folder>`: each controller writes V8 CPU profiles there when it stops (one per
 *   thread; the largest is the main thread's), for Chrome DevTools or speedscope.
 * - `BENCH_CONTROLLER_NODE_ARGS="--max-semi-space-size=8"`: try runtime flags on the real benchmarks.
 * (`BENCH_CONTROLLER_OUTPUT=1` shows the controllers' own output.)
 */
function envNodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const extra = (process.env.BENCH_CONTROLLER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  return [...extra, ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [])];
}

/**
 * Starts the controller as its own process, the way `npm start` runs it (the tests' spawnController),
 * and resolves once `/api/health` says aria2 is connected. `dataDir` may hold a seeded database; it
 * is removed by `stop()`.
 */
export async function startControllerProcess(
  options: { dataDir?: string; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<ControllerProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const p = await spawnController({
    dataDir,
    env: { ADMIN_PASSWORD, ...options.env },
    nodeArgs: [...(options.nodeArgs ?? []), ...envNodeArgs()],
    showOutput: !!process.env.BENCH_CONTROLLER_OUTPUT,
  });
  let stopped = false;
  return {
    pid: p.pid,
    origin: p.origin,
    dataDir,
    login: () => p.login('admin', ADMIN_PASSWORD),
    async stop() {
      if (stopped) return;
      stopped = true;
      agent.destroy();
      await p.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// ---- seeding -----------------------------------------------------------------------------------

/**
 * Writes the admin user (id 1, so the controller creates no other) and `count` finished tasks of
 * theirs straight into `<dataDir>/controller.db` (or `target`), through the project's own migrations. About four in
 * five are complete (with an artifact), the rest failed; creation times one minute apart.
 */
export async function seedDatabase(
  dataDir: string,
  count: number,
  target: DatabaseTarget = { kind: 'sqlite', file: path.join(dataDir, 'controller.db') },
): Promise<void> {
  const downloads = path.join(dataDir, 'downloads');
  const db = await openDatabase(target);
  try {
    const start = Date.parse('2025-06-01T00:00:00Z');
    const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
    const rows: NewTaskRow[] = [];
    let used = 0;
    for (let i = 0; i < count; i++) {
      const gid = randomBytes(8).toString('hex');
      const failed = i % 5 === 4;
      const name = `dataset-${String(i).padStart(5, '0')}.${['iso', 'zip', 'tar.gz', 'mkv', 'pdf'][i % 5]}`;
      const uri = `https://mirror${i % 7}.example.org/pub/releases/${i % 97}/${name}`;
      const size = 1_000_000 + ((i * 7_919_993) % 4_000_000_000);
      const created = start + i * 60_000;
      const finished = created + 30_000 + (i % 600) * 1000;
      if (!failed) used += size;
      rows.push({
        owner_id: 1,
        gid,
        uri,
        display_uri: uri,
        status: failed ? 'error' : 'complete',
        name,
        total_length: size,
        completed_length: failed ? Math.floor(size / 3) : size,
        download_speed: 0,
        upload_speed: 0,
        error: failed ? 'Resource not found' : null,
        created_at: iso(created),
        updated_at: iso(finished),
        finished_at: iso(finished),
        artifact_path: failed ? null : name,
        artifact_token: failed ? null : randomBytes(24).toString('base64url'),
        dir: path.join(downloads, '1', '.incomplete', gid),
        counted_bytes: failed ? 0 : size,
      });
    }
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('users')
        .values({
          id: 1,
          username: 'admin',
          password_hash: await hashPassword(ADMIN_PASSWORD),
          is_admin: 1,
          quota: 0,
          used_space: used,
          created_at: iso(start),
        })
        .execute();
      for (let i = 0; i < rows.length; i += 500) {
        await trx
          .insertInto('tasks')
          .values(rows.slice(i, i + 500))
          .execute();
      }
    });
  } finally {
    await db.destroy();
  }
}

/** A copy of a seeded data folder (the database file only), so each run starts from the same rows. */
export function copyDataDir(from: string): string {
  const to = tempDataDir();
  for (const file of fs.readdirSync(from)) {
    if (file.startsWith('controller.db')) fs.copyFileSync(path.join(from, file), path.join(to, file));
  }
  return to;
}
