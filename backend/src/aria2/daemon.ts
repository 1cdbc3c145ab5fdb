import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface DaemonLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EmbeddedAria2Options {
  /** Holds the session file and aria2's log. */
  stateDir: string;
  /** aria2's default --dir; every task passes its own dir anyway. */
  downloadDir: string;
  logger: DaemonLogger;
  binary?: string;
  /** Extra command-line options, e.g. DHT off in tests. */
  extraArgs?: string[];
  /**
   * Options whose values hold only for one run of the controller (the egress proxy's address and
   * credentials): aria2 writes them into the session for every download, so they are removed from it
   * before each start and the restored downloads take the current ones from the conf file.
   */
  perRunOptions?: string[];
  /** Options with secrets in them (the egress proxy's credentials): given in the conf file, never argv. */
  confOptions?: Record<string, string>;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Aria2NotInstalledError extends Error {
  constructor(binary: string) {
    super(
      `aria2c was not found (${binary}). Install it with "sudo apt-get install aria2" (Debian/Ubuntu), or set ARIA2_RPC_URL to use an existing aria2.`,
    );
    this.name = 'Aria2NotInstalledError';
  }
}

/**
 * aria2's request-size limit (--rpc-max-request-size): room for one 16 MiB torrent in base64. The
 * client splits multicalls far below it, so no single request is ever this large in practice.
 */
export const RPC_MAX_REQUEST_BYTES = 32 * 1024 * 1024;

/**
 * The environment aria2c gets: what it needs to run (paths, locale, time zone, proxies), never the
 * controller's own variables (ADMIN_PASSWORD, ARIA2_RPC_SECRET, ...).
 */
export function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept =
    /^(PATH|HOME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|(https?|ftp|all|no)_proxy|(HTTPS?|FTP|ALL|NO)_PROXY)$/;
  return Object.fromEntries(Object.entries(env).filter(([k]) => kept.test(k)));
}

/** A free TCP port on loopback, as the OS hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface DaemonEvents {
  /** The daemon answered RPC after a (re)start. */
  ready: [];
  /** The daemon exited without being asked to. */
  crashed: [code: number | null, signal: NodeJS.Signals | null];
}

/**
 * The embedded aria2c: a child process on a free loopback port with a random secret, a session file
 * so unfinished downloads survive restarts, and a supervisor that restarts it with backoff when it dies.
 * The port and secret stay the same across restarts, so the gateway simply reconnects.
 */
export class EmbeddedAria2 extends EventEmitter<DaemonEvents> {
  readonly secret = randomBytes(24).toString('hex');
  private port = 0;
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly binary: string;

