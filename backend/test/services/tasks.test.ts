/**
 * The task services (services/tasks/*: add, control, delete, query) called directly, on a real SQLite
 * file and a real aria2c: ownership is in the queries (another user's id is not found and nothing of
 * it changes), known sizes are reserved against the quota, state changes are written and the events
 * are emitted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listTasksQuery } from '../../src/contracts/tasks.js';
import { ForbiddenError, NotFoundError } from '../../src/domain/errors.js';
import { getTask } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

const ALL = listTasksQuery.parse({});
const SLOW = { size: 4 * 1024 * 1024 };
const THROTTLE = { throttle: 32 * 1024 };

describe('task services on a real SQLite file and aria2c', () => {
  let u: UnitContext;
  let server: FileServer;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let alice: Actor;
  let bob: Actor;
  let files = 0;

  beforeAll(async () => {
    server = await startFileServer();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    tasks = u.taskServices();
    alice = await u.user('alice', { quota: 10 * 1024 * 1024 });
    bob = await u.user('bob');
  });
  afterAll(async () => {
    await tasks?.admission.stop();
    await u?.close();
    await server?.close();
  });

  /** A file that stays downloading for the whole test, of `size` bytes. */
  function slowUrl(size = SLOW.size): string {
    const name = `/svc-slow-${++files}.bin`;
    server.addFile(name, { size }, THROTTLE);
    return server.url(name);
  }

  const gidStatus = (gid: string) => u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [gid, ['status']]);

  it('adds a download: the row reserves the size the HEAD reported, aria2 has its gid, the owner hears of it', async () => {
    const before = u.events.updates.length;
    const task = await tasks.add.create(alice, slowUrl());
    const row = (await getTask(u.db, alice.id, task.id))!;
    expect(row.owner_id).toBe(alice.id);
    expect(row.total_length).toBe(SLOW.size);
    expect(['waiting', 'active']).toContain(row.status);
    expect(await gidStatus(row.gid!)).toMatchObject({
      status: expect.stringMatching(/active|waiting|paused/),
    });
    const mine = u.events.updates.slice(before).filter((r) => r.id === task.id);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.owner_id === alice.id)).toBe(true);
    // What is reserved is not left.
    expect(await tasks.limits.space(alice.id)).toMatchObject({ quota: alice.quota });
    expect((await tasks.limits.space(alice.id)).available).toBeLessThanOrEqual(alice.quota - SLOW.size);
  });

  it('refuses an add that no longer fits beside the reservations, and inserts no row', async () => {
    const left = (await tasks.limits.space(alice.id)).available;
    const before = (await tasks.query.list(alice, ALL)).total;
    const err = await failure(tasks.add.create(alice, slowUrl(left + 1)));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.detail).toMatch(/exceeds your available space/);
    expect((await tasks.query.list(alice, ALL)).total).toBe(before);
  });

  it('a batch reserves in order: the URI past what is left fails alone, the ones before go in', async () => {
    const left = (await tasks.limits.space(alice.id)).available;
    const first = Math.floor(left / 2);
    const result = await tasks.add.createBatch(alice, [slowUrl(first), slowUrl(left - first + 1)]);
    expect(result.created).toHaveLength(1);
    expect(result.created[0]!.total_length).toBe(first);
    expect(result.failed).toEqual([
      { uri: expect.any(String), detail: expect.stringMatching(/available space/) },
    ]);
  });

  it("another user's task is not found by any use-case, and nothing of it changes", async () => {
    const task = await tasks.add.create(bob, slowUrl());
    const row = (await getTask(u.db, bob.id, task.id))!;
    // One call at a time: a call started before the previous one is awaited would reject unheard.
    const foreign = [
      () => tasks.query.get(alice, task.id),
      () => tasks.query.detail(alice, task.id),
      () => tasks.query.files(alice, task.id),
      () => tasks.control.changeStatus(alice, task.id, 'stop'),
      () => tasks.control.changeOptions(alice, task.id, { 'max-download-limit': '1K' }),
      () => tasks.remove.delete(alice, task.id, true),
    ];
    for (const call of foreign) {
      const err = await failure(call());
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err.detail).toBe('Task not found');
    }
    expect((await tasks.query.list(alice, ALL)).items.map((t) => t.id)).not.toContain(task.id);
    expect(await getTask(u.db, bob.id, task.id)).toMatchObject({ status: row.status, gid: row.gid });
    expect((await gidStatus(row.gid!)).status).not.toBe('removed');
  });

  it('pause writes paused in the row and in aria2; resume lets it run again; stop writes removed', async () => {
    const task = await tasks.add.create(bob, slowUrl());
    const gid = (await getTask(u.db, bob.id, task.id))!.gid!;
    const paused = await tasks.control.changeStatus(bob, task.id, 'pause');
    expect(paused.status).toBe('paused');
    expect((await getTask(u.db, bob.id, task.id))!.status).toBe('paused');
    await waitFor(async () => (await gidStatus(gid)).status === 'paused', 10_000, 'aria2 to pause it');

    const resumed = await tasks.control.changeStatus(bob, task.id, 'resume');
    expect(['active', 'waiting']).toContain(resumed.status);

    const before = u.events.updates.length;
    const stopped = await tasks.control.changeStatus(bob, task.id, 'stop');
    expect(stopped.status).toBe('removed');
    const row = (await getTask(u.db, bob.id, task.id))!;
    expect(row.status).toBe('removed');
    expect(row.finished_at).not.toBeNull();
    expect(u.events.updates.slice(before).map((r) => [r.id, r.status])).toContainEqual([task.id, 'removed']);
    // A stopped download is no longer current: it cannot be paused.
    const err = await failure(tasks.control.changeStatus(bob, task.id, 'pause'));
    expect(err.status).toBe(409);
  });

  it('a bulk delete removes its own rows, downloads and partial files; a foreign id fails alone', async () => {
    const mine = await tasks.add.create(bob, slowUrl());
    const theirs = await tasks.add.create(alice, slowUrl(1024));
    const row = (await getTask(u.db, bob.id, mine.id))!;
    // Some bytes on disk in the task's own folder.
    await waitFor(
      () => fs.existsSync(row.dir) && fs.readdirSync(row.dir).length > 0,
      15_000,
      'partial files',
    );
    const before = u.events.removed.length;
    const result = await tasks.remove.deleteMany(bob, [mine.id, theirs.id, mine.id], true);
    expect(result.map((r) => [r.id, r.ok])).toEqual([
      [mine.id, true],
      [theirs.id, false],
    ]);
    expect(await getTask(u.db, bob.id, mine.id)).toBeUndefined();
    expect(await getTask(u.db, alice.id, theirs.id)).toBeDefined();
    expect(u.events.removed.slice(before)).toEqual([{ ownerId: bob.id, taskId: mine.id }]);
    await expect(gidStatus(row.gid!)).rejects.toThrow(/is not found/);
    const left = fs.existsSync(row.dir) ? fs.readdirSync(row.dir) : [];
    expect(left.filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(path.dirname(row.dir)).toBe(tasks.storage.daemonIncompleteDir('local', bob.id));
  });
});
