/**
 * The sync engine's passes (services/sync.ts) called directly on a real SQLite file and a real aria2c:
 * a finished download moves into its owner's folder and is counted, a failure is written with aria2's
 * code and forgotten in aria2, and a reconcile hands over again what aria2 lost and removes what no
 * task owns; a pass's writes of many rows keep a status changed meanwhile, and a download stopped
 * while a pass or a hand-over is under way stays stopped, in its row and in aria2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRunningRows, writeSyncPatches } from '../../src/repositories/sync.js';
import { getTask, insertTasks } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { SyncService } from '../../src/services/sync.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

describe('sync passes on a real SQLite file and aria2c', () => {
  let u: UnitContext;
  let server: FileServer;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let sync: SyncService;
  let alice: Actor;

  beforeAll(async () => {
    server = await startFileServer();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    tasks = u.taskServices();
    sync = new SyncService(u.ctx, tasks);
    alice = await u.user('alice');
  });
  afterAll(async () => {
    await tasks?.admission.stop();
    await u?.close();
    await server?.close();
  });

  /** Runs targeted passes on the task's gid until its row satisfies `check`. */
  async function settle(id: number, check: (status: string) => boolean, what: string) {
    return waitFor(
      async () => {
        const row = (await getTask(u.db, alice.id, id))!;
        await sync.refresh([row.gid!]);
        const after = (await getTask(u.db, alice.id, id))!;
        return check(after.status) ? after : null;
      },
      15_000,
      what,
    );
  }

  it('a finished download moves into the owner folder, gets its token and counts as used space', async () => {
    server.addFile('/sync-done.bin', Buffer.alloc(5000, 7));
    const task = await tasks.add.create(alice, server.url('/sync-done.bin'));
    const before = u.events.updates.length;
    const row = await settle(task.id, (s) => s === 'complete', 'the download to complete');
    expect(row.artifact_path).toBe('sync-done.bin');
    expect(row.artifact_token).toEqual(expect.any(String));
    expect(fs.statSync(path.join(await tasks.storage.userDir(alice.id), 'sync-done.bin')).size).toBe(5000);
    expect((await tasks.limits.space(alice.id)).used).toBe(5000);
    expect(u.events.updates.slice(before).map((r) => [r.id, r.status])).toContainEqual([task.id, 'complete']);
  });

  it("a failure is written with aria2's code and message, and aria2 forgets the download", async () => {
    server.addFile('/sync-gone.bin', Buffer.from('x'), { status: 404 });
    const task = await tasks.add.create(alice, server.url('/sync-gone.bin'));
    const row = await settle(task.id, (s) => s === 'error', 'the download to fail');
    expect(row.error_code).toBe('3');
    expect(row.error).toEqual(expect.any(String));
    expect(row.finished_at).not.toBeNull();
    await expect(u.aria2!.rpc('aria2.tellStatus', [row.gid, ['status']])).rejects.toThrow(/is not found/);
  });

  it('a reconcile hands a lost download over again and removes one no task owns', async () => {
    server.addFile('/sync-slow.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    const task = await tasks.add.create(alice, server.url('/sync-slow.bin'));
    const gid = (await getTask(u.db, alice.id, task.id))!.gid!;
    // aria2 loses it behind the controller's back, and runs one nobody added through the controller.
    await u.aria2!.rpc('aria2.forceRemove', [gid]);
    await waitFor(
      async () =>
        (await u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [gid, ['status']])).status === 'removed',
      10_000,
      'aria2 to remove it',
    );
    await u.aria2!.rpc('aria2.removeDownloadResult', [gid]);
    const stray = await u.aria2!.rpc<string>('aria2.addUri', [
      [server.url('/sync-slow.bin')],
      { pause: 'true' },
    ]);

    await sync.reconcile();
    const row = (await getTask(u.db, alice.id, task.id))!;
    expect(['active', 'waiting']).toContain(row.status);
    const known = await u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [row.gid, ['status']]);
    expect(known.status).not.toBe('removed');
    await waitFor(
      () =>
        u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [stray, ['status']]).then(
          (s) => s.status === 'removed',
          () => true,
        ),
      10_000,
      'the stray download to be removed',
    );
  });

  it("a pass's progress of many rows is written, and a row whose status changed since the pass read it keeps it", async () => {
    const bob = await u.user('bob');
    const now = new Date().toISOString();
    // More rows than one statement takes, as 1,000 running downloads give a pass.
    const inserted = await insertTasks(
      u.db,
      Array.from({ length: 450 }, (_, i) => ({
        owner_id: bob.id,
        uri: `http://127.0.0.1:9/many-${i}.bin`,
        display_uri: `http://127.0.0.1:9/many-${i}.bin`,
        status: 'active',
        dir: `/tmp/many-${i}`,
        created_at: now,
        updated_at: now,
      })),
    );
    const ids = new Set(inserted.map((r) => r.id));
    const read = (await listRunningRows(u.db)).filter((r) => ids.has(r.id));
    expect(read).toHaveLength(450);
    // The owner pauses one and stops another after the pass read them.
    const [paused, stopped, named, finished] = read;
    await u.db.updateTable('tasks').set({ status: 'paused' }).where('id', '=', paused!.id).execute();
    await u.db.updateTable('tasks').set({ status: 'removed' }).where('id', '=', stopped!.id).execute();
    const later = new Date(Date.now() + 1000).toISOString();
    const items = read.map((row, i) => {
      const patch: Record<string, unknown> = {
        status: 'active',
        completed_length: 1000 + i,
        download_speed: 10 + i,
        error: null,
        updated_at: later,
      };
      if (row.id === named!.id) patch.name = 'named.bin';
      if (row.id === finished!.id) Object.assign(patch, { status: 'complete', download_speed: 0 });
      return { row, patch, usedDelta: row.id === finished!.id ? 4321 : 0 };
    });
    const usedSpace = async () =>
      (await u.db.selectFrom('users').select('used_space').where('id', '=', bob.id).executeTakeFirstOrThrow())
        .used_space;
    const usedBefore = await usedSpace();

    const stored = await writeSyncPatches(u.db, items);

    const skipped = new Set([paused!.id, stopped!.id]);
    expect(stored.map((r) => r.id)).toEqual(read.map((r) => r.id).filter((id) => !skipped.has(id)));
    for (const [i, row] of read.entries()) {
      const now = (await getTask(u.db, bob.id, row.id))!;
      if (row.id === paused!.id || row.id === stopped!.id) {
        expect(now.status).toBe(row.id === paused!.id ? 'paused' : 'removed');
        expect(now.completed_length).toBe(0);
        expect(now.updated_at).toBe(now.created_at);
        continue;
      }
      expect(now.completed_length).toBe(1000 + i);
      expect(now.download_speed).toBe(row.id === finished!.id ? 0 : 10 + i);
      expect(now.updated_at).toBe(later);
      expect(now.status).toBe(row.id === finished!.id ? 'complete' : 'active');
      expect(now.name).toBe(row.id === named!.id ? 'named.bin' : null);
    }
    expect(stored.find((r) => r.id === named!.id)?.name).toBe('named.bin');
    expect((await usedSpace()) - usedBefore).toBe(4321);
    await u.db.deleteFrom('tasks').where('owner_id', '=', bob.id).execute();
  });

  /** Whether aria2 still has a download of `gid` that is not removed (running, waiting or paused). */
  async function inAria2(gid: string): Promise<string | null> {
    const got = await u
      .aria2!.rpc<{ status: string }>('aria2.tellStatus', [gid, ['status']])
      .catch(() => null);
    return got && got.status !== 'removed' ? got.status : null;
  }

  it('a paused download stopped while a pass looks it up is not handed over again', async () => {
    server.addFile('/sync-stop-race.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    const task = await tasks.add.create(alice, server.url('/sync-stop-race.bin'));
    await tasks.control.changeStatus(alice, task.id, 'pause');
    const { gid } = (await getTask(u.db, alice.id, task.id))!;
    // aria2 keeps no result of a paused download it removes: a pass that looks it up between the
    // daemon's removal and the row's write finds it gone.
    const gateway = u.ctx.nodes.list()[0]!;
    const realStop = gateway.stop.bind(gateway);
    gateway.stop = async (gids) => {
      const out = await realStop(gids);
      await sync.refresh([gid!]);
      return out;
    };
    try {
      await tasks.control.changeStatus(alice, task.id, 'stop');
    } finally {
      gateway.stop = realStop;
    }
    expect((await getTask(u.db, alice.id, task.id))!.status).toBe('removed');
    expect(await inAria2(gid!)).toBeNull();
    await sync.refresh([gid!]);
    expect((await getTask(u.db, alice.id, task.id))!.status).toBe('removed');
  });

  it('a task stopped while aria2 takes its download keeps its stop, and the download goes', async () => {
    server.addFile('/sync-stop-handover.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    const gateway = u.ctx.nodes.list()[0]!;
    const realAdd = gateway.add.bind(gateway);
    let handed: string | null = null;
    gateway.add = async (requests) => {
      const out = await realAdd(requests);
      if (out[0]?.ok) handed = out[0].value.gid;
      // The owner stops the new task (still queued in its row) before the hand-over is recorded.
      const row = await u.db
        .selectFrom('tasks')
        .selectAll()
        .where('owner_id', '=', alice.id)
        .where('status', '=', 'queued')
        .executeTakeFirstOrThrow();
      await tasks.control.changeStatus(alice, row.id, 'stop');
      return out;
    };
    let id: number;
    try {
      id = (await tasks.add.create(alice, server.url('/sync-stop-handover.bin'))).id;
    } finally {
      gateway.add = realAdd;
    }
    expect(handed).not.toBeNull();
    expect((await getTask(u.db, alice.id, id))!.status).toBe('removed');
    expect(await inAria2(handed!)).toBeNull();
  });
});
