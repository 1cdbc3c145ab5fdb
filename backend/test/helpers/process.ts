/**
 * The controller as a real process, for tests that kill it: `node backend/dist/main.js` (compiled by
 * scripts/build-backend.mjs, which the tests' global set-up and the benchmarks run) with its own DATA_DIR and PORT, exactly as an operator starts it (embedded aria2c included).
 *
 *   const p = await spawnController({ dataDir, port });   // resolves once GET /api/health answers
 *   const cookie = await p.login('admin', ADMIN_PASSWORD);
 *   await p.api('POST', '/api/tasks', { uri }, cookie);    // { status, body }
 *   await p.kill('SIGKILL');                              // resolves once the controller and its aria2c are gone
 *   const again = await spawnController({ dataDir, port }); // same data folder: a restart
 *   await again.stop();                                   // SIGTERM: a clean shutdown (aria2 saves its session)
 *
 * The embedded aria2c runs with `--stop-with-process=<controller pid>`, so it stops by itself when the
 * controller dies, possibly a moment later: `kill` waits for it too (a second aria2c on the same session
 * file and folders would make the restart meaningless). Its pid is found through /proc (the child whose
 * parent is the controller), never through its command line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/aria2/daemon.js';
import { ADMIN_PASSWORD } from './controller.js';
import { waitFor } from './wait.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** How `npm start` runs the controller under Node (scripts/start.mjs reads the same file). */
export const CONTROLLER_NODE_ARGS: string[] = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'controller-node-args.json'), 'utf8'),
);
/** The environment `npm start` adds for the controller (scripts/start.mjs reads the same file). */
export const CONTROLLER_ENV: Record<string, string> = JSON.parse(
  fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'controller-env.json'), 'utf8'),
);
/** What `npm start` runs: the compiled controller (scripts/setup.mjs builds it). */
const CONTROLLER_MAIN = path.join(REPO_ROOT, 'backend', 'dist', 'main.js');

export interface ControllerProcess {
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  readonly dataDir: string;
  /** The embedded aria2c's pid, once the controller started it. */
  readonly aria2Pid: number | null;
  /** What the process wrote to stdout and stderr (the last 20 000 characters), for failure messages. */
  output(): string;
  /** A JSON call; `body` is parsed when the answer is JSON. Never throws for an HTTP status. */
  api<T = unknown>(
    method: string,
    url: string,
    payload?: unknown,
    cookie?: string,
  ): Promise<{ status: number; body: T }>;
  /** Signs in over HTTP and returns the cookie header value. */
  login(username: string, password: string): Promise<string>;
  /** Sends a signal and resolves once the controller and its aria2c have exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM, waited for (the controller saves aria2's session and stops it). */
  stop(): Promise<void>;
  readonly exited: boolean;
}

export interface SpawnOptions {
  dataDir: string;
  /** Default: a free port. */
  port?: number;
  /** Added to (or overriding) the defaults below. */
  env?: Record<string, string>;
  /** Extra Node options before the controller's own (profiling, runtime flags to measure). */
  nodeArgs?: string[];
  /** Show the controller's own output as it runs. */
  showOutput?: boolean;
  /** How long it may take to answer /api/health (default 30 s; a loaded machine's cold start takes longer). */
  startTimeoutMs?: number;
}

const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of spawned) child.kill('SIGKILL');
});

/** The pids whose parent is `ppid` and whose command name is `comm`, read from /proc/<pid>/stat. */
export function childPids(ppid: number, comm: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.ppid === ppid && stat.comm === comm) out.push(Number(entry));
  }
  return out;
}

function procStat(pid: number): { comm: string; state: string; ppid: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  return { comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

/** Gone, or a zombie nobody reaped yet (it runs no code any more). */
export function processGone(pid: number): boolean {
  const stat = procStat(pid);
  return stat === null || stat.state === 'Z' || stat.state === 'X';
}

/** Starts the controller and resolves once it answers GET /api/health with its aria2 connected. */
export async function spawnController(options: SpawnOptions): Promise<ControllerProcess> {
  if (!fs.existsSync(CONTROLLER_MAIN)) {
    throw new Error('backend/dist/main.js is missing: run `node scripts/build-backend.mjs` first');
  }
  const port = options.port ?? (await freePort());
  fs.mkdirSync(options.dataDir, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    DATA_DIR: options.dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD,
    ALLOW_PRIVATE_NETWORK: 'true',
    MIN_FREE_DISK: '0',
    LOG_LEVEL: 'warn',
    ...CONTROLLER_ENV,
    ...options.env,
  };
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...CONTROLLER_NODE_ARGS, CONTROLLER_MAIN],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  spawned.add(child);
  let output = '';
  const collect = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  if (options.showOutput) {
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
  }
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      spawned.delete(child);
      resolve();
    }),
  );
  const pid = child.pid!;
  const origin = `http://127.0.0.1:${port}`;
  let aria2Pid: number | null = null;

  const api = async <T>(method: string, url: string, payload?: unknown, cookie?: string) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = cookie;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${origin}${url}`, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
    return { status: res.status, body: body as T };
  };

  const waitGone = async () => {
    await exitPromise;
    // The aria2c child stops by itself (--stop-with-process); wait until it has.
    if (aria2Pid !== null) {
      const a = aria2Pid;
      await waitFor(() => processGone(a), 20_000, `the embedded aria2c (pid ${a}) to stop`);
    }
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`the controller exited at start:\n${output}`);
        const r = await api<{ aria2?: { connected?: boolean } }>('GET', '/api/health');
        return r.status === 200 && r.body.aria2?.connected === true;
      },
      options.startTimeoutMs ?? 30_000,
      'the controller process to answer /api/health with aria2 connected',
    );
    // With ARIA2_NODES (or ARIA2_RPC_URL) the daemons are the test's own: no embedded aria2c.
    if (!env.ARIA2_NODES && !env.ARIA2_RPC_URL) {
      aria2Pid = await waitFor(() => childPids(pid, 'aria2c')[0], 5_000, 'the embedded aria2c child');
    }
  } catch (err) {
    child.kill('SIGKILL');
    await waitGone().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n--- controller output ---\n${output}`);
  }

  return {
    pid,
    port,
    origin,
    dataDir: options.dataDir,
    get aria2Pid() {
      return aria2Pid;
    },
    get exited() {
      return exited;
    },
    output: () => output,
    api,
    async login(username, password) {
      const res = await fetch(`${origin}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0]!)
        .find((c) => c.startsWith('aria2_session='));
      if (res.status !== 200 || !cookie) throw new Error(`login of ${username} failed: ${res.status}`);
      return cookie;
    },
    async kill(signal = 'SIGKILL') {
      if (!exited) child.kill(signal);
      await waitGone();
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await waitGone();
    },
  };
}
