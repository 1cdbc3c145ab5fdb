/**
 * The live socket under a progress pass: every changed row of one pass reaches its owner's socket as a
 * message of its own, in order, but they leave the server in a few writes, not one system call each
 * (realtime/hub.ts corks the connection for the turn), so 1,000 running downloads cost one write a second.
 */

import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nowIso } from '../../src/domain/time.js';
import { insertTask, type TaskRow } from '../../src/repositories/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';

const ROWS = 60;

describe('WebSocket /ws/tasks writes of one pass', () => {
  let c: TestController;
  let client: WebSocket;
  const received: { type: string; task?: { id: number; completed_length: number } }[] = [];
  const rows: TaskRow[] = [];

  beforeAll(async () => {
    c = await startTestController();
    // The rows below are not in aria2: no sync pass may hand them over meanwhile.
    await c.sync.stop();
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = c.app.server.address() as AddressInfo;
    const u = await c.createUser('writes');
    for (let i = 0; i < ROWS; i++) {
      const now = nowIso();
      const gid = `${i + 1}`.padStart(16, 'e');
      rows.push(
        await insertTask(c.db, {
          owner_id: u.id,
          gid,
          uri: `http://127.0.0.1:9/w${i}.bin`,
          display_uri: `http://127.0.0.1:9/w${i}.bin`,
          status: 'active',
          name: `w${i}.bin`,
          created_at: now,
          updated_at: now,
          options: '{}',
          dir: path.join(c.storage.daemonIncompleteDir('local', u.id), gid),
          total_length: 1_000_000,
          completed_length: i,
          node: 'local',
        }),
      );
    }
    client = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, { headers: { cookie: u.cookie } });
    client.on('message', (data) => received.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    await waitFor(() => received.some((m) => m.type === 'stats'), 10_000, 'the first stats');
  });
  afterAll(async () => {
    client?.terminate();
    await c?.destroy();
  });

  it('sends each changed row of a pass as its own message, in order, in a few writes', async () => {
    // The server's end of the one socket: its writes to the kernel are counted.
    const wss = (c.app as unknown as { websocketServer: { clients: Set<WebSocket> } }).websocketServer;
    const [server] = [...wss.clients];
    const stream = (server as unknown as { _socket: Socket })._socket;
    let writes = 0;
    const counted = stream as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = counted[name]!.bind(stream);
      counted[name] = (...args: unknown[]) => {
        writes++;
        original(...args);
      };
    }
    received.length = 0;
    // What a progress pass does: every changed row emitted in one go.
    for (const row of rows)
      c.context.events.taskUpdate({ ...row, completed_length: row.completed_length + 1 });
    await waitFor(
      () => received.filter((m) => m.type === 'task_update').length === ROWS,
      10_000,
      'every update of the pass',
    );
    const updates = received.filter((m) => m.type === 'task_update');
    expect(updates.map((m) => m.task!.id)).toEqual(rows.map((r) => r.id));
    expect(updates.map((m) => m.task!.completed_length)).toEqual(rows.map((r) => r.completed_length + 1));
    // One write per message before (60); the turn's messages now leave together.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(3);
  });
});
