/**
 * The embedded aria2c supervisor (EmbeddedAria2) with the real binary: start, crash and restart with
 * an unfinished download resuming, stop for good, and a missing binary.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2NotInstalledError, type DaemonLogger, EmbeddedAria2 } from '../../src/aria2/daemon.js';
import { OFFLINE_ARIA2_ARGS, waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg?: string;
}

function memoryLogger(lines: LogLine[]): DaemonLogger {
  return {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The command line of a running process, as its argument list. */
const commandLine = (pid: number) =>
  fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('EmbeddedAria2', () => {
  let root: string;
  let server: FileServer;
  let daemon: EmbeddedAria2;
  let client: Aria2Client;
  const lines: LogLine[] = [];
  const events: string[] = [];

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-daemon-test-'));
    server = await startFileServer();
    daemon = new EmbeddedAria2({
      stateDir: path.join(root, 'state'),
      downloadDir: path.join(root, 'downloads'),
      logger: memoryLogger(lines),
      extraArgs: OFFLINE_ARIA2_ARGS,
      minBackoffMs: 50,
      maxBackoffMs: 500,
    });
    daemon.on('ready', () => events.push('ready'));
    daemon.on('crashed', (code, signal) => events.push(`crashed ${code} ${signal}`));
  });

  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
    await server?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('starts on loopback with a secret, a session file and --stop-with-process, and answers', async () => {
    await daemon.start();
    expect(events).toEqual(['ready']);
    expect(daemon.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/jsonrpc$/);
    expect(daemon.secret).toMatch(/^[0-9a-f]{48}$/);
    expect(fs.existsSync(daemon.sessionFile)).toBe(true);
    expect(fs.existsSync(path.join(root, 'downloads'))).toBe(true);

    const args = commandLine(daemon.pid!);
    const port = new URL(daemon.url).port;
    expect(args).toEqual(
      expect.arrayContaining([
        '--enable-rpc',
        '--rpc-listen-all=false',
        `--rpc-listen-port=${port}`,
        `--stop-with-process=${process.pid}`,
        `--save-session=${daemon.sessionFile}`,
        `--input-file=${daemon.sessionFile}`,
        '--continue=true',
        ...OFFLINE_ARIA2_ARGS,
      ]),
    );
    expect(args.some((a) => a.startsWith('--save-session-interval='))).toBe(true);
    // The secret comes from the conf file, never the command line; the client below proves it is daemon.secret.
    expect(args.some((a) => a.startsWith('--rpc-secret'))).toBe(false);
    expect(args).toContain(`--conf-path=${daemon.confFile}`);

    client = new Aria2Client({ url: daemon.url, secret: daemon.secret, minBackoffMs: 50, maxBackoffMs: 500 });
    await client.start();
    expect((await client.getVersion()).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(lines.some((l) => l.level === 'info' && l.msg === 'aria2c started')).toBe(true);
  });

  it('restarts a killed aria2c on the same port and secret; an unfinished download resumes and completes', async () => {
    // ~5 s of download at 96 KiB/s: still running when aria2c is killed.
    const size = 480 * 1024;
    server.addFile('/resume.bin', { size }, { throttle: 96 * 1024 });
    const dir = path.join(root, 'downloads', 'resume');
    const gid = await client.addUri([server.url('/resume.bin')], { dir });
    await waitFor(
      async () => (await client.tellStatus(gid, ['completedLength'])).completedLength > 0,
      15_000,
      'the download to start',
    );
    expect(await client.saveSession()).toBe('OK');
    expect(fs.readFileSync(daemon.sessionFile, 'utf8')).toContain(`gid=${gid}`);
    const { sessionId } = await client.getSessionInfo();
    const { url, secret } = daemon;
    const oldPid = daemon.pid!;
    const requestsBefore = server.requestsFor('/resume.bin').length;

    process.kill(oldPid, 'SIGKILL');
    await waitFor(() => events.includes('crashed null SIGKILL'), 10_000, 'the crashed event');
    await waitFor(() => events.filter((e) => e === 'ready').length === 2, 20_000, 'the restart');
    expect(events).toEqual(['ready', 'crashed null SIGKILL', 'ready']);
    expect(daemon.pid).toBeDefined();
    expect(daemon.pid).not.toBe(oldPid);
    expect(isAlive(oldPid)).toBe(false);
    expect(daemon.url).toBe(url);
    expect(daemon.secret).toBe(secret);
    expect(lines.some((l) => l.level === 'error' && l.msg === 'aria2c exited unexpectedly; restarting')).toBe(
      true,
    );

    // The gateway finds the restarted daemon by itself; the session brought the download back.
    await waitFor(() => client.connected, 15_000, 'the client to reconnect');
    expect((await client.getSessionInfo()).sessionId).not.toBe(sessionId);
    await waitFor(
      async () => (await client.tellStatus(gid, ['status'])).status === 'complete',
      30_000,
      'the download to complete after the restart',
    );
    expect(server.requestsFor('/resume.bin').length).toBeGreaterThan(requestsBefore);
    expect(fs.readFileSync(path.join(dir, 'resume.bin')).equals(server.content('/resume.bin'))).toBe(true);
  });

  let unsaved = '';

  it('stop() saves the session and stops aria2c for good: no restart follows', async () => {
    // A download the session file has not seen yet: the SIGTERM of stop() must save it.
    server.addFile('/unsaved.bin', { size: 4 * 1024 * 1024 }, { throttle: 64 * 1024 });
    unsaved = await client.addUri([server.url('/unsaved.bin')], {
      dir: path.join(root, 'downloads', 'unsaved'),
    });
    expect(fs.readFileSync(daemon.sessionFile, 'utf8')).not.toContain(`gid=${unsaved}`);
    const pid = daemon.pid!;
    const port = Number(new URL(daemon.url).port);
    const before = [...events];

    await daemon.stop();
    expect(isAlive(pid)).toBe(false);
    expect(daemon.pid).toBeUndefined();
    expect(fs.readFileSync(daemon.sessionFile, 'utf8')).toContain(`gid=${unsaved}`);
    // Many times the restart backoff (50 ms): nothing comes back.
    await new Promise((r) => setTimeout(r, 1000));
    expect(events).toEqual(before);
    await expect(fetch(`http://127.0.0.1:${port}/jsonrpc`)).rejects.toThrow();
    await waitFor(() => !client.connected, 10_000, 'the client to see aria2 gone');
  });

  it('start() after stop() comes back on the same port with the saved downloads', async () => {
    const url = daemon.url;
    await daemon.start();
    expect(daemon.url).toBe(url);
    await waitFor(() => client.connected, 15_000, 'the client to reconnect');
    const s = await client.tellStatus(unsaved, ['status', 'totalLength']);
    expect(['active', 'waiting']).toContain(s.status);
  });
});

describe('EmbeddedAria2 without aria2c', () => {
  it('a missing binary gives Aria2NotInstalledError with the install hint', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-daemon-missing-'));
    try {
      const daemon = new EmbeddedAria2({
        stateDir: path.join(root, 'state'),
        downloadDir: path.join(root, 'downloads'),
        logger: memoryLogger([]),
        binary: '/nonexistent/aria2c',
      });
      const err = await daemon.start().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Aria2NotInstalledError);
      const message = (err as Error).message;
      expect(message).toContain('/nonexistent/aria2c');
      expect(message).toContain('apt-get install aria2');
      expect(message).toContain('ARIA2_RPC_URL');
      expect(message).not.toContain('\n');
      expect(daemon.pid).toBeUndefined();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
