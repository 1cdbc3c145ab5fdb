import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GiB } from '../../src/config/index.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let alice: ApiClient;

useController({ env: { DEFAULT_QUOTA: String(5 * GiB) }, users: ['alice'] }, (fx) => {
  ({ c, server, admin } = fx);
  alice = fx.api('alice');
});

const globalOption = async (key: string) =>
  (await c.aria2.call<Record<string, string>>('aria2.getGlobalOption'))[key];

describe('GET /api/stats', () => {
  it("is the caller's space and speeds; available space is the quota left bounded by the disk", async () => {
    const res = await alice.get('/api/stats');
    expect(res.statusCode).toBe(200);
    const s = res.json();
    expect(s).toEqual({
      used_space: 0,
      quota: 5 * GiB,
      available_space: 5 * GiB,
      download_speed: 0,
      upload_speed: 0,
      active_count: 0,
      // Nothing runs: the defaults' 3 per user and 5 slots of the node, none in use.
      waiting_counts: { user_limit: { running: 0, limit: 3 }, slots: { running: 0, limit: 5 } },
      status_counts: { queued: 0, active: 0, waiting: 0, paused: 0, complete: 0, error: 0, removed: 0 },
    });
    // Unlimited quota (the admin): what the disk allows over the minimum free.
    const adminStats = (await admin.get('/api/stats')).json();
    expect(adminStats.quota).toBe(0);
    const disk = fs.statfsSync(c.config.downloadDir);
    const free = disk.bavail * disk.bsize;
    expect(Math.abs(adminStats.available_space - free)).toBeLessThan(64 * 1024 * 1024);
  });

  it('counts active downloads and their speed, then the finished bytes as used space', async () => {
    const user = as(c, (await c.createUser('speedy')).cookie);
    server.addFile('/stats/slow.bin', { size: 512 * 1024 }, { throttle: 128 * 1024 });
    const t = await user.add(server.url('/stats/slow.bin'));
    const live = await waitFor(
      async () => {
        const s = (await user.get('/api/stats')).json();
        // The partial bytes of a running download count as used space too.
        return s.active_count === 1 && s.download_speed > 0 && s.used_space > 0 ? s : null;
      },
      15_000,
      'an active download with speed and partial bytes',
    );
    expect(live.upload_speed).toBe(0);
    expect(live.used_space).toBeLessThan(512 * 1024);
    // What the download will still write is reserved: the space left is the quota minus its whole size.
    expect(live.available_space).toBe(5 * GiB - 512 * 1024);
    await user.waitTask(t.id, (x) => x.status === 'complete');
    const after = (await user.get('/api/stats')).json();
    expect(after).toMatchObject({ used_space: 512 * 1024, active_count: 0, download_speed: 0 });
    expect(after.available_space).toBe(5 * GiB - 512 * 1024);
    // Alice's figures are her own.
    expect((await alice.get('/api/stats')).json().used_space).toBe(0);
  });

  it('without a session is 401', async () => {
    expect((await as(c).get('/api/stats')).statusCode).toBe(401);
  });
});

