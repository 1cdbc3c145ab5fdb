/**
 * The stats service (services/stats.ts) on a real SQLite file: the caller's space and speeds come from
 * their own rows only, what current downloads reserve is not available, and the disk bounds what an
 * unlimited quota allows.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nowIso } from '../../src/domain/time.js';
import { addUsedSpace } from '../../src/repositories/space.js';
import { insertTask } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { StatsService } from '../../src/services/stats.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

describe('StatsService', () => {
  let u: UnitContext;
  let tasks: ReturnType<UnitContext['taskServices']>;
  let stats: StatsService;
  let alice: Actor;
  let bob: Actor;

  beforeEach(async () => {
    u = await unitContext({ MIN_FREE_DISK: '0' });
    tasks = u.taskServices();
    stats = new StatsService(u.ctx, tasks.limits, tasks.storage);
    alice = await u.user('alice', { quota: 100_000 });
    bob = await u.user('bob', { quota: 0 });
  });
  afterEach(async () => {
    await u.close();
  });

  function running(owner: Actor, fields: { total: number; done: number; speed: number }) {
    const now = nowIso();
    const gid = `${owner.id}`.padStart(16, 'c');
    return insertTask(u.db, {
      owner_id: owner.id,
      gid,
      uri: 'http://127.0.0.1:9/x.bin',
      display_uri: 'http://127.0.0.1:9/x.bin',
      status: 'active',
      name: 'x.bin',
      created_at: now,
      updated_at: now,
      options: '{}',
      dir: path.join(tasks.storage.daemonIncompleteDir('local', owner.id), gid),
      total_length: fields.total,
      completed_length: fields.done,
      download_speed: fields.speed,
      node: 'local',
    });
  }

  it("counts the caller's finished and partial bytes, reservations and speeds, nobody else's", async () => {
    await addUsedSpace(u.db, alice.id, 10_000);
    await running(alice, { total: 50_000, done: 20_000, speed: 300 });
    await running(bob, { total: 9_000_000, done: 8_000_000, speed: 999 });
    const s = await stats.forUser(alice.id);
    expect(s).toMatchObject({
      used_space: 30_000,
      quota: 100_000,
      // 100 000 - 30 000 used - 30 000 still reserved by the running download.
      available_space: 40_000,
      download_speed: 300,
      active_count: 1,
    });
  });

  it('an unlimited quota is bounded by what the disk still has', async () => {
    // The disk is shared with other work: its free space is read on both sides of the stats.
    const before = await tasks.storage.freeDiskOf('local');
    const s = await stats.forUser(bob.id);
    const disk = await tasks.storage.freeDiskOf('local');
    expect(s.quota).toBe(0);
    expect(s.available_space).toBeGreaterThan(0);
    expect(s.available_space).toBeLessThanOrEqual(Math.max(before.free, disk.free));
    await u.ctx.settings.update({ min_free_disk: disk.free * 2 });
    expect((await stats.forUser(bob.id)).available_space).toBe(0);
  });

  it("counts the caller's tasks in each status, nobody else's, and follows a change of status", async () => {
    const a = await running(alice, { total: 10, done: 0, speed: 0 });
    await running(alice, { total: 10, done: 0, speed: 0 });
    await running(bob, { total: 10, done: 0, speed: 0 });
    expect((await stats.forUser(alice.id)).status_counts).toEqual({
      queued: 0,
      active: 2,
      waiting: 0,
      paused: 0,
      complete: 0,
      error: 0,
      removed: 0,
    });
    await u.db.updateTable('tasks').set({ status: 'complete' }).where('id', '=', a.id).execute();
    const after = await stats.forUser(alice.id);
    expect(after.status_counts.active).toBe(1);
    expect(after.status_counts.complete).toBe(1);
    expect((await stats.forUser(bob.id)).status_counts.active).toBe(1);
  });
});
