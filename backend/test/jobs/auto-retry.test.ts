import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let alice: ApiClient;

beforeAll(async () => {
  [c, server] = await Promise.all([startTestController(), startFileServer()]);
  admin = as(c, await c.adminCookie());
  alice = as(c, (await c.createUser('alice')).cookie);
});
afterAll(async () => {
  await server?.close();
  await c?.destroy();
});

/** The tasks of one source in the caller's list (a lineage): never more than one at a time. */
async function lineage(client: ApiClient, filePath: string): Promise<Task[]> {
  const res = await client.get(`/api/tasks?view=all&limit=1000&q=${encodeURIComponent(filePath)}`);
  const items = (res.json() as { items: Task[] }).items.filter((t) => t.uri.endsWith(filePath));
  expect(items.length, `one task of ${filePath} at a time`).toBeLessThanOrEqual(1);
  return items;
}

/** Polls the lineage of `filePath` until its one task satisfies `check`. */
function waitLineage(client: ApiClient, filePath: string, check: (t: Task) => boolean, what: string) {
  let last: Task[] = [];
  return waitFor(
    async () => {
      last = await lineage(client, filePath);
      return last[0] && check(last[0]) ? last[0] : null;
    },
    30_000,
    what,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  });
}

async function setConfig(patch: Record<string, unknown>) {
  const r = await admin.put('/api/config', patch);
  expect(r.statusCode, r.body).toBe(200);
}

