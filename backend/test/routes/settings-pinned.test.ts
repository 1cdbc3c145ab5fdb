import { afterEach, describe, expect, it } from 'vitest';
import { GiB } from '../../src/config/index.js';
import { startTestController, type TestController } from '../helpers/controller.js';
import { as } from '../helpers/tasks-api.js';

const started: TestController[] = [];
afterEach(async () => {
  // The last one holds the data folder the others shared.
  const last = started.pop();
  for (const c of started.splice(0)) await c.close().catch(() => undefined);
  await last?.destroy();
});

async function start(env: Record<string, string>, dataDir?: string): Promise<TestController> {
  const c = await startTestController(env, dataDir ? { dataDir } : {});
  started.push(c);
  return c;
}

describe('Settings pinned by an environment variable', () => {
  it('GET /api/config names each pinned setting and its variable; a PUT still applies until the next start', async () => {
    const first = await start({ MAX_TASK_SIZE: String(6 * GiB), DEFAULT_QUOTA: String(2 * GiB) });
    const admin = as(first, await first.adminCookie());
    const got = (await admin.get('/api/config')).json();
    // The test controller also sets ALLOW_PRIVATE_NETWORK and MIN_FREE_DISK.
    expect(got.pinned).toEqual({
      allow_private_network: 'ALLOW_PRIVATE_NETWORK',
      max_task_size: 'MAX_TASK_SIZE',
      min_free_disk: 'MIN_FREE_DISK',
      default_quota: 'DEFAULT_QUOTA',
    });
    expect(got.max_task_size).toBe(6 * GiB);

    const put = await admin.put('/api/config', { max_task_size: 3 * GiB, max_concurrent_downloads: 2 });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ max_task_size: 3 * GiB, pinned: got.pinned });
    expect((await admin.get('/api/config')).json().max_task_size).toBe(3 * GiB);
    await first.close();

    // The variable wins again at the next start; a setting no variable pins keeps its stored value.
    const second = await start({ MAX_TASK_SIZE: String(6 * GiB) }, first.dataDir);
    const b = as(second, await second.adminCookie());
    const after = (await b.get('/api/config')).json();
    expect(after).toMatchObject({
      max_task_size: 6 * GiB,
      default_quota: 2 * GiB,
      max_concurrent_downloads: 2,
    });
    expect(after.pinned).toEqual({
      allow_private_network: 'ALLOW_PRIVATE_NETWORK',
      max_task_size: 'MAX_TASK_SIZE',
      min_free_disk: 'MIN_FREE_DISK',
    });
  });

  it('pinned is not a setting: a PUT carrying it is 422 naming it and changes nothing', async () => {
    const c = await start({});
    const admin = as(c, await c.adminCookie());
    const before = (await admin.get('/api/config')).json();
    const res = await admin.put('/api/config', { max_task_size: 1, pinned: {} });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain('pinned');
    expect((await admin.get('/api/config')).json()).toEqual(before);
  });
});
