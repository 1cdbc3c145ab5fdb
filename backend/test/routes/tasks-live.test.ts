import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

type Message =
  | { type: 'task_update'; task: Task }
  | { type: 'task_removed'; id: number }
  | { type: 'stats'; stats: Record<string, number> };

interface Live {
  socket: WebSocket;
  messages: Message[];
  raw: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** A real WebSocket client on the controller's real port, collecting every message. */
function connect(port: number, cookie?: string): Promise<Live> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, {
      headers: cookie ? { cookie } : {},
    });
    const live: Live = {
      socket,
      messages: [],
      raw: [],
      closed: new Promise((done) =>
        socket.on('close', (code, reason) => done({ code, reason: reason.toString() })),
      ),
    };
    socket.on('message', (data) => {
      live.raw.push(data.toString());
      live.messages.push(JSON.parse(data.toString()) as Message);
    });
    socket.once('open', () => resolve(live));
    socket.once('error', reject);
  });
}

const updatesOf = (live: Live, id: number) =>
  live.messages.flatMap((m) => (m.type === 'task_update' && m.task.id === id ? [m.task] : []));

describe('WebSocket /ws/tasks', () => {
  let c: TestController;
  let server: FileServer;
  let port: number;
  let alice: ApiClient;
  let aliceId: number;
  let bob: ApiClient;
  let bobId: number;
  const sockets: Live[] = [];

  beforeAll(async () => {
    [c, server] = await Promise.all([startTestController(), startFileServer()]);
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    port = (c.app.server.address() as AddressInfo).port;
    const a = await c.createUser('alice');
    const b = await c.createUser('bob');
    [alice, aliceId, bob, bobId] = [as(c, a.cookie), a.id, as(c, b.cookie), b.id];
  });
  afterAll(async () => {
    for (const s of sockets) s.socket.terminate();
    await server?.close();
    await c?.destroy();
  });

  const open = async (cookie?: string) => {
    const live = await connect(port, cookie);
    sockets.push(live);
    return live;
  };

  it("the owner's sockets get task_update up to completion and task_removed on delete; nobody else's do", async () => {
    const aliceLive = await open(alice.cookie);
    const aliceSecond = await open(alice.cookie);
    const bobLive = await open(bob.cookie);
    await waitFor(() => c.hub.count(aliceId) === 2 && c.hub.count(bobId) === 1, 5000, 'the sockets to join');

    const data = patternBytes(0, 256 * 1024);
    server.addFile('/live/a.bin', data, { throttle: 256 * 1024 });
    const t = await alice.add(server.url('/live/a.bin', 'u:topsecret'));
    for (const live of [aliceLive, aliceSecond]) {
      await waitFor(
        () => updatesOf(live, t.id).some((x) => x.status === 'complete'),
        20_000,
        'task_update with the finished task',
      );
    }
    const updates = updatesOf(aliceLive, t.id);
    const done = updates.find((x) => x.status === 'complete')!;
    expect(done.artifact_token).toEqual(expect.any(String));
    expect(done.total_length).toBe(data.length);
    expect(done).toEqual(await alice.task(t.id));
    // Progress came in between, never going backwards.
    const lengths = updates.map((x) => x.completed_length);
    expect(lengths).toEqual([...lengths].sort((x, y) => x - y));
    // Credentials stay masked on the socket too.
    expect(aliceLive.raw.join('\n')).not.toContain('topsecret');
    expect(updates[0]!.uri).toBe(`http://***:***@127.0.0.1:${server.port}/live/a.bin`);

    const del = await alice.del(`/api/tasks/${t.id}`);
    expect(del.statusCode).toBe(204);
    await waitFor(
      () => aliceLive.messages.some((m) => m.type === 'task_removed' && m.id === t.id),
      5000,
      'task_removed',
    );
    await waitFor(() => aliceSecond.messages.some((m) => m.type === 'task_removed' && m.id === t.id), 5000);

    // Bob heard nothing about Alice's task: only his own stats.
    await waitFor(() => bobLive.messages.some((m) => m.type === 'stats'), 5000, "bob's stats");
    expect(bobLive.messages.filter((m) => m.type !== 'stats')).toEqual([]);
    expect(bobLive.raw.join('\n')).not.toContain('/live/a.bin');
  });

  it("bob's own task reaches bob only", async () => {
    const aliceLive = await open(alice.cookie);
    const bobLive = await open(bob.cookie);
    await waitFor(() => c.hub.count(bobId) >= 1 && c.hub.count(aliceId) >= 1, 5000);
    server.addFile('/live/b.bin', patternBytes(0, 1000));
    const t = await bob.add(server.url('/live/b.bin'));
    await waitFor(() => updatesOf(bobLive, t.id).some((x) => x.status === 'complete'), 20_000, 'bob update');
    expect(updatesOf(bobLive, t.id).every((x) => x.owner_id === bobId)).toBe(true);
    expect(aliceLive.messages.some((m) => m.type !== 'stats')).toBe(false);
  });

  it('sends the caller’s stats with the /api/stats fields', async () => {
    const live = await open(alice.cookie);
    const msg = (await waitFor(() => live.messages.find((m) => m.type === 'stats'), 5000, 'stats')) as {
      stats: Record<string, number>;
    };
    const http = (await alice.get('/api/stats')).json();
    expect(Object.keys(msg.stats).sort()).toEqual(Object.keys(http).sort());
    expect(msg.stats.used_space).toBe(http.used_space);
    expect(msg.stats.quota).toBe(http.quota);
  });

  it('without a session cookie, or with an unknown or ended one, the socket closes with 4401', async () => {
    for (const cookie of [undefined, 'aria2_session=not-a-session']) {
      const live = await connect(port, cookie);
      const { code } = await live.closed;
      expect(code, String(cookie)).toBe(4401);
    }
    const temp = await c.createUser('temp');
    const out = await c.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie: temp.cookie },
    });
    expect(out.statusCode).toBe(204);
    const live = await connect(port, temp.cookie);
    expect((await live.closed).code).toBe(4401);
  });

  it('closes an open socket with 4401 when its session ends: logout, a password change elsewhere, deletion', async () => {
    const user = await c.createUser('ending');
    const other = await c.login('ending', 'user-password-1');
    const first = await connect(port, user.cookie);
    const second = await connect(port, other);
    await waitFor(() => c.hub.count(user.id) === 2, 5000, 'both sockets to join');

    // Logging out one session closes its socket only.
    await c.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: user.cookie } });
    expect((await first.closed).code).toBe(4401);
    expect(second.socket.readyState).toBe(WebSocket.OPEN);

    // A password change from a third session ends the second one's socket.
    const third = await c.login('ending', 'user-password-1');
    const changed = await c.app.inject({
      method: 'POST',
      url: '/api/auth/change-password',
      headers: { cookie: third },
      payload: { current_password: 'user-password-1', new_password: 'user-password-2' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await second.closed).code).toBe(4401);

    // Deleting the user ends the rest.
    const last = await connect(port, third);
    await waitFor(() => c.hub.count(user.id) === 1, 5000, 'the last socket to join');
    const admin = await c.adminCookie();
    expect(
      (await c.app.inject({ method: 'DELETE', url: `/api/users/${user.id}`, headers: { cookie: admin } }))
        .statusCode,
    ).toBe(204);
    expect((await last.closed).code).toBe(4401);
  });
});

