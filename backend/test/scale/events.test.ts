/**
 * The events of two instances linked over a real PostgreSQL LISTEN/NOTIFY channel (db/notify.ts), as
 * composition.ts links them: every event reaches the other instance once, a burst of task updates
 * larger than one NOTIFY payload arrives whole, and an instance never hears its own events twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/db/index.js';
import { MAX_NOTIFY_BYTES, type NotifyChannel, openNotifyChannel } from '../../src/db/notify.js';
import * as repo from '../../src/repositories/tasks.js';
import { insertUser } from '../../src/repositories/users.js';
import { ControllerEvents, rowsByIds, type TaskRow } from '../../src/services/events.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

let url: string;
let db: Db;
const channels: NotifyChannel[] = [];
let rows: TaskRow[];
let ownerId: number;

async function instance(origin: string): Promise<ControllerEvents> {
  const events = new ControllerEvents();
  const channel = await openNotifyChannel(db, url, {
    message: (text) => events.receive(text),
    listening: () => undefined,
    error: (err) => {
      throw err;
    },
  });
  channels.push(channel);
  events.connect({
    origin,
    maxBytes: MAX_NOTIFY_BYTES,
    send: (m) => channel.send(m),
    readRows: (ids) => rowsByIds(db, ids),
    failed: (err) => {
      throw err;
    },
  });
  return events;
}

beforeAll(async () => {
  url = await freshDatabaseUrl();
  db = await openDatabase({ kind: 'postgres', url });
  const user = await insertUser(db, {
    username: 'alice',
    password_hash: 'x',
    is_admin: 0,
    quota: 0,
    created_at: '2026-01-01T00:00:00Z',
  });
  ownerId = user.id;
  rows = await repo.insertTasks(
    db,
    Array.from({ length: 3000 }, (_, i) => ({
      owner_id: user.id,
      uri: `http://127.0.0.1:9/${i}.bin`,
      display_uri: `http://127.0.0.1:9/${i}.bin`,
      status: 'queued',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      dir: '/tmp',
    })),
  );
});

afterAll(async () => {
  for (const c of channels) await c.close();
  await db?.destroy();
});

describe('events across instances over LISTEN/NOTIFY', () => {
  it('reach the other instance once, a burst of updates whole, and never the sender twice', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const heardByA: number[] = [];
    const heardByB: number[] = [];
    const removedAtB: unknown[][] = [];
    const endedAtB: unknown[] = [];
    a.on('task_update', (row) => heardByA.push(row.id));
    b.on('task_update', (row) => heardByB.push(row.id));
    b.on('task_removed', (...args) => removedAtB.push(args));
    b.on('sessions_ended', (ended) => endedAtB.push(ended));

    // 3000 ids in one turn of the event loop: more than one NOTIFY payload holds.
    expect(JSON.stringify(rows.map((r) => r.id)).length).toBeGreaterThan(MAX_NOTIFY_BYTES);
    for (const row of rows) a.taskUpdate(row);
    a.taskRemoved(ownerId, rows[0]!.id);
    a.taskRemoved(ownerId, rows[1]!.id, rows[2]!.id);
    a.emit('sessions_ended', { userId: ownerId, exceptIdHash: null });

    await waitFor(() => endedAtB.length === 1, 10_000, 'B to hear the ended sessions');
    expect(heardByB.sort((x, y) => x - y)).toEqual(rows.map((r) => r.id));
    expect(removedAtB).toEqual([
      [ownerId, rows[0]!.id, undefined],
      [ownerId, rows[1]!.id, rows[2]!.id],
    ]);
    expect(endedAtB).toEqual([{ userId: ownerId, exceptIdHash: null }]);
    // A heard its own updates when it emitted them, and not again from the channel: its own messages
    // reach its listening connection before a later one of B does (notifications come in commit order).
    const endedAtA: unknown[] = [];
    a.on('sessions_ended', (ended) => endedAtA.push(ended));
    b.emit('sessions_ended', { idHash: 'marker' });
    await waitFor(() => endedAtA.length === 1, 10_000, 'A to hear B');
    expect(heardByA).toHaveLength(rows.length);
    await b.disconnect();
    await a.disconnect();
  });

  it('a state an instance emitted itself is not heard again when another instance updates the task', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const heardByB: TaskRow[] = [];
    b.on('task_update', (row) => heardByB.push(row));
    // B's sync emits the task's new state; A's update of the same task, read again on arrival at B,
    // finds that state: B's sockets already have it.
    const [stored] = await rowsByIds(db, [rows[5]!.id]);
    b.taskUpdate(stored!);
    a.taskUpdate(stored!);
    const marker: unknown[] = [];
    b.on('sessions_ended', (ended) => marker.push(ended));
    a.emit('sessions_ended', { idHash: 'after-the-update' });
    await waitFor(() => marker.length === 1, 10_000, 'B to hear A');
    expect(heardByB).toEqual([stored]);
    // A state B has not shown is heard.
    await db.updateTable('tasks').set({ name: 'renamed.bin' }).where('id', '=', stored!.id).execute();
    a.taskUpdate(stored!);
    await waitFor(() => heardByB.length === 2, 10_000, 'B to hear the new state');
    expect(heardByB[1]!.name).toBe('renamed.bin');
    await b.disconnect();
    await a.disconnect();
  });
});
