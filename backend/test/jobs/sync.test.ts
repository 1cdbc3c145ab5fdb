import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/aria2/daemon.js';
import { startTestAria2 } from '../helpers/aria2.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';

type Row = {
  id: number;
  status: string;
  gid: string;
  error: string | null;
  total_length: number;
  completed_length: number;
};

let server: FileServer;
beforeAll(async () => {
  server = await startFileServer();
});
afterAll(async () => {
  await server?.close();
});

async function add(c: TestController, cookie: string, uri: string): Promise<Row> {
  const r = await c.app.inject({ method: 'POST', url: '/api/tasks', headers: { cookie }, payload: { uri } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json();
}

async function row(c: TestController, id: number): Promise<Row> {
  return (await c.db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow()) as unknown as Row;
}

async function until(c: TestController, id: number, status: string): Promise<Row> {
  return waitFor(
    async () => {
      const r = await row(c, id);
      return r.status === status ? r : null;
    },
    20_000,
    `task ${id} to become ${status}`,
  );
}

describe('the sync engine against a real aria2c', () => {
  let c: TestController;
  let cookie: string;
  beforeAll(async () => {
    c = await startTestController();
    cookie = await c.adminCookie();
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('records a completed download with its size and moves it into the user folder', async () => {
    const data = patternBytes(0, 300_000);
    server.addFile('/sync/done.bin', data);
    const t = await add(c, cookie, server.url('/sync/done.bin'));
    const done = await until(c, t.id, 'complete');
    expect(done.total_length).toBe(300_000);
    expect(done.completed_length).toBe(300_000);
    const full = await c.db.selectFrom('tasks').selectAll().where('id', '=', t.id).executeTakeFirstOrThrow();
    expect(full.artifact_path).toBe('done.bin');
    expect(full.artifact_token?.length).toBeGreaterThanOrEqual(22);
    expect(fs.readFileSync(path.join(c.config.downloadDir, '1', 'done.bin')).equals(data)).toBe(true);
    // The task's own folder under .incomplete is gone once the file moved out.
    expect(fs.existsSync(full.dir)).toBe(false);
  });

  it("records a 404 as an error with aria2's reason", async () => {
    server.addFile('/sync/missing.bin', Buffer.alloc(10), { status: 404 });
    const t = await add(c, cookie, server.url('/sync/missing.bin'));
    const failed = await until(c, t.id, 'error');
    expect(failed.error).toMatch(/not found|404/i);
  });

  it('records a refused connection as an error', async () => {
    const port = await freePort();
    const t = await add(c, cookie, `http://127.0.0.1:${port}/nothing.bin`);
    const failed = await until(c, t.id, 'error');
    expect(failed.error).toBeTruthy();
  });

  it('follows a pause and a removal made in aria2 itself', async () => {
    server.addFile('/sync/slow.bin', { size: 5_000_000 }, { throttle: 50_000 });
    const t = await add(c, cookie, server.url('/sync/slow.bin'));
    await until(c, t.id, 'active');
    await c.aria2.pause(t.gid);
    await until(c, t.id, 'paused');
    await c.aria2.unpause(t.gid);
    await until(c, t.id, 'active');
    await c.aria2.forceRemove(t.gid);
    const removed = await until(c, t.id, 'removed');
    expect(removed.completed_length).toBeGreaterThanOrEqual(0);
  });

  it('refreshes progress while a download runs', async () => {
    server.addFile('/sync/progress.bin', { size: 3_000_000 }, { throttle: 200_000 });
    const t = await add(c, cookie, server.url('/sync/progress.bin'));
    const seen = new Set<number>();
    await waitFor(
      async () => {
        const r = await row(c, t.id);
        if (r.completed_length > 0 && r.completed_length < 3_000_000) seen.add(r.completed_length);
        return seen.size >= 2;
      },
      20_000,
      'two progress updates',
    );
    await c.aria2.forceRemove(t.gid);
  });
});

describe('restarts', () => {
  it('restarts a killed embedded aria2c and finishes its unfinished download, one row per download', async () => {
    const c = await startTestController();
    try {
      const cookie = await c.adminCookie();
      server.addFile('/restart/big.bin', { size: 1_200_000 }, { throttle: 150_000 });
      const t = await add(c, cookie, server.url('/restart/big.bin'));
      await waitFor(async () => (await row(c, t.id)).completed_length > 100_000, 20_000, 'some progress');
      await c.aria2.saveSession();
      const pid = c.daemon!.pid!;
      process.kill(pid, 'SIGKILL');
      await waitFor(
        () => c.daemon!.pid !== undefined && c.daemon!.pid !== pid && c.aria2.connected,
        20_000,
        'the daemon to come back',
      );
      server.update('/restart/big.bin', { throttle: undefined });
      const done = await until(c, t.id, 'complete');
      expect(done.total_length).toBe(1_200_000);
      const rows = await c.db.selectFrom('tasks').select('id').execute();
      expect(rows).toHaveLength(1);
      const file = path.join(c.config.downloadDir, '1', 'big.bin');
      expect(fs.readFileSync(file).equals(patternBytes(0, 1_200_000))).toBe(true);
    } finally {
      await c.destroy();
    }
  });

  it('hands an unfinished download to an aria2 that lost its session, and keeps finished and failed rows', async () => {
    const c = await startTestController();
    try {
      const cookie = await c.adminCookie();
      server.addFile('/lost/ok.bin', patternBytes(0, 1000));
      server.addFile('/lost/bad.bin', Buffer.alloc(1), { status: 404 });
      server.addFile('/lost/running.bin', { size: 800_000 }, { throttle: 100_000 });
      const ok = await add(c, cookie, server.url('/lost/ok.bin'));
      const bad = await add(c, cookie, server.url('/lost/bad.bin'));
      const running = await add(c, cookie, server.url('/lost/running.bin'));
      const okDone = await until(c, ok.id, 'complete');
      const badDone = await until(c, bad.id, 'error');
      await until(c, running.id, 'active');

      // aria2 dies and comes back with an empty session: it knows none of the downloads.
      const pid = c.daemon!.pid!;
      fs.writeFileSync(c.daemon!.sessionFile, '');
      process.kill(pid, 'SIGKILL');
      await waitFor(() => c.daemon!.pid !== pid && c.aria2.connected, 20_000, 'the daemon to come back');
      server.update('/lost/running.bin', { throttle: undefined });
      await until(c, running.id, 'complete');
      expect(await row(c, ok.id)).toEqual(okDone);
      expect(await row(c, bad.id)).toEqual(badDone);
      expect(await c.db.selectFrom('tasks').select('id').execute()).toHaveLength(3);
    } finally {
      await c.destroy();
    }
  });

  it('works with an external aria2 that goes away and comes back', async () => {
    const external = await startTestAria2({ session: true });
    const c = await startTestController({
      ARIA2_RPC_URL: external.httpUrl,
      ARIA2_RPC_SECRET: external.secret!,
    });
    try {
      expect(c.daemon).toBeNull();
      const cookie = await c.adminCookie();
      server.addFile('/ext/done.bin', patternBytes(0, 2000));
      server.addFile('/ext/running.bin', { size: 900_000 }, { throttle: 100_000 });
      const done = await until(c, (await add(c, cookie, server.url('/ext/done.bin'))).id, 'complete');
      const running = await add(c, cookie, server.url('/ext/running.bin'));
      await until(c, running.id, 'active');

      await external.kill('SIGKILL');
      await waitFor(() => !c.aria2.connected, 10_000, 'the gateway to notice');
      const health = await c.app.inject({ method: 'GET', url: '/api/health' });
      expect(health.json()).toEqual({
        status: 'degraded',
        aria2: { connected: false, version: null },
        nodes: [{ id: 'local', connected: false, version: null }],
      });
      const pause = await c.app.inject({
        method: 'PUT',
        url: `/api/tasks/${running.id}/status`,
        headers: { cookie },
        payload: { status: 'pause' },
      });
      expect(pause.statusCode).toBe(503);
      expect(pause.json().detail).toMatch(/aria2/);
      const list = await c.app.inject({ method: 'GET', url: '/api/tasks', headers: { cookie } });
      expect(list.statusCode).toBe(200);

      server.update('/ext/running.bin', { throttle: undefined });
      await external.restart();
      await waitFor(() => c.aria2.connected, 20_000, 'the gateway to reconnect');
      await until(c, running.id, 'complete');
      expect(await row(c, done.id)).toEqual(done);
      expect(await c.db.selectFrom('tasks').select('id').execute()).toHaveLength(2);
    } finally {
      await c.destroy();
      await external.stop();
    }
  });
});
