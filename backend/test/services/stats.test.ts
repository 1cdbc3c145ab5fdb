/**
 * The stats service (services/stats.ts) on a real SQLite file: the caller's space and speeds come from
 * their own rows only, what current downloads reserve is not available, and the disk bounds what an
 * unlimited quota allows. Many users' stats together take as many statements as one user's.
 */
import path from 'node:path';
import type { KyselyPlugin } from 'kysely';
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
    stats = new StatsService(u.ctx, tasks.storage);
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

  it('an unlimited quota is bounded by what the disk still has, less the free space kept', async () => {
    // A disk that holds still: the real one is shared with every other test writing files.
    let free = 5_000_000;
    const onDisk = new StatsService(u.ctx, { freeDiskOf: async () => ({ total: 10_000_000, free }) });
    expect(await onDisk.forUser(bob.id)).toMatchObject({ quota: 0, available_space: 5_000_000 });
    await u.ctx.settings.update({ min_free_disk: 1_000_000 });
    expect((await onDisk.forUser(bob.id)).available_space).toBe(4_000_000);
    free = 900_000;
    expect((await onDisk.forUser(bob.id)).available_space).toBe(0);
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

  it('computes the stats of many users in as many statements as of one, each user their own', async () => {
    // Every statement the service sends, counted on the real database.
    let statements = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const counted = new StatsService({ ...u.ctx, db: u.db.withPlugin(counting) }, tasks.storage);
    const many = [alice, bob];
    // bob's unlimited quota reads the disk, whose free space moves: he counts in the batch only.
    // A quota each (the disk's free space, shared with other work, would move between two reads).
    for (let i = 0; i < 38; i++) many.push(await u.user(`user${i}`, { quota: 1_000_000 + i }));
    // Each user one download at a speed of their own, so a mix-up between users shows.
    for (const [i, user] of many.entries()) await running(user, { total: 1000, done: 10, speed: 100 + i });

    statements = 0;
    await counted.forUsers([alice.id]);
    const forOne = statements;
    statements = 0;
    const all = await counted.forUsers(many.map((m) => m.id));
    // A few statements per batch, not a few per user (a thousand users' sockets fall due together).
    expect(statements).toBe(forOne);
    expect(statements).toBeLessThanOrEqual(5);
    for (const [i, user] of many.entries()) {
      if (user === bob) continue;
      const one = await stats.forUser(user.id);
      expect(all.get(user.id)).toEqual(one);
      expect(one).toMatchObject({
        download_speed: 100 + i,
        active_count: 1,
        waiting_counts: { user_limit: { running: 1 }, slots: { running: many.length } },
      });
    }
  });
});
