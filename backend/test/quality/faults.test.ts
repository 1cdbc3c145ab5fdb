import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { sqliteFile, startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';

let server: FileServer;
beforeAll(async () => {
  server = await startFileServer();
});
afterAll(async () => {
  await server?.close();
});

/** Resolves with the value, or rejects when it takes longer than `ms`: a liveness check, not a timing. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms),
    ),
  ]);
}

describe('an aria2 that answers its handshake and then nothing', () => {
  let c: TestController;
  let fake: WebSocketServer;
  beforeAll(async () => {
    // A test double: aria2 cannot be made to hang on demand.
    fake = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    fake.on('connection', (socket) => {
      socket.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.method === 'aria2.getVersion') {
          socket.send(
            JSON.stringify({
              jsonrpc: '2.0',
              id: msg.id,
              result: { version: '1.36.0', enabledFeatures: [] },
            }),
          );
        }
        // Everything else: silence.
      });
    });
    await new Promise((r) => fake.once('listening', r));
    const port = (fake.address() as AddressInfo).port;
    c = await startTestController({ ARIA2_RPC_URL: `ws://127.0.0.1:${port}/jsonrpc`, ARIA2_RPC_SECRET: 'x' });
  });
  afterAll(async () => {
    await c?.destroy();
    fake?.close();
  });

  it('keeps serving: health answers at once while a call to aria2 hangs, and the call times out clearly', async () => {
    const cookie = await c.adminCookie();
    server.addFile('/hang.bin', Buffer.alloc(100));
    const adding = c.app.inject({
      method: 'POST',
      url: '/api/tasks',
      headers: { cookie },
      payload: { uri: server.url('/hang.bin') },
    });
    const health = await within(c.app.inject({ method: 'GET', url: '/api/health' }), 2000, 'health');
    expect(health.statusCode).toBe(200);
    const list = await within(
      c.app.inject({ method: 'GET', url: '/api/tasks', headers: { cookie } }),
      2000,
      'the task list',
    );
    expect(list.statusCode).toBe(200);

    const added = await adding;
    expect(added.statusCode).toBe(201);
    expect(added.json().status).toBe('error');
    expect(added.json().error).toMatch(/aria2.*no answer/i);
  });
});

describe('a locked database', () => {
  it('fails a write with a clear 503 and changes nothing', async () => {
    const c = await startTestController();
    const blocker = new SQLite(sqliteFile(c.config));
    try {
      const cookie = await c.adminCookie();
      server.addFile('/locked.bin', Buffer.alloc(100));
      blocker.exec('BEGIN EXCLUSIVE');
      const r = await c.app.inject({
        method: 'POST',
        url: '/api/tasks',
        headers: { cookie },
        payload: { uri: server.url('/locked.bin') },
      });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toEqual({ detail: 'The database is unavailable; nothing was changed' });
      blocker.exec('ROLLBACK');
      const list = await c.app.inject({ method: 'GET', url: '/api/tasks', headers: { cookie } });
      expect(list.json().total).toBe(0);
    } finally {
      blocker.close();
      await c.destroy();
    }
  });
});

describe('a full disk', () => {
  it('fails the download with a clear message and keeps serving', async () => {
    // A 2 MiB tmpfs as the download folder (the tests run as root, as CI does).
    const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
    const c = await startTestController({ DOWNLOAD_DIR: mountPoint });
    try {
      const cookie = await c.adminCookie();
      server.addFile('/huge.bin', { size: 8 * 1024 * 1024 }, { contentLength: false });
      const r = await c.app.inject({
        method: 'POST',
        url: '/api/tasks',
        headers: { cookie },
        payload: { uri: server.url('/huge.bin') },
      });
      expect(r.statusCode).toBe(201);
      const failed = await waitFor(
        async () => {
          const t = (
            await c.app.inject({ method: 'GET', url: `/api/tasks/${r.json().id}`, headers: { cookie } })
          ).json();
          return t.status === 'error' ? t : null;
        },
        30_000,
        'the download to fail',
      );
      expect(failed.error).toMatch(/space|disk|write/i);
      expect(failed.error).not.toContain(mountPoint);
      const health = await c.app.inject({ method: 'GET', url: '/api/health' });
      expect(health.json().status).toBe('ok');
    } finally {
      await c.destroy();
      execFileSync('umount', [mountPoint]);
      fs.rmSync(mountPoint, { recursive: true, force: true });
    }
  });
});
