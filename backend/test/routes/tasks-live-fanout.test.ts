/**
 * The live socket with many users at once: when one progress pass changes every user's task, each
 * user's socket gets their own update and their own stats, and the stats of all of them are computed
 * together (one batch of a few statements, realtime/hub.ts), not once per user.
 */

import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nowIso } from '../../src/domain/time.js';
import { insertTask, type TaskRow } from '../../src/repositories/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';

const USERS = 12;

interface Live {
  socket: WebSocket;
  messages: { type: string; task?: { id: number; owner_id: number }; stats?: Record<string, unknown> }[];
}

function connect(port: number, cookie: string): Promise<Live> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, { headers: { cookie } });
    const live: Live = { socket, messages: [] };
    socket.on('message', (data) => live.messages.push(JSON.parse(data.toString())));
    socket.once('open', () => resolve(live));
    socket.once('error', reject);
  });
}

describe('WebSocket /ws/tasks with many users', () => {
  let c: TestController;
  const users: { id: number; live: Live; row: TaskRow }[] = [];

  beforeAll(async () => {
    c = await startTestController();
    // The rows below are not in aria2: no sync pass may hand them over meanwhile.
    await c.sync.stop();
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = c.app.server.address() as AddressInfo;
    for (let i = 0; i < USERS; i++) {
      const u = await c.createUser(`fan${i}`);
      const now = nowIso();
      const gid = `${u.id}`.padStart(16, 'f');
      // A download that runs, with a speed of its own so each user's stats tell whose they are. Not in
      // aria2: the rows are what a progress pass reads and emits.
      const row = await insertTask(c.db, {
        owner_id: u.id,
        gid,
        uri: 'http://127.0.0.1:9/fan.bin',
        display_uri: 'http://127.0.0.1:9/fan.bin',
        status: 'active',
        name: 'fan.bin',
        created_at: now,
        updated_at: now,
        options: '{}',
        dir: path.join(c.storage.daemonIncompleteDir('local', u.id), gid),
        total_length: 1000,
        completed_length: 10,
        download_speed: 500 + i,
        node: 'local',
      });
      users.push({ id: u.id, live: await connect(port, u.cookie), row });
    }
    // Each socket's first stats (sent as it opens) are out of the way.
    await waitFor(
      () => users.every((u) => u.live.messages.some((m) => m.type === 'stats')),
      10_000,
      "every socket's first stats",
    );
  });
  afterAll(async () => {
    for (const u of users) u.live.socket.terminate();
    await c?.destroy();
  });

  it('one pass that changes every user’s task: each hears their own update, and one batch computes all their stats', async () => {
    for (const u of users) u.live.messages.length = 0;
    const batches = c.hub.statsBatches;
    // What a progress pass does: every changed row emitted in one go.
    for (const u of users) c.context.events.taskUpdate(u.row);
    await waitFor(
      () => users.every((u) => u.live.messages.some((m) => m.type === 'stats')),
      10_000,
      'every user’s stats after the pass',
    );
    for (const [i, u] of users.entries()) {
      const updates = u.live.messages.filter((m) => m.type === 'task_update');
      expect(updates.map((m) => m.task!.id)).toEqual([u.row.id]);
      const stats = u.live.messages.filter((m) => m.type === 'stats');
      expect(stats).toHaveLength(1);
      expect(stats[0]!.stats).toMatchObject({ download_speed: 500 + i, active_count: 1 });
    }
    expect(c.hub.statsBatches - batches).toBe(1);
  });
});