describe('auto-retry settings', () => {
  it('are in /api/config with their defaults, change there, and refuse values out of range', async () => {
    const got = (await admin.get('/api/config')).json();
    expect(got).toMatchObject({
      auto_retry_attempts: 3,
      auto_retry_delay_s: 30,
      auto_retry_max_delay_s: 3600,
    });
    for (const bad of [{ auto_retry_attempts: 11 }, { auto_retry_attempts: -1 }, { auto_retry_delay_s: 0 }]) {
      const r = await admin.put('/api/config', bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(422);
      expect(r.json().detail).toMatch(/auto_retry/);
    }
    expect((await alice.put('/api/config', { auto_retry_attempts: 1 })).statusCode).toBe(403);
    expect((await alice.post('/api/tasks', { uri: server.url('/x'), auto_retry: 11 })).statusCode).toBe(422);
    expect(
      (await alice.post('/api/tasks/batch', { uris: [server.url('/x')], auto_retry: -1 })).statusCode,
    ).toBe(422);
    expect((await admin.get('/api/config')).json()).toEqual(got);
  });
});

describe('automatic retries', () => {
  it('a source that answers 503 twice and then serves completes on attempt 3; a 404 is not retried', async () => {
    await setConfig({ auto_retry_delay_s: 1, auto_retry_max_delay_s: 2 });
    const data = patternBytes(0, 80_000);
    server.addFile('/auto/busy.bin', data, { status: 503, statusTimes: 2 });
    server.addFile('/auto/gone.bin', data, { status: 404 });
    const first = await alice.add(server.url('/auto/busy.bin'));
    expect(first.attempt).toBe(1);
    expect(first.next_retry_at).toBeNull();
    const gone = await alice.add(server.url('/auto/gone.bin'));

    const planned = await waitLineage(alice, '/auto/busy.bin', (t) => t.next_retry_at !== null, 'a plan');
    expect(planned.status).toBe('error');
    expect(planned.attempt).toBe(1);
    expect(Date.parse(planned.next_retry_at!)).toBeGreaterThan(Date.parse(planned.updated_at) - 1000);

    const done = await waitLineage(alice, '/auto/busy.bin', (t) => t.status === 'complete', 'the third try');
    expect(done.attempt).toBe(3);
    expect(done.next_retry_at).toBeNull();
    expect(
      server.requestsFor('/auto/busy.bin').filter((r) => r.method === 'GET' && r.status === 503),
    ).toHaveLength(2);

    const g = await alice.task(gone.id);
    expect(g).toMatchObject({ status: 'error', attempt: 1, next_retry_at: null });
    expect(server.requestsFor('/auto/gone.bin').filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it('retries HTTP 500 and 429 (passing) but not 403 (lasting), each as many times as its add says', async () => {
    await setConfig({ auto_retry_delay_s: 1, auto_retry_max_delay_s: 1 });
    for (const [p, status] of [
      ['/codes/500.bin', 500],
      ['/codes/429.bin', 429],
      ['/codes/403.bin', 403],
    ] as const) {
      server.addFile(p, patternBytes(0, 100), { status });
      expect((await alice.post('/api/tasks', { uri: server.url(p), auto_retry: 1 })).statusCode).toBe(201);
    }
    for (const p of ['/codes/500.bin', '/codes/429.bin']) {
      const t = await waitLineage(
        alice,
        p,
        (x) => x.attempt === 2 && x.status === 'error' && x.next_retry_at === null,
        `${p} to fail its one retry`,
      );
      // One retry was allowed: after it, nothing more is planned.
      expect(t.error).toBeTruthy();
    }
    const lasting = await lineage(alice, '/codes/403.bin');
    expect(lasting[0]).toMatchObject({ status: 'error', attempt: 1, next_retry_at: null });
  });

  it('the plan can be cancelled (DELETE /auto-retry) and a planned task retried now', async () => {
    await setConfig({ auto_retry_delay_s: 3600, auto_retry_max_delay_s: 3600 });
    server.addFile('/plan/cancel.bin', patternBytes(0, 100), { status: 503 });
    await alice.add(server.url('/plan/cancel.bin'));
    const planned = await waitLineage(alice, '/plan/cancel.bin', (t) => t.next_retry_at !== null, 'a plan');
    expect(Date.parse(planned.next_retry_at!) - Date.now()).toBeGreaterThan(3000 * 1000);

    const r = await alice.del(`/api/tasks/${planned.id}/auto-retry`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: planned.id, next_retry_at: null, attempt: 1, status: 'error' });
    await c.autoRetryJob.runNow();
    expect((await alice.task(planned.id)).next_retry_at).toBeNull();
    const again = await alice.del(`/api/tasks/${planned.id}/auto-retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: 'No automatic retry is planned for this task' });
    const bob = as(c, (await c.createUser('bob-cancel')).cookie);
    expect((await bob.del(`/api/tasks/${planned.id}/auto-retry`)).statusCode).toBe(404);

    server.addFile('/plan/now.bin', patternBytes(0, 100), { status: 503, statusTimes: 1 });
    await alice.add(server.url('/plan/now.bin'));
    const waiting = await waitLineage(alice, '/plan/now.bin', (t) => t.next_retry_at !== null, 'a plan');
    const now = await alice.post(`/api/tasks/${waiting.id}/retry`);
    expect(now.statusCode).toBe(200);
    expect(now.json()).toMatchObject({ attempt: 2, next_retry_at: null });
    await waitLineage(alice, '/plan/now.bin', (t) => t.status === 'complete', 'the retry now to finish');
  });

  it('retry-now racing the scheduler makes exactly one new task', async () => {
    await setConfig({ auto_retry_delay_s: 3600, auto_retry_max_delay_s: 3600 });
    for (let round = 0; round < 5; round++) {
      const p = `/race/r${round}.bin`;
      server.addFile(p, patternBytes(0, 100), { status: 503 });
      await alice.add(server.url(p));
      const planned = await waitLineage(alice, p, (t) => t.next_retry_at !== null, 'a plan');
      // Due now: the scheduler and the user go for it at once.
      await c.db
        .updateTable('tasks')
        .set({ next_retry_at: '2000-01-01T00:00:00Z' })
        .where('id', '=', planned.id)
        .execute();
      const [user, made] = await Promise.all([
        alice.post(`/api/tasks/${planned.id}/retry`),
        c.autoRetry.runDue(),
      ]);
      expect([200, 409, 404]).toContain(user.statusCode);
      expect((user.statusCode === 200 ? 1 : 0) + made, `round ${round}`).toBe(1);
      const [one] = await lineage(alice, p);
      expect(one!.id).not.toBe(planned.id);
      expect(one!.attempt).toBe(2);
      const rows = await c.db.selectFrom('tasks').select('id').where('uri', '=', server.url(p)).execute();
      expect(rows).toHaveLength(1);
    }
  });
});

describe('a planned retry across restarts', () => {
  it('survives a restart of the controller and its aria2 and is carried out after it', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-test-'));
    let d = await startTestController({}, { dataDir });
    try {
      const admin2 = as(d, await d.adminCookie());
      // Long enough that the plan is still ahead after the restart, however slow the machine is.
      expect(
        (await admin2.put('/api/config', { auto_retry_delay_s: 10, auto_retry_max_delay_s: 10 })).statusCode,
      ).toBe(200);
      const user = await d.createUser('dave');
      const data = patternBytes(0, 50_000);
      server.addFile('/restart/busy.bin', data, { status: 503, statusTimes: 1 });
      let dave = as(d, user.cookie);
      const added = await dave.add(server.url('/restart/busy.bin'));
      const planned = await dave.waitTask(added.id, (t) => t.next_retry_at !== null, 'a plan');
      await d.close();

      d = await startTestController({}, { dataDir });
      dave = as(d, await d.login('dave', 'user-password-1'));
      const after = await dave.task(planned.id);
      expect(after).toMatchObject({
        id: planned.id,
        status: 'error',
        next_retry_at: planned.next_retry_at,
        attempt: 1,
      });
      const done = await waitLineage(
        dave,
        '/restart/busy.bin',
        (t) => t.status === 'complete',
        'the planned retry',
      );
      expect(done.id).not.toBe(planned.id);
      expect(done.attempt).toBe(2);
      const file = path.join(d.config.downloadDir, String(user.id), done.artifact_path!);
      expect(fs.readFileSync(file).equals(data)).toBe(true);
    } finally {
      await d.destroy();
    }
  }, 60_000);
});