describe('GET /api/stats/machine (admin)', () => {
  it('gives the disk and aria2 state', async () => {
    const res = await admin.get('/api/stats/machine');
    expect(res.statusCode).toBe(200);
    const m = res.json();
    expect(m).toEqual({
      disk_total: expect.any(Number),
      disk_used: expect.any(Number),
      disk_free: expect.any(Number),
      aria2: { connected: true, version: c.aria2.version },
      nodes: [
        {
          id: 'local',
          connected: true,
          version: c.aria2.version,
          disk_total: m.disk_total,
          disk_used: m.disk_used,
          disk_free: m.disk_free,
          users: expect.any(Number),
        },
      ],
    });
    expect(m.aria2.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(m.disk_total).toBeGreaterThan(0);
    expect(m.disk_used + m.disk_free).toBe(m.disk_total);
  });

  it('is 403 Admin required for a user and 401 without a session', async () => {
    const user = await alice.get('/api/stats/machine');
    expect(user.statusCode).toBe(403);
    expect(user.json()).toEqual({ detail: 'Admin required' });
    expect((await as(c).get('/api/stats/machine')).statusCode).toBe(401);
  });
});

describe('/api/config (admin)', () => {
  it('GET gives every setting (the variables set at start win)', async () => {
    const res = await admin.get('/api/config');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      max_task_size: 10 * GiB,
      min_free_disk: 0,
      default_quota: 5 * GiB,
      allow_private_network: true,
      max_concurrent_downloads: 5,
      max_overall_download_limit: 0,
      max_active_per_user: 3,
      max_current_tasks_per_user: 1000,
      auto_retry_attempts: 3,
      auto_retry_delay_s: 30,
      auto_retry_max_delay_s: 3600,
      seed_ratio: 0,
      seed_time_min: 0,
      pinned: {
        allow_private_network: 'ALLOW_PRIVATE_NETWORK',
        min_free_disk: 'MIN_FREE_DISK',
        default_quota: 'DEFAULT_QUOTA',
      },
    });
  });

  it("PUT changes only the given keys, answers the whole object, and applies aria2's limits at once", async () => {
    const res = await admin.put('/api/config', {
      max_concurrent_downloads: 2,
      max_overall_download_limit: 1048576,
      max_current_tasks_per_user: 1000,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      max_task_size: 10 * GiB,
      min_free_disk: 0,
      default_quota: 5 * GiB,
      allow_private_network: true,
      max_concurrent_downloads: 2,
      max_overall_download_limit: 1048576,
      max_active_per_user: 3,
      max_current_tasks_per_user: 1000,
      auto_retry_attempts: 3,
      auto_retry_delay_s: 30,
      auto_retry_max_delay_s: 3600,
      seed_ratio: 0,
      seed_time_min: 0,
      pinned: {
        allow_private_network: 'ALLOW_PRIVATE_NETWORK',
        min_free_disk: 'MIN_FREE_DISK',
        default_quota: 'DEFAULT_QUOTA',
      },
    });
    expect(await globalOption('max-concurrent-downloads')).toBe('2');
    expect(await globalOption('max-overall-download-limit')).toBe('1048576');
    expect((await admin.get('/api/config')).json().max_concurrent_downloads).toBe(2);

    const back = await admin.put('/api/config', {
      max_concurrent_downloads: 5,
      max_overall_download_limit: 0,
      max_current_tasks_per_user: 1000,
    });
    expect(back.json()).toMatchObject({ max_concurrent_downloads: 5, max_overall_download_limit: 0 });
    expect(await globalOption('max-concurrent-downloads')).toBe('5');
    expect(await globalOption('max-overall-download-limit')).toBe('0');

    const empty = await admin.put('/api/config', {});
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toEqual((await admin.get('/api/config')).json());
  });

  it('a new default quota applies to users created afterwards', async () => {
    await admin.put('/api/config', { default_quota: 7 * GiB });
    try {
      const res = await admin.post('/api/users', { username: 'newbie', password: 'newbie-password-1' });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().quota).toBe(7 * GiB);
    } finally {
      await admin.put('/api/config', { default_quota: 5 * GiB });
    }
  });

  it('bad values and unknown keys are 422 naming the key, and change nothing', async () => {
    const before = (await admin.get('/api/config')).json();
    for (const [payload, key] of [
      [{ max_concurrent_downloads: 0 }, 'max_concurrent_downloads'],
      [{ max_concurrent_downloads: 2.5 }, 'max_concurrent_downloads'],
      [{ max_task_size: -1 }, 'max_task_size'],
      [{ min_free_disk: '1' }, 'min_free_disk'],
      [{ allow_private_network: 'yes' }, 'allow_private_network'],
      [{ max_overall_download_limit: null }, 'max_overall_download_limit'],
      [{ max_active_per_user: -1 }, 'max_active_per_user'],
      [{ max_active_per_user: 1.5 }, 'max_active_per_user'],
      [{ max_active_per_user: '2' }, 'max_active_per_user'],
      [{ bogus: 1 }, 'bogus'],
    ] as const) {
      const res = await admin.put('/api/config', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().detail, JSON.stringify(payload)).toContain(key);
    }
    expect((await admin.get('/api/config')).json()).toEqual(before);
    expect(await globalOption('max-concurrent-downloads')).toBe(String(before.max_concurrent_downloads));
  });

  it('is 403 Admin required for a user and 401 without a session', async () => {
    for (const res of [
      await alice.get('/api/config'),
      await alice.put('/api/config', { max_task_size: 1 }),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ detail: 'Admin required' });
    }
    expect((await as(c).get('/api/config')).statusCode).toBe(401);
    expect((await as(c).put('/api/config', { max_task_size: 1 })).statusCode).toBe(401);
    expect((await admin.get('/api/config')).json().max_task_size).toBe(10 * GiB);
  });
});