describe('When aria2 cannot be reached', () => {
  let c: TestController;
  let server: FileServer;
  let user: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    [c, server] = await Promise.all([startTestController(), startFileServer()]);
    user = as(c, (await c.createUser('carol')).cookie);
    admin = as(c, await c.adminCookie());
  });
  afterAll(async () => {
    await server?.close();
    await c?.destroy();
  });

  it('adding still answers 201 with status error and the reason; health says degraded; control calls are 503', async () => {
    server.addFile('/down/running.bin', { size: 4 * 1024 * 1024 }, { throttle: 64 * 1024 });
    const running = await user.add(server.url('/down/running.bin'));
    await user.waitTask(running.id, (t) => t.status === 'active');
    expect((await admin.put('/api/config', { max_concurrent_downloads: 3 })).statusCode).toBe(200);

    await c.daemon!.stop();
    await waitFor(() => !c.aria2.connected, 10_000, 'the gateway to notice');

    const health = await as(c).get('/api/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'degraded', aria2: { connected: false } });
    const machine = (await admin.get('/api/stats/machine')).json();
    expect(machine.aria2.connected).toBe(false);

    server.addFile('/down/new.bin', patternBytes(0, 5000));
    const res = await user.post('/api/tasks', { uri: server.url('/down/new.bin', 'x:hidden') });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json() as Task;
    expect(created.status).toBe('error');
    expect(created.error).toMatch(/aria2/);
    expect(created.error).not.toContain('hidden');
    expect(await user.task(created.id)).toMatchObject({ status: 'error', error: created.error });

    const pause = await user.put(`/api/tasks/${running.id}/status`, { status: 'pause' });
    expect(pause.statusCode).toBe(503);
    expect(pause.json().detail).toMatch(/aria2/);
    expect((await user.task(running.id)).status).toBe('active');

    // Everything that does not need aria2 keeps working.
    expect((await user.get('/api/tasks')).json().total).toBe(2);
    expect((await user.get('/api/stats')).statusCode).toBe(200);
    expect((await user.get(`/api/tasks/${running.id}/detail`)).json().detail).toBeNull();

    // aria2 comes back: health is ok again, the admin limits are applied again, the running task goes on.
    await c.daemon!.start();
    await waitFor(() => c.aria2.connected, 30_000, 'the gateway to reconnect');
    expect((await as(c).get('/api/health')).json()).toMatchObject({
      status: 'ok',
      aria2: { connected: true },
    });
    await waitFor(
      async () =>
        (await c.aria2.call<Record<string, string>>('aria2.getGlobalOption'))['max-concurrent-downloads'] ===
        '3',
      10_000,
      'the limits to be applied again',
    );
    await user.waitTask(
      running.id,
      (t) => t.status === 'active' && t.download_speed > 0,
      'the download to go on',
    );
    await user.del(`/api/tasks/${running.id}?delete_files=true`);
  });
});
