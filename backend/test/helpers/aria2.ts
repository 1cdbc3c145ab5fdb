/**
 * A bare aria2c for tests, started as a child of the test process: on a free loopback port, with a
 * random secret, downloading into a fresh temp folder, offline (no DHT, LPD or peer exchange) and
 * tied to the test process (`--stop-with-process`), so it cannot outlive a crashed test run.
 *
 *   const aria2 = await startTestAria2();               // resolves once aria2.getVersion answers
 *   const client = new Aria2Client({ url: aria2.url, secret: aria2.secret });
 *   await aria2.kill('SIGKILL');                         // a crash; resolves when the process is gone
 *   await aria2.restart();                               // same port and secret, a new session id
 *   await aria2.stop();                                  // in afterAll/afterEach: kills it, removes the temp folder
 *
 * Use it for gateway tests and as an "external aria2" for the controller
 * (`ARIA2_RPC_URL: aria2.httpUrl, ARIA2_RPC_SECRET: aria2.secret`). With `session: true` it runs with
 * `--save-session` and `--input-file` on a session file (created first, as aria2 requires), so after
 * `aria2.saveSession` and a restart its unfinished downloads come back with their gids.
 * `rpc(method, params)` is a raw HTTP JSON-RPC call (token added), independent of the gateway under test.
 *
 * `waitFor` (from `helpers/wait.ts`) is re-exported so gateway tests need not load the whole controller.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/aria2/daemon.js';

/** Keeps a BitTorrent-capable aria2c offline: no DHT, local peer discovery or peer exchange. */
export const OFFLINE_ARIA2_ARGS = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
];

/** The flags a test daemon runs with, besides port, secret, folder and parent pid. */
export const TEST_DAEMON_FLAGS = [
  '--enable-rpc',
  '--rpc-listen-all=false',
  '--no-conf',
  '--quiet',
  ...OFFLINE_ARIA2_ARGS,
  '--file-allocation=none',
  '--seed-time=0',
];

export interface TestAria2Options {
  /** The download folder (--dir); default `<temp>/downloads`, created. */
  dir?: string;
  /** true: `<temp>/aria2.session`; a string: that file. Used as --save-session and --input-file. */
  session?: boolean | string;
  /** The --rpc-secret; default random; null runs without a secret. */
  secret?: string | null;
  /** More aria2c options, e.g. `--max-concurrent-downloads=1`. */
  extraArgs?: string[];
}

export interface TestAria2 {
  /** `ws://127.0.0.1:<port>/jsonrpc` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/jsonrpc`, the form of ARIA2_RPC_URL. */
  readonly httpUrl: string;
  readonly secret: string | null;
  readonly port: number;
  /** The download folder. */
  readonly dir: string;
  readonly sessionFile: string | null;
  /** The current child's pid (a restart changes it). */
  readonly pid: number;
  readonly running: boolean;
  /** Sends a signal (default SIGKILL) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it if it runs (SIGTERM, which saves the session), then starts it again on the same port and secret. */
  restart(): Promise<void>;
  /** Kills it and removes its temp folder; safe to call twice. */
  stop(): Promise<void>;
  /** A raw JSON-RPC call over HTTP with the token; throws the aria2 error message on failure. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function rpcCall<T>(
  port: number,
  secret: string | null,
  method: string,
  params: unknown[],
): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: secret ? [`token:${secret}`, ...params] : params,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new Error(`aria2 ${method}: ${body.error.message}`);
  return body.result as T;
}

/** Spawns aria2c and resolves once it answers; rejects (with its stderr) if it exits first. */
async function spawnAria2(args: string[], port: number, secret: string | null): Promise<ChildProcess> {
  const child = spawn('aria2c', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`aria2c exited at start (code ${child.exitCode}): ${stderr.trim() || 'no output'}`);
    }
    try {
      await Promise.race([rpcCall(port, secret, 'aria2.getVersion', []), spawnError]);
      return child;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('aria2c is not installed');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('aria2c did not answer within 15 s');
}

/** Starts a test aria2c; see the top of this file. */
export async function startTestAria2(options: TestAria2Options = {}): Promise<TestAria2> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-test-'));
  const dir = options.dir ?? path.join(root, 'downloads');
  fs.mkdirSync(dir, { recursive: true });
  const secret = options.secret === undefined ? randomBytes(16).toString('hex') : options.secret;
  const sessionFile =
    options.session === true ? path.join(root, 'aria2.session') : options.session ? options.session : null;
  // aria2 refuses to start when --input-file names a missing file.
  if (sessionFile && !fs.existsSync(sessionFile)) fs.writeFileSync(sessionFile, '');

  const argsFor = (port: number) => [
    ...TEST_DAEMON_FLAGS,
    `--rpc-listen-port=${port}`,
    ...(secret ? [`--rpc-secret=${secret}`] : []),
    `--dir=${dir}`,
    `--stop-with-process=${process.pid}`,
    ...(sessionFile ? [`--save-session=${sessionFile}`, `--input-file=${sessionFile}`] : []),
    ...(options.extraArgs ?? []),
  ];

  // Another process may take the free port before aria2 binds it: try a few ports.
  let port = 0;
  let child: ChildProcess | null = null;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnAria2(argsFor(port), port, secret);
    } catch (err) {
      if (attempt >= 2) {
        fs.rmSync(root, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let current: ChildProcess = child;
  let stopped = false;

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    await exited(current);
  };

  return {
    url: `ws://127.0.0.1:${port}/jsonrpc`,
    httpUrl: `http://127.0.0.1:${port}/jsonrpc`,
    secret,
    port,
    dir,
    sessionFile,
    get pid() {
      return current.pid ?? -1;
    },
    get running() {
      return current.exitCode === null && current.signalCode === null;
    },
    kill,
    async restart() {
      if (stopped) throw new Error('test aria2 was stopped');
      await kill('SIGTERM');
      current = await spawnAria2(argsFor(port), port, secret);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    },
    rpc: (method, params = []) => rpcCall(port, secret, method, params),
  };
}

export { waitFor } from './wait.js';
