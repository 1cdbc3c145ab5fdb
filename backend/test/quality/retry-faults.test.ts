import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';

let c: TestController | null = null;
let server: FileServer | null = null;
afterEach(async () => {
  await server?.close();
  await c?.destroy();
  c = null;
  server = null;
});

async function call(
  ctl: TestController,
  cookie: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
) {
  const res = await ctl.app.inject({ method, url, headers: { cookie }, payload: payload as object });
  return { status: res.statusCode, body: res.body ? res.json() : null };
}

async function failed(ctl: TestController, cookie: string, srv: FileServer, file: string) {
  srv.addFile(file, patternBytes(0, 4000), { status: 404 });
  const created = await call(ctl, cookie, 'POST', '/api/tasks', { uri: srv.url(file) });
  return waitFor(async () => {
    const t = (await call(ctl, cookie, 'GET', `/api/tasks/${created.body.id}`)).body;
    return t.status === 'error' ? t : null;
  });
}

it('answers 500 when aria2 is unavailable, keeping the old task and leaving no new row', async () => {
  c = await startTestController();
  server = await startFileServer();
  const cookie = await c.adminCookie();
  const old = await failed(c, cookie, server, '/down.bin');
  server.update('/down.bin', { status: undefined });
  await c.daemon!.stop();
  await waitFor(() => !c!.aria2.connected, 10_000, 'aria2 to go away');

  const r = await call(c, cookie, 'POST', `/api/tasks/${old.id}/retry`);
  expect(r.status).toBe(500);
  expect(r.body.detail).toMatch(/^Failed to create aria2 task: .+/);
  expect((await call(c, cookie, 'GET', `/api/tasks/${old.id}`)).body).toEqual(old);
  const list = (await call(c, cookie, 'GET', '/api/tasks?view=all')).body;
  expect(list.total).toBe(1);
  expect((await call(c, cookie, 'GET', '/api/health')).body.status).toBe('degraded');
});

it("tells the owner's sockets task_removed for the old id and task_update for the new one, and nobody else", async () => {
  c = await startTestController();
  server = await startFileServer();
  const owner = await c.createUser('owner');
  const other = await c.createUser('other');
  const old = await failed(c, owner.cookie, server, '/live.bin');
  server.update('/live.bin', { status: undefined });
  await c.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (c.app.server.address() as AddressInfo).port;
  const listen = (cookie: string) => {
    const messages: { type: string; id?: number; task?: { id: number } }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, { headers: { cookie } });
    socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
    return { messages, socket, open: new Promise((resolve) => socket.once('open', resolve)) };
  };
  const mine = listen(owner.cookie);
  const theirs = listen(other.cookie);
  await Promise.all([mine.open, theirs.open]);
  await waitFor(() => c!.hub.count(owner.id) === 1 && c!.hub.count(other.id) === 1, 5000, 'sockets to join');

  const r = await call(c, owner.cookie, 'POST', `/api/tasks/${old.id}/retry`);
  expect(r.status).toBe(200);
  await waitFor(
    () =>
      mine.messages.some((m) => m.type === 'task_removed' && m.id === old.id) &&
      mine.messages.some((m) => m.type === 'task_update' && m.task?.id === r.body.id),
    5000,
    'the retry messages',
  );
  expect(theirs.messages.filter((m) => m.type !== 'stats')).toEqual([]);
  mine.socket.close();
  theirs.socket.close();
});

it('repairs a retry interrupted between the new download and the old row: exactly one task, no orphan', async () => {
  let crash = false;
  c = await startTestController(
    {},
    {
      faults: {
        retry: {
          afterHandover: () => {
            if (crash) throw new Error('injected crash after the hand-over');
          },
        },
      },
    },
  );
  server = await startFileServer();
  const cookie = await c.adminCookie();
  server.addFile('/crash.bin', { size: 2_000_000 }, { status: 404 });
  const created = await call(c, cookie, 'POST', '/api/tasks', { uri: server.url('/crash.bin') });
  await waitFor(
    async () => (await call(c!, cookie, 'GET', `/api/tasks/${created.body.id}`)).body.status === 'error',
  );
  // The new download stays active across the restart, so aria2 still holds it when the controller returns.
  server.update('/crash.bin', { status: undefined, throttle: 20_000 });

  crash = true;
  const r = await call(c, cookie, 'POST', `/api/tasks/${created.body.id}/retry`);
  expect(r.status).toBe(500);
  const rowsBefore = await c.db.selectFrom('tasks').selectAll().execute();
  expect(rowsBefore).toHaveLength(2);
  const newGid = rowsBefore.find((row) => row.retry_of !== null)!.gid!;
  expect((await c.aria2.tellStatus(newGid)).gid).toBe(newGid);

  const dataDir = c.dataDir;
  await c.close();
  // aria2's session carries the new download into the restart: without the repair it would be an orphan.
  expect(fs.readFileSync(path.join(dataDir, 'aria2', 'aria2.session'), 'utf8')).toContain(`gid=${newGid}`);
  c = await startTestController({}, { dataDir });
  const ctl = c;
  await ctl.sync.reconcileNow();

  const rows = await ctl.db.selectFrom('tasks').selectAll().execute();
  expect(rows).toHaveLength(1);
  expect(rows[0]!.id).toBe(created.body.id);
  expect(rows[0]!.replaced_by).toBeNull();
  await waitFor(
    async () => {
      const all = await ctl.aria2.multicall([
        { method: 'aria2.tellActive', params: [['gid']] },
        { method: 'aria2.tellWaiting', params: [0, 1000, ['gid']] },
      ]);
      const gids = all.flatMap((x) => (x.ok ? (x.value as { gid: string }[]).map((s) => s.gid) : []));
      return !gids.includes(newGid);
    },
    10_000,
    'the orphaned download to leave aria2',
  );
  // The old task can be retried for real now.
  const again = await call(ctl, await ctl.adminCookie(), 'POST', `/api/tasks/${created.body.id}/retry`);
  expect(again.status).toBe(200);
});
