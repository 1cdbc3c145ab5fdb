/**
 * The automatic retry (services/auto-retry.ts) called directly on a real SQLite file and a real aria2c:
 * a failure that may pass gets a stored plan, one that lasts never does, a due plan is retried as the
 * next attempt, and only the owner can cancel a plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/domain/errors.js';
import { getTask, type TaskRow, updateTask } from '../../src/repositories/tasks.js';
import { AutoRetryService } from '../../src/services/auto-retry.js';
import type { Actor } from '../../src/services/context.js';
import { RetryService } from '../../src/services/retry.js';
import { SyncService } from '../../src/services/sync.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

describe('AutoRetryService on a real SQLite file and aria2c', () => {
  let u: UnitContext;
  let server: FileServer;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let sync: SyncService;
  let auto: AutoRetryService;
  let alice: Actor;
  let bob: Actor;
  let files = 0;

  beforeAll(async () => {
    server = await startFileServer();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    tasks = u.taskServices();
    sync = new SyncService(u.ctx, tasks);
    auto = new AutoRetryService(u.ctx, tasks, new RetryService(u.ctx, tasks));
    alice = await u.user('alice');
    bob = await u.user('bob');
  });
  afterAll(async () => {
    await tasks?.admission.stop();
    await u?.close();
    await server?.close();
  });

  /**
   * A task of `owner` that really failed in aria2 (a 404), then recorded with the code and message of
   * another failure: which failures pass is decided on the stored code alone.
   */
  async function failedAs(owner: Actor, code: string, message: string): Promise<TaskRow & { path: string }> {
    const name = `/auto-${++files}.bin`;
    server.addFile(name, Buffer.alloc(2000, 2), { status: 404 });
    const task = await tasks.add.create(owner, server.url(name));
    await waitFor(
      async () => {
        const row = (await getTask(u.db, owner.id, task.id))!;
        await sync.refresh([row.gid!]);
        return (await getTask(u.db, owner.id, task.id))!.status === 'error';
      },
      15_000,
      'the download to fail',
    );
    const row = (await updateTask(u.db, task.id, { error_code: code, error: message }))!;
    return { ...row, path: name };
  }

  it('plans a failure that may pass, and ends the retries of one that lasts', async () => {
    const reset = await failedAs(alice, '6', 'Network problem has occurred. cause:Connection reset by peer');
    const forbidden = await failedAs(alice, '22', 'Unexpected status. status=403');
    const before = u.events.updates.length;
    const planned = await auto.planPending();
    expect(planned.map((r) => r.id)).toEqual([reset.id]);
    const row = (await getTask(u.db, alice.id, reset.id))!;
    expect(Date.parse(row.next_retry_at!)).toBeGreaterThan(Date.now());
    expect(u.events.updates.slice(before).map((r) => r.id)).toContain(reset.id);
    const ended = (await getTask(u.db, alice.id, forbidden.id))!;
    expect(ended).toMatchObject({ next_retry_at: null, auto_retry: 0 });
    // Planned once: a second pass plans nothing again.
    expect(await auto.planPending()).toEqual([]);
  });

  it('retries a due plan as the next attempt of the same task', async () => {
    const old = await failedAs(bob, '2', 'Timeout.');
    await auto.planPending();
    server.update(old.path, { status: undefined });
    await updateTask(u.db, old.id, { next_retry_at: '2000-01-01T00:00:00Z' });
    const before = u.events.removed.length;
    expect(await auto.runDue()).toBe(1);
    expect(await getTask(u.db, bob.id, old.id)).toBeUndefined();
    const [removed] = u.events.removed.slice(before);
    expect(removed).toMatchObject({ ownerId: bob.id, taskId: old.id });
    const fresh = (await getTask(u.db, bob.id, removed!.replacedBy!))!;
    expect(fresh).toMatchObject({ dir: old.dir, attempt: old.attempt + 1, next_retry_at: null });
  });

  it("cancels only the owner's plan: another user's is not found and stays planned", async () => {
    const row = await failedAs(alice, '1', 'Connection refused');
    await auto.planPending();
    const err = await failure(auto.cancel(bob, row.id));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((await getTask(u.db, alice.id, row.id))!.next_retry_at).not.toBeNull();
    const cancelled = await auto.cancel(alice, row.id);
    expect(cancelled.next_retry_at).toBeNull();
    expect((await getTask(u.db, alice.id, row.id))!).toMatchObject({ next_retry_at: null, auto_retry: 0 });
    expect((await failure(auto.cancel(alice, row.id))).status).toBe(409);
    expect(await auto.planPending()).toEqual([]);
  });
});
