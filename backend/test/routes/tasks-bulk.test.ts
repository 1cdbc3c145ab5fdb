import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

const MiB = 1024 * 1024;
const MISSING = 999_999;

let c: TestController;
let server: FileServer;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;

beforeAll(async () => {
  [c, server] = await Promise.all([startTestController(), startFileServer()]);
  const a = await c.createUser('alice');
  aliceId = a.id;
  alice = as(c, a.cookie);
  bob = as(c, (await c.createUser('bob')).cookie);
});
afterAll(async () => {
  await server?.close();
  await c?.destroy();
});

/** A download that stays active (~1 MiB at 32 KiB/s) until the test ends it. */
async function running(who: ApiClient, p: string): Promise<Task> {
  server.addFile(p, { size: 1 * MiB }, { throttle: 32 * 1024 });
  const t = await who.add(server.url(p));
  return who.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0, `${p} to run`);
}

async function finished(who: ApiClient, p: string): Promise<Task> {
  server.addFile(p, patternBytes(0, 4000));
  const t = await who.add(server.url(p));
  return who.waitTask(t.id, (x) => x.status === 'complete', `${p} to finish`);
}

/** Counts the aria2 requests the controller sends while `fn` runs (the real client, only counted). */
async function aria2Requests<T>(fn: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const calls: string[] = [];
  const client = c.aria2 as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const multicall = client.multicall!;
  const call = client.call!;
  client.multicall = function (this: unknown, ...args: unknown[]) {
    calls.push(`multicall:${(args[0] as { method: string }[]).map((x) => x.method).join(',')}`);
    return multicall.apply(this, args);
  };
  client.call = function (this: unknown, ...args: unknown[]) {
    calls.push(String(args[0]));
    return call.apply(this, args);
  };
  try {
    return { result: await fn(), calls };
  } finally {
    client.multicall = multicall;
    client.call = call;
  }
}

describe('POST /api/tasks/status', () => {
  it('pauses, resumes and stops each id on its own: own running, own finished, foreign, missing', async () => {
    const [a1, a2, done, foreign] = await Promise.all([
      running(alice, '/bulk/run-1.bin'),
      running(alice, '/bulk/run-2.bin'),
      finished(alice, '/bulk/done.bin'),
      running(bob, '/bulk/bob.bin'),
    ]);
    const ids = [a1.id, done.id, foreign.id, MISSING, a2.id];

    const { result: paused, calls } = await aria2Requests(() =>
      alice.post('/api/tasks/status', { ids, status: 'pause' }),
    );
    expect(paused.statusCode).toBe(200);
    const results = paused.json().results;
    expect(results.map((r: { id: number }) => r.id)).toEqual(ids);
    expect(results[0]).toMatchObject({ id: a1.id, ok: true, task: { id: a1.id, status: 'paused' } });
    expect(results[1]).toEqual({
      id: done.id,
      ok: false,
      status: 409,
      detail: 'Only an active or waiting download can be paused',
    });
    expect(results[2]).toEqual({ id: foreign.id, ok: false, status: 404, detail: 'Task not found' });
    expect(results[3]).toEqual({ id: MISSING, ok: false, status: 404, detail: 'Task not found' });
    expect(results[4]).toMatchObject({ id: a2.id, ok: true, task: { id: a2.id, status: 'paused' } });
    // Both pauses went to aria2 in one multicall, not one request per id.
    expect(calls.filter((x) => x.includes('aria2.pause'))).toEqual(['multicall:aria2.pause,aria2.pause']);
    // aria2 answers a pause at once and stops the download's connections a moment later.
    for (const t of [a1, a2])
      await waitFor(
        async () => (await c.aria2.tellStatus(t.gid!, ['status'])).status === 'paused',
        10_000,
        `aria2 to pause ${t.id}`,
      );
    expect((await bob.task(foreign.id)).status).toBe('active');
    expect(await alice.task(done.id)).toEqual(done);

    // The single endpoint answers the same for the same state.
    const single = await alice.put(`/api/tasks/${a1.id}/status`, { status: 'pause' });
    expect(single.statusCode).toBe(409);
    expect(single.json()).toEqual({ detail: 'Only an active or waiting download can be paused' });

    const resumed = (
      await alice.post('/api/tasks/status', { ids: [a1.id, a2.id, done.id], status: 'resume' })
    ).json();
    expect(resumed.results[0]).toMatchObject({ id: a1.id, ok: true });
    expect(resumed.results[1]).toMatchObject({ id: a2.id, ok: true });
    expect(['active', 'waiting']).toContain(resumed.results[0].task.status);
    expect(resumed.results[2]).toEqual({
      id: done.id,
      ok: false,
      status: 409,
      detail: 'Only a paused download can be resumed',
    });

    const stopped = (
      await alice.post('/api/tasks/status', { ids: [a1.id, foreign.id, a2.id], status: 'stop' })
    ).json();
    expect(stopped.results).toEqual([
      { id: a1.id, ok: true, task: expect.objectContaining({ id: a1.id, status: 'removed' }) },
      { id: foreign.id, ok: false, status: 404, detail: 'Task not found' },
      { id: a2.id, ok: true, task: expect.objectContaining({ id: a2.id, status: 'removed' }) },
    ]);
    expect((await alice.task(a1.id)).status).toBe('removed');
    expect((await bob.task(foreign.id)).status).toBe('active');
  });

  it('refuses an empty list, more than 1000 ids or an unknown action with 422, changing nothing', async () => {
    const t = await running(alice, '/bulk/keep.bin');
    for (const body of [
      { ids: [], status: 'stop' },
      { ids: Array.from({ length: 1001 }, (_x, i) => i + 1), status: 'stop' },
      { ids: [t.id], status: 'delete' },
      { ids: [t.id] },
      { ids: [0], status: 'stop' },
    ]) {
      const res = await alice.post('/api/tasks/status', body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.json().detail).toMatch(/ids|status/);
    }
    expect((await alice.task(t.id)).status).toBe('active');
    await alice.post('/api/tasks/status', { ids: [t.id], status: 'stop' });
  });
});

