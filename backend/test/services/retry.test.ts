/**
 * Retry and replace (services/retry.ts) called directly on a real SQLite file and a real aria2c: a
 * failed task becomes a new download in the same folder and the old row goes, with the events the
 * hub forwards; another user's task is not found and a running one is refused, changing nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { getTask } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { RetryService } from '../../src/services/retry.js';
import { SyncService } from '../../src/services/sync.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

describe('RetryService on a real SQLite file and aria2c', () => {
  let u: UnitContext;
  let server: FileServer;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let retry: RetryService;
  let sync: SyncService;
  let alice: Actor;
  let bob: Actor;

  beforeAll(async () => {
    server = await startFileServer();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    tasks = u.taskServices();
    retry = new RetryService(u.ctx, tasks);
    sync = new SyncService(u.ctx, tasks);
    alice = await u.user('alice');
    bob = await u.user('bob');
  });
  afterAll(async () => {
    await tasks?.admission.stop();
    await u?.close();
    await server?.close();
  });

  /** A task of `owner` that failed (its file answers 404 until it is made available). */
  async function failedTask(owner: Actor, name: string) {
    server.addFile(name, Buffer.alloc(3000, 1), { status: 404 });
    const task = await tasks.add.create(owner, server.url(name));
    return waitFor(
      async () => {
        const row = (await getTask(u.db, owner.id, task.id))!;
        await sync.refresh([row.gid!]);
        const after = (await getTask(u.db, owner.id, task.id))!;
        return after.status === 'error' ? after : null;
      },
      15_000,
      'the download to fail',
    );
  }

  it('replaces a failed task with a new download in the same folder; the old row goes, with its events', async () => {
    const old = await failedTask(alice, '/retry-a.bin');
    server.update('/retry-a.bin', { status: undefined });
    const before = { updates: u.events.updates.length, removed: u.events.removed.length };
    const fresh = await retry.retry(alice, old.id);
    expect(fresh.id).not.toBe(old.id);
    expect(await getTask(u.db, alice.id, old.id)).toBeUndefined();
    const row = (await getTask(u.db, alice.id, fresh.id))!;
    expect(row).toMatchObject({ dir: old.dir, uri: old.uri, retry_of: null });
    expect(row.gid).not.toBe(old.gid);
    expect(u.events.removed.slice(before.removed)).toEqual([
      { ownerId: alice.id, taskId: old.id, replacedBy: fresh.id },
    ]);
    expect(u.events.updates.slice(before.updates).map((r) => r.id)).toContain(fresh.id);
    await u.aria2!.rpc('aria2.tellStatus', [row.gid, ['status']]);
  });

  it("another user's failed task is not found, and a running task is refused, both left as they were", async () => {
    const bobs = await failedTask(bob, '/retry-b.bin');
    const err = await failure(retry.retry(alice, bobs.id));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(await getTask(u.db, bob.id, bobs.id)).toMatchObject({ status: 'error', replaced_by: null });
    const batch = await retry.retryBatch(alice, [bobs.id]);
    expect(batch).toEqual([{ id: bobs.id, ok: false, status: 404, detail: 'Task not found' }]);

    server.addFile('/retry-slow.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    const running = await tasks.add.create(alice, server.url('/retry-slow.bin'));
    const refused = await failure(retry.retry(alice, running.id));
    expect(refused).toBeInstanceOf(ConflictError);
    expect((await getTask(u.db, alice.id, running.id))!.replaced_by).toBeNull();
    await tasks.control.changeStatus(alice, running.id, 'stop');
  });
});
