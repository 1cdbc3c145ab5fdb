/**
 * What several controller instances on one database share, on SQLite: two connections to one file act
 * as two instances. A lease has one holder at a time and passes on when it lapses or is released;
 * hand-over marks of one instance keep another's sync away from those tasks, and lapse after a crash.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/db/index.js';
import { leaseHolder, releaseLease, takeLease } from '../../src/repositories/leases.js';
import * as repo from '../../src/repositories/tasks.js';
import { Lease, newInstanceId } from '../../src/services/leases.js';
import { SettingsService } from '../../src/services/settings.js';
import { SyncService } from '../../src/services/sync.js';
import { HAND_OVER_TTL_MS, HandOverTracker } from '../../src/services/tasks/tracker.js';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

let u: UnitContext;
let other: Db;
beforeEach(async () => {
  u = await unitContext();
  other = await openDatabase(u.ctx.config.database);
});
afterEach(async () => {
  await other.destroy();
  await u.close();
});

describe('a lease row', () => {
  it('has one holder until it lapses; the holder renews it; a release frees it at once', async () => {
    expect(await takeLease(u.db, 'sync:a', 'A', 1_000, 10_000)).toBe(true);
    expect(await takeLease(other, 'sync:a', 'B', 2_000, 10_000)).toBe(false);
    expect(await takeLease(u.db, 'sync:a', 'A', 9_000, 10_000)).toBe(true);
    // Renewed at 9 s: still A's at 15 s, when it would have lapsed without the renewal.
    expect(await takeLease(other, 'sync:a', 'B', 15_000, 10_000)).toBe(false);
    expect(await leaseHolder(other, 'sync:a', 15_000)).toBe('A');
    // Another lease is apart.
    expect(await takeLease(other, 'sync:b', 'B', 15_000, 10_000)).toBe(true);
    // Lapsed: B takes it, and A's renewal fails from then on.
    expect(await takeLease(other, 'sync:a', 'B', 19_001, 10_000)).toBe(true);
    expect(await takeLease(u.db, 'sync:a', 'A', 19_002, 10_000)).toBe(false);
    // A release by a non-holder changes nothing; the holder's frees it.
    await releaseLease(u.db, 'sync:a', 'A');
    expect(await leaseHolder(u.db, 'sync:a', 19_003)).toBe('B');
    await releaseLease(other, 'sync:a', 'B');
    expect(await leaseHolder(u.db, 'sync:a', 19_003)).toBeNull();
    expect(await takeLease(u.db, 'sync:a', 'A', 19_004, 10_000)).toBe(true);
  });

  it('racing instances: exactly one wins', async () => {
    const third = await openDatabase(u.ctx.config.database);
    try {
      const won = await Promise.all(
        [u.db, other, third, u.db, other, third].map((db, i) =>
          takeLease(db, 'race', `I${i}`, 5_000, 10_000),
        ),
      );
      expect(won.filter(Boolean)).toHaveLength(1);
    } finally {
      await third.destroy();
    }
  });
});

describe('Lease', () => {
  it('one of two instances drives; when it closes the other takes over, and when it dies too', async () => {
    const driving = new Set<string>();
    const log: string[] = [];
    const make = (db: Db, id: string) =>
      new Lease(
        db,
        'sync:local',
        id,
        {
          gained: () => {
            log.push(`${id}+`);
            driving.add(id);
          },
          lost: () => {
            log.push(`${id}-`);
            driving.delete(id);
          },
        },
        u.logger,
        { ttlMs: 400, renewMs: 50 },
      );
    const a = make(u.db, 'A');
    const b = make(other, 'B');
    await a.start();
    await b.start();
    expect(a.held).toBe(true);
    expect(b.held).toBe(false);
    expect([...driving]).toEqual(['A']);

    // A clean close releases it: B takes it on its next try, without waiting for the lapse.
    await a.stop();
    await waitFor(() => b.held, 5_000, 'B to take the lease');
    expect(log).toEqual(['A+', 'A-', 'B+']);

    // B "dies" (its timer stops, the lease is not released): a new instance gets it once it lapses.
    const c = make(u.db, 'C');
    await c.start();
    expect(c.held).toBe(false);
    (b as unknown as { stopped: boolean }).stopped = true;
    await waitFor(() => c.held, 5_000, 'C to take the lapsed lease');
    expect(log).toEqual(['A+', 'A-', 'B+', 'C+']);
    await c.stop();
  });

  it('a holder that finds the lease taken by another stops driving', async () => {
    let driving = false;
    const a = new Lease(
      u.db,
      'sync:x',
      'A',
      {
        gained: () => {
          driving = true;
        },
        lost: () => {
          driving = false;
        },
      },
      u.logger,
      { ttlMs: 60_000, renewMs: 50 },
    );
    await a.start();
    expect(driving).toBe(true);
    // Another instance took it (its clock ran ahead past the expiry, say).
    await other.updateTable('leases').set({ holder: 'B' }).where('name', '=', 'sync:x').execute();
    await waitFor(() => !driving, 5_000, 'A to stop driving');
    await a.stop();
    expect(await leaseHolder(u.db, 'sync:x', Date.now())).toBe('B');
  });

  it('a holder that cannot reach the database stops driving (its lease may lapse and be taken)', async () => {
    const cut = await openDatabase(u.ctx.config.database);
    let driving = false;
    const a = new Lease(
      cut,
      'sync:y',
      'A',
      {
        gained: () => {
          driving = true;
        },
        lost: () => {
          driving = false;
        },
      },
      u.logger,
      { ttlMs: 400, renewMs: 50 },
    );
    await a.start();
    expect(driving).toBe(true);
    await cut.destroy();
    await waitFor(() => !driving, 5_000, 'A to stop driving');
    expect(a.held).toBe(false);
    await a.stop();
  });

  it('instance ids are random per process', () => {
    expect(newInstanceId()).not.toBe(newInstanceId());
    expect(newInstanceId()).toMatch(new RegExp(`^[^/]+/${process.pid}/[\\w-]{16}$`));
  });

  it("takes at once the lease of a process of this machine that is gone (a restart), not a live one's", async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const [host] = newInstanceId().split('/');
    await takeLease(other, 'sync:r', `${host}/${gone}/old-random-part`, Date.now(), 60_000);
    await takeLease(other, 'sync:s', `${host}/1/live-random-part`, Date.now(), 60_000);
    const hooks = { gained: () => undefined, lost: () => undefined };
    const r = new Lease(u.db, 'sync:r', newInstanceId(), hooks, u.logger);
    const s = new Lease(u.db, 'sync:s', newInstanceId(), hooks, u.logger);
    await r.start();
    await s.start();
    expect(r.held).toBe(true);
    expect(s.held).toBe(false);
    await r.stop();
    await s.stop();
  });
});

describe('hand-over marks', () => {
  it("an instance sees another's marks after a refresh, not its own twice, and a crashed one's lapse", async () => {
    let now = 1_000_000;
    const a = new HandOverTracker(u.db, 'A', () => now);
    const b = new HandOverTracker(other, 'B', () => now);
    await a.mark([1, 2]);
    expect(a.has(1)).toBe(true);
    expect(b.has(1)).toBe(false);
    await b.refresh();
    expect(b.has(1) && b.has(2)).toBe(true);
    expect(b.size).toBe(2);
    await a.refresh();
    expect(a.size).toBe(2);
    await a.unmark([1]);
    await b.refresh();
    expect(b.has(1)).toBe(false);
    expect(b.has(2)).toBe(true);
    // A dies with task 2 marked: the mark lapses.
    now += HAND_OVER_TTL_MS + 1;
    await b.refresh();
    expect(b.has(2)).toBe(false);
    expect(await u.db.selectFrom('hand_overs').selectAll().execute()).toEqual([]);
  });

  it('a gone process of this machine holds no marks: its restart need not wait for them to lapse', async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const [host] = newInstanceId().split('/');
    await new HandOverTracker(other, `${host}/${gone}/old-random-part`).mark([5]);
    await new HandOverTracker(other, `${host}/1/live-random-part`).mark([6]);
    expect(await new HandOverTracker(u.db, newInstanceId()).othersNow()).toEqual([6]);
  });

  it('around() unmarks in the database whatever happens', async () => {
    const a = new HandOverTracker(u.db, 'A');
    const b = new HandOverTracker(other, 'B');
    await expect(
      a.around([7], async () => {
        await b.refresh();
        expect(b.has(7)).toBe(true);
        throw new Error('hand-over failed');
      }),
    ).rejects.toThrow('hand-over failed');
    await b.refresh();
    expect(b.has(7)).toBe(false);
  });
});

describe('settings on two instances', () => {
  it("a change on one is read again by the other, whose listeners hear only what changed; neither loses the other's change", async () => {
    const a = u.ctx.settings;
    const b = new SettingsService(other, u.ctx.nodes.first, u.logger);
    await b.load({});
    const heard: object[] = [];
    b.onChange(async (patch) => {
      heard.push(patch);
    });
    await a.update({ max_active_per_user: 9 });
    expect(b.get().max_active_per_user).toBe(3);
    expect(await b.reload()).toEqual({ max_active_per_user: 9 });
    expect(b.get().max_active_per_user).toBe(9);
    expect(heard).toEqual([{ max_active_per_user: 9 }]);
    expect(await b.reload()).toEqual({});
    expect(heard).toHaveLength(1);
    // B changes another key before A has read again: A's next change keeps it.
    await b.update({ seed_ratio: 2 });
    const after = await a.update({ max_concurrent_downloads: 7 });
    expect(after.seed_ratio).toBe(2);
    expect((await b.reload()).max_concurrent_downloads).toBe(7);
  });
});

describe('a retry under way on another instance', () => {
  it('is not repaired as one a crash interrupted by an instance starting now; once its mark lapses it is', async () => {
    const alice = await u.user('alice');
    const row = (status: string, extra: Partial<repo.TaskRow> = {}) =>
      repo.insertTask(u.db, {
        owner_id: alice.id,
        uri: 'http://127.0.0.1:9/a.bin',
        display_uri: 'http://127.0.0.1:9/a.bin',
        status,
        created_at: '2026-01-01T00:00:00Z',
        updated_at: '2026-01-01T00:00:00Z',
        dir: u.dir,
        ...extra,
      });
    // Instance A claimed the old task and created the new one, marked, in one transaction.
    const old = await row('error');
    const fresh = await row('queued', { retry_of: old.id });
    await u.db.updateTable('tasks').set({ replaced_by: fresh.id }).where('id', '=', old.id).execute();
    const now = Date.now();
    await new HandOverTracker(u.db, 'A', () => now).mark([fresh.id]);

    const get = async (id: number) => (await repo.getTasksAnyOwner(other, [id]))[0];
    // Instance B starts meanwhile.
    const atB = (at: number) => new HandOverTracker(other, 'B', () => at).othersNow();
    expect(await repo.repairInterruptedRetries(other, await atB(now))).toBe(0);
    expect((await get(old.id))?.replaced_by).toBe(fresh.id);
    expect(await get(fresh.id)).toBeDefined();

    // A crashed: its mark lapses, and the next start repairs the retry.
    expect(await repo.repairInterruptedRetries(other, await atB(now + HAND_OVER_TTL_MS + 1))).toBe(1);
    expect((await get(old.id))?.replaced_by).toBeNull();
    expect(await get(fresh.id)).toBeUndefined();
  });
});

describe("the sync of one instance and another's hand-over", () => {
  let server: FileServer;
  afterEach(async () => {
    await server?.close();
  });

  it('leaves alone a download in aria2 that no row owns yet while another instance hands one over', async () => {
    await u.close();
    u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true', MIN_FREE_DISK: '0' }, { aria2: true });
    await other.destroy();
    other = await openDatabase(u.ctx.config.database);
    server = await startFileServer();
    server.addFile('/handing.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
    const tasks = u.taskServices();
    const sync = new SyncService(u.ctx, tasks);
    // Instance B has handed a download to aria2 and not yet written its gid to the row.
    const elsewhere = new HandOverTracker(other, 'B');
    await elsewhere.mark([4242]);
    const stray = await u.aria2!.rpc<string>('aria2.addUri', [
      [server.url('/handing.bin')],
      { pause: 'true' },
    ]);
    const status = () =>
      u.aria2!.rpc<{ status: string }>('aria2.tellStatus', [stray, ['status']]).then(
        (s) => s.status,
        () => 'gone',
      );
    try {
      await tasks.handingOver.refresh();
      await sync.reconcile();
      expect(await status()).toBe('paused');
      // B is done (or crashed and its mark lapsed): the next reconcile removes what no row owns.
      await elsewhere.unmark([4242]);
      await tasks.handingOver.refresh();
      await sync.reconcile();
      await waitFor(async () => ['removed', 'gone'].includes(await status()), 10_000, 'the stray to go');
    } finally {
      await tasks.admission.stop();
    }
  });
});
