/**
 * The sync engine's passes (services/sync.ts) called directly on a real SQLite file and a real aria2c:
 * a finished download moves into its owner's folder and is counted, a failure is written with aria2's
 * code and forgotten in aria2, and a reconcile hands over again what aria2 lost and removes what no
 * task owns.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTask } from '../../src/repositories/tasks.js';
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
});