describe('Settings across a restart', () => {
  it('stored settings are kept; a variable that is set wins; aria2 gets the limits at start', async () => {
    const r = await startTestController();
    let second: TestController | null = null;
    try {
      const a = as(r, await r.adminCookie());
      const put = await a.put('/api/config', {
        max_task_size: 3 * GiB,
        max_concurrent_downloads: 4,
        max_overall_download_limit: 2048,
        default_quota: 2 * GiB,
        max_active_per_user: 1,
        max_current_tasks_per_user: 7,
        auto_retry_attempts: 3,
        auto_retry_delay_s: 30,
        auto_retry_max_delay_s: 3600,
      });
      expect(put.statusCode).toBe(200);
      await r.close();
      second = await startTestController({ MAX_TASK_SIZE: String(6 * GiB) }, { dataDir: r.dataDir });
      const b = as(second, await second.adminCookie());
      expect((await b.get('/api/config')).json()).toEqual({
        max_task_size: 6 * GiB,
        min_free_disk: 0,
        default_quota: 2 * GiB,
        allow_private_network: true,
        max_concurrent_downloads: 4,
        max_overall_download_limit: 2048,
        max_active_per_user: 1,
        max_current_tasks_per_user: 7,
        auto_retry_attempts: 3,
        auto_retry_delay_s: 30,
        auto_retry_max_delay_s: 3600,
        seed_ratio: 0,
        seed_time_min: 0,
        pinned: {
          allow_private_network: 'ALLOW_PRIVATE_NETWORK',
          min_free_disk: 'MIN_FREE_DISK',
          max_task_size: 'MAX_TASK_SIZE',
        },
      });
      const s = second;
      await waitFor(
        async () =>
          (await s.aria2.call<Record<string, string>>('aria2.getGlobalOption'))[
            'max-concurrent-downloads'
          ] === '4',
        10_000,
        'aria2 to get the stored limit',
      );
    } finally {
      if (second) await second.destroy();
      else await r.destroy();
    }
  });
});

describe('GET /api/openapi.json', () => {
  it('documents the task, stats and config routes', async () => {
    const res = await as(c).get('/api/openapi.json');
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    for (const p of [
      '/api/tasks/',
      '/api/tasks/batch',
      '/api/tasks/torrent',
      '/api/tasks/{id}',
      '/api/tasks/{id}/detail',
      '/api/tasks/{id}/files',
      '/api/tasks/{id}/status',
      '/api/tasks/{id}/position',
      '/api/tasks/artifacts/{token}',
      '/api/stats/',
      '/api/stats/machine',
      '/api/config/',
    ]) {
      expect(
        paths.map((x) => x.replace(/\/$/, '')),
        p,
      ).toContain(p.replace(/\/$/, ''));
    }
  });
});

it('a finished download is counted once even after the sync engine runs again', async () => {
  const user = as(c, (await c.createUser('counted')).cookie);
  server.addFile('/stats/once.bin', patternBytes(0, 70_000));
  const t = await user.add(server.url('/stats/once.bin'));
  await user.waitTask(t.id, (x) => x.status === 'complete');
  await c.sync.reconcileNow();
  await c.sync.pollNow();
  expect((await user.get('/api/stats')).json().used_space).toBe(70_000);
});
