/**
 * A list's total without a search comes from the counts kept per owner and status (migration 011,
 * repositories/tasks.ts): on a real database (SQLite, or PostgreSQL with TEST_DATABASE=postgres) and a
 * real aria2c it stays equal to a real COUNT of the rows after adds, pauses and stops, deletions,
 * retries, direct status changes, the counts being folded together, and a user's deletion.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStatus } from '../../src/domain/task-status.js';
import * as repo from '../../src/repositories/tasks.js';
import { deleteUser } from '../../src/repositories/users.js';
import type { Actor } from '../../src/services/context.js';
import { RetryService } from '../../src/services/retry.js';
import { SyncService } from '../../src/services/sync.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

const STATUSES: TaskStatus[] = ['queued', 'active', 'waiting', 'paused', 'complete', 'error', 'removed'];
const VIEWS = ['all', 'current', 'history'] as const;

describe('the kept task counts', () => {
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

  /** Every view and status filter's total, against a COUNT of the rows it names. */
  async function expectExactTotals(ownerId: number): Promise<void> {
    for (const view of VIEWS) {
      for (const status of [undefined, ...STATUSES]) {
        const { total } = await repo.listTasks(u.db, ownerId, {
          view,
          status,
          sort: 'created_at',
          order: 'desc',
          limit: 1,
          offset: 0,
        });
        let query = u.db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('owner_id', '=', ownerId);
        if (view === 'current')
          query = query.where('status', 'in', ['queued', 'active', 'waiting', 'paused']);
        if (view === 'history') query = query.where('status', 'in', ['complete', 'error', 'removed']);
        if (status) query = query.where('status', '=', status);
        const { n } = await query.executeTakeFirstOrThrow();
        expect({ view, status, total }).toEqual({ view, status, total: Number(n) });
      }
    }
  }

  async function failed(owner: Actor, name: string) {
    server.addFile(name, Buffer.alloc(3000, 1), { status: 404 });
    const task = await tasks.add.create(owner, server.url(name));
    return waitFor(
      async () => {
        const row = (await repo.getTask(u.db, owner.id, task.id))!;
        await sync.refresh([row.gid!]);
        const after = (await repo.getTask(u.db, owner.id, task.id))!;
        return after.status === 'error' ? after : null;
      },
      15_000,
      'the download to fail',
    );
  }

  it('match a real count after adds, pauses, stops, deletions and retries', async () => {
    await expectExactTotals(alice.id);
    server.addFile('/slow.bin', Buffer.alloc(200_000, 2), { throttle: 10_000 });
    const batch = await tasks.add.createBatch(
      alice,
      Array.from({ length: 5 }, (_, i) => `${server.url('/slow.bin')}?n=${i}`),
    );
    expect(batch.created).toHaveLength(5);
    await expectExactTotals(alice.id);
    await tasks.control.changeStatus(alice, batch.created[0]!.id, 'pause');
    await tasks.control.changeStatus(alice, batch.created[1]!.id, 'stop');
    await expectExactTotals(alice.id);
    await tasks.remove.delete(alice, batch.created[2]!.id, false);
    await expectExactTotals(alice.id);
    const old = await failed(alice, '/missing.bin');
    await expectExactTotals(alice.id);
    server.update('/missing.bin', { status: undefined });
    await retry.retry(alice, old.id);
    await expectExactTotals(alice.id);
    await retry.retryBatch(alice, [batch.created[1]!.id]);
    await expectExactTotals(alice.id);
    await tasks.control.changeStatusMany(
      alice,
      batch.created.map((t) => t.id),
      'stop',
    );
    await expectExactTotals(alice.id);
    await expectExactTotals(bob.id);
  });

  it('match a real count through direct writes, many at once, and their folding together', async () => {
    const base = {
      owner_id: bob.id,
      uri: 'http://127.0.0.1:9/x',
      display_uri: 'http://127.0.0.1:9/x',
      dir: '/nowhere',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
    const rows = await repo.insertTasks(
      u.db,
      Array.from({ length: 150 }, (_, i) => ({ ...base, status: i % 3 === 0 ? 'complete' : 'error' })),
    );
    await expectExactTotals(bob.id);
    for (const r of rows.slice(0, 40)) await repo.updateTask(u.db, r.id, { status: 'removed' });
    await sql`UPDATE tasks SET status = 'paused' WHERE owner_id = ${bob.id} AND status = 'complete'`.execute(
      u.db,
    );
    for (const r of rows.slice(40, 60)) await repo.deleteTask(u.db, r.id);
    await expectExactTotals(bob.id);
    // Reading folded the changes: a handful of rows per status, with the same sums.
    const { n } = await u.db
      .selectFrom('task_counts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner_id', '=', bob.id)
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBeLessThanOrEqual(70);
    await repo.compactTaskCounts(u.db, bob.id);
    await expectExactTotals(bob.id);
  });

  it("go with a user: the cascade's rows are counted out and the user's counts deleted", async () => {
    const carol = await u.user('carol');
    await repo.insertTasks(u.db, [
      {
        owner_id: carol.id,
        uri: 'http://127.0.0.1:9/y',
        display_uri: 'http://127.0.0.1:9/y',
        dir: '/nowhere',
        status: 'complete',
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:00:00Z',
      },
    ]);
    await expectExactTotals(carol.id);
    expect(await deleteUser(u.db, carol.id)).toBe(true);
    await expectExactTotals(carol.id);
    const left = await u.db.selectFrom('task_counts').selectAll().where('owner_id', '=', carol.id).execute();
    expect(left).toEqual([]);
    await expectExactTotals(alice.id);
  });
});