describe('POST /api/tasks/delete', () => {
  it("deletes each of the caller's ids on its own, with files when asked; foreign and missing are 404", async () => {
    const [run, done, foreign] = await Promise.all([
      running(alice, '/bulk/del-run.bin'),
      finished(alice, '/bulk/del-done.bin'),
      finished(bob, '/bulk/del-bob.bin'),
    ]);
    const artifact = path.join(c.config.downloadDir, String(aliceId), done.artifact_path!);
    expect(fs.existsSync(artifact)).toBe(true);

    const { result: res, calls } = await aria2Requests(() =>
      alice.post('/api/tasks/delete', { ids: [run.id, foreign.id, MISSING, done.id], delete_files: true }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { id: run.id, ok: true },
        { id: foreign.id, ok: false, status: 404, detail: 'Task not found' },
        { id: MISSING, ok: false, status: 404, detail: 'Task not found' },
        { id: done.id, ok: true },
      ],
    });
    // One aria2 request per step for all the ids, none per id.
    expect(calls.filter((x) => /^aria2\.(forceRemove|removeDownloadResult|getFiles)$/.test(x))).toEqual([]);
    expect(calls).toContain('multicall:aria2.forceRemove,aria2.forceRemove');
    expect((await alice.get(`/api/tasks/${run.id}`)).statusCode).toBe(404);
    expect((await alice.get(`/api/tasks/${done.id}`)).statusCode).toBe(404);
    expect(fs.existsSync(artifact)).toBe(false);
    expect(
      await c.aria2.tellStatus(run.gid!, ['status']).then(
        () => 'known',
        () => 'gone',
      ),
    ).toBe('gone');
    expect(await bob.task(foreign.id)).toEqual(foreign);

    // Without delete_files the finished file stays.
    const kept = await finished(alice, '/bulk/del-keep.bin');
    const keptFile = path.join(c.config.downloadDir, String(aliceId), kept.artifact_path!);
    const again = (await alice.post('/api/tasks/delete', { ids: [kept.id, kept.id] })).json();
    expect(again).toEqual({ results: [{ id: kept.id, ok: true }] });
    expect(fs.existsSync(keptFile)).toBe(true);
  });

  it('refuses a bad list or a non-boolean delete_files with 422, deleting nothing', async () => {
    const t = await finished(alice, '/bulk/del-bad.bin');
    for (const body of [
      { ids: [] },
      { ids: Array.from({ length: 1001 }, (_x, i) => i + 1) },
      { ids: [t.id], delete_files: 'true' },
      { ids: [String(t.id)] },
      { ids: [t.id], extra: 1 },
    ]) {
      const res = await alice.post('/api/tasks/delete', body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.json().detail).toBeTruthy();
    }
    expect(await alice.task(t.id)).toEqual(t);
  });
});