  constructor(private readonly options: EmbeddedAria2Options) {
    super();
    // Absolute: aria2 runs in a folder of its own, where a relative path would mean something else.
    this.options = {
      ...options,
      stateDir: path.resolve(options.stateDir),
      downloadDir: path.resolve(options.downloadDir),
    };
    this.binary = options.binary ?? 'aria2c';
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/jsonrpc`;
  }

  get sessionFile(): string {
    return path.join(this.options.stateDir, 'aria2.session');
  }

  /**
   * aria2's working directory: its own folder, emptied at every start. A relative path that ever
   * reached aria2 resolves here, never inside the controller's folder.
   */
  get workDir(): string {
    return path.join(this.options.stateDir, 'cwd');
  }

  private freshWorkDir(): string {
    fs.rmSync(this.workDir, { recursive: true, force: true });
    fs.mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    return this.workDir;
  }
  /** aria2's --conf-path file: carries the secret, so it never shows in a process list. */
  get confFile(): string {
    return path.join(this.options.stateDir, 'aria2.conf');
  }

  /** The --rpc-max-request-size the daemon is given: the client keeps every request under it. */
  readonly maxRequestBytes = RPC_MAX_REQUEST_BYTES;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the daemon and resolves once it answers RPC. */
  async start(): Promise<void> {
    this.stopping = false;
    if (!this.port) this.port = await freePort();
    fs.mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.options.stateDir, 0o700);
    fs.mkdirSync(this.options.downloadDir, { recursive: true });
    // aria2 refuses to start when --input-file names a file that does not exist.
    if (!fs.existsSync(this.sessionFile)) fs.writeFileSync(this.sessionFile, '', { mode: 0o600 });
    // Another process may take the free port before aria2c binds it: try a fresh port then.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.spawnOnce();
        return;
      } catch (err) {
        if (err instanceof Aria2NotInstalledError || attempt >= 3) throw err;
        this.options.logger.warn(
          { port: this.port, err: (err as Error).message },
          'aria2c did not start; trying another port',
        );
        this.port = await freePort();
      }
    }
  }

  private args(): string[] {
    return [
      '--enable-rpc',
      '--rpc-listen-all=false',
      `--rpc-listen-port=${this.port}`,
      // The secret comes from the conf file (mode 0600): a command line is readable by every local user.
      `--conf-path=${this.confFile}`,
      `--rpc-max-request-size=${RPC_MAX_REQUEST_BYTES}`,
      `--dir=${this.options.downloadDir}`,
      '--quiet',
      `--log=${path.join(this.options.stateDir, 'aria2.log')}`,
      '--log-level=warn',
      `--stop-with-process=${process.pid}`,
      `--save-session=${this.sessionFile}`,
      `--input-file=${this.sessionFile}`,
      // A crash loses at most ~5 s of work: the session and each download's control file are saved that often.
      '--save-session-interval=5',
      '--auto-save-interval=5',
      '--continue=true',
      '--file-allocation=none',
      '--seed-time=0',
      // A seeding torrent is done for its owner: it must not keep a download from starting.
      '--bt-detach-seed-only=true',
      // Results are looked up after notifications: keep more than the default 1,000 between two passes.
      '--max-download-result=10000',
      `--dht-file-path=${path.join(this.options.stateDir, 'dht.dat')}`,
      `--dht-file-path6=${path.join(this.options.stateDir, 'dht6.dat')}`,
      ...(this.options.extraArgs ?? []),
    ];
  }

  /** Writes the conf file (the secret and `confOptions`) readable by the controller's user alone, atomically. */
  private writeConf(): void {
    const tmp = `${this.confFile}.${process.pid}.tmp`;
    fs.rmSync(tmp, { force: true });
    const lines = Object.entries({ 'rpc-secret': this.secret, ...this.options.confOptions })
      .map(([key, value]) => `${key}=${value}\n`)
      .join('');
    fs.writeFileSync(tmp, lines, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, this.confFile);
  }

  /** Drops the per-run options from the session file (its option lines are ` key=value`). */
  private scrubSession(): void {
    const keys = this.options.perRunOptions ?? [];
    if (keys.length === 0 || !fs.existsSync(this.sessionFile)) return;
    const text = fs.readFileSync(this.sessionFile, 'utf8');
    const kept = text
      .split('\n')
      .filter((line) => !keys.some((key) => line.startsWith(` ${key}=`)))
      .join('\n');
    if (kept !== text) fs.writeFileSync(this.sessionFile, kept, { mode: 0o600 });
  }

  private spawnOnce(): Promise<void> {
    this.scrubSession();
    return new Promise((resolve, reject) => {
      this.writeConf();
      const child = spawn(this.binary, this.args(), {
        cwd: this.freshWorkDir(),
        stdio: ['ignore', 'ignore', 'pipe'],
        env: daemonEnvironment(process.env),
      });
      this.child = child;
      let stderr = '';
      let settled = false;
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-2000);
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        this.child = null;
        reject(err.code === 'ENOENT' ? new Aria2NotInstalledError(this.binary) : err);
      });
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!settled) {
          settled = true;
          reject(new Error(`aria2c exited at start (code ${code}): ${stderr.trim() || 'no output'}`));
          return;
        }
        if (this.stopping) return;
        this.options.logger.error(
          { code, signal, stderr: stderr.trim() },
          'aria2c exited unexpectedly; restarting',
        );
        this.emit('crashed', code, signal);
        this.scheduleRestart();
      });
      this.waitUntilAnswering(child).then(
        () => {
          if (settled) return;
          settled = true;
          this.restarts = 0;
          this.options.logger.info({ port: this.port, pid: child.pid }, 'aria2c started');
          this.emit('ready');
          resolve();
        },
        (err: Error) => {
          if (settled) return;
          settled = true;
          child.kill('SIGKILL');
          reject(err);
        },
      );
    });
  }

  private async waitUntilAnswering(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 15_000;
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 'ready',
      method: 'aria2.getVersion',
      params: [`token:${this.secret}`],
    });
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('aria2c exited during start');
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/jsonrpc`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.timeout(1000),
        });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('aria2c did not answer within 15 s of starting');
  }

  private scheduleRestart(): void {
    const min = this.options.minBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** this.restarts);
    this.restarts++;
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = null;
      if (this.stopping) return;
      try {
        await this.spawnOnce();
      } catch (err) {
        if (this.stopping) return;
        this.options.logger.error({ err: (err as Error).message }, 'aria2c restart failed');
        this.scheduleRestart();
      }
    }, delay);
  }

  /** Stops the daemon (SIGTERM, then SIGKILL after a grace period); no restart follows. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.child = null;
  }
}
