import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { makeTorrent } from '../helpers/torrent.js';

const TORRENT_SENTENCE = 'Torrent tasks cannot be retried. Please re-upload the torrent file.';

let c: TestController;
let server: FileServer;
let alice: { id: number; cookie: string };
let bob: { id: number; cookie: string };

useController({ users: ['alice', 'bob'] }, (fx) => {
  ({ c, server } = fx);
  ({ alice, bob } = fx.users as { alice: typeof alice; bob: typeof bob });
});

type Json = Record<string, unknown> & { id: number; status: string };

async function call(
  cookie: string | null,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  const res = await c.app.inject({
    method,
    url,
    headers: cookie ? { cookie } : {},
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.body ? res.json() : null, headers: res.headers };
}

async function taskOf(cookie: string, id: number): Promise<Json | null> {
  const r = await call(cookie, 'GET', `/api/tasks/${id}`);
  return r.status === 200 ? (r.body as Json) : null;
}

async function until(cookie: string, id: number, statuses: string[]): Promise<Json> {
  let last: Json | null = null;
  try {
    return await waitFor(async () => {
      last = await taskOf(cookie, id);
      return last && statuses.includes(last.status) ? last : null;
    }, 20_000);
  } catch {
    throw new Error(`task ${id} did not reach ${statuses.join('/')}: ${JSON.stringify(last).slice(0, 600)}`);
  }
}

/** A task that failed because the server answered 404. */
async function failedTask(cookie: string, filePath: string, content: Buffer): Promise<Json> {
  server.addFile(filePath, content, { status: 404 });
  const created = await call(cookie, 'POST', '/api/tasks', { uri: server.url(filePath) });
  expect(created.status).toBe(201);
  return until(cookie, created.body.id, ['error']);
}

describe('POST /api/tasks/{id}/retry', () => {
  it('replaces a failed HTTP task by a new download that completes; the old one is gone everywhere', async () => {
    const data = patternBytes(0, 150_000);
    const old = await failedTask(alice.cookie, '/flow/file.bin', data);
    expect(old.error).toBeTruthy();
    const oldGid = old.gid as string;

    server.update('/flow/file.bin', { status: undefined });
    const r = await call(alice.cookie, 'POST', `/api/tasks/${old.id}/retry`);
    expect(r.status).toBe(200);
    expect(r.body.id).not.toBe(old.id);
    expect(r.body.uri).toBe(old.uri);
    expect(['active', 'waiting', 'paused', 'complete', 'error']).toContain(r.body.status);
    expect(r.body.status).not.toBe('queued');

    expect((await call(alice.cookie, 'GET', `/api/tasks/${old.id}`)).status).toBe(404);
    const list = await call(alice.cookie, 'GET', '/api/tasks?view=all&limit=1000');
    expect(list.body.items.map((t: Json) => t.id)).not.toContain(old.id);
    await expect(c.aria2.tellStatus(oldGid)).rejects.toThrow();

    const done = await until(alice.cookie, r.body.id, ['complete']);
    const file = path.join(c.config.downloadDir, String(alice.id), done.artifact_path as string);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
  });

  it('refuses a torrent task with the exact sentence and keeps it', async () => {
    const data = patternBytes(0, 40_000);
    const t = makeTorrent({
      name: 'seeded.bin',
      content: data,
      webSeedUrl: server.url('/torrent-gone/seeded.bin'),
    });
    const created = await call(alice.cookie, 'POST', '/api/tasks/torrent', { torrent: t.base64 });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Stop it, so it is a history task like a failed one.
    const stopped = await call(alice.cookie, 'PUT', `/api/tasks/${id}/status`, { status: 'stop' });
    expect(stopped.status).toBe(200);
    const r = await call(alice.cookie, 'POST', `/api/tasks/${id}/retry`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ detail: TORRENT_SENTENCE });
    expect((await taskOf(alice.cookie, id))?.status).toBe('removed');
  });

  it("answers 404 for a task that does not exist and for another user's task, which stays untouched", async () => {
    expect((await call(alice.cookie, 'POST', '/api/tasks/999999/retry')).body).toEqual({
      detail: 'Task not found',
    });
    const bobs = await failedTask(bob.cookie, '/bob/file.bin', patternBytes(0, 1000));
    const r = await call(alice.cookie, 'POST', `/api/tasks/${bobs.id}/retry`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ detail: 'Task not found' });
    const after = await taskOf(bob.cookie, bobs.id);
    expect(after).toEqual(bobs);
  });

  it('answers 409 for a task that is still running', async () => {
    server.addFile('/active.bin', { size: 4_000_000 }, { throttle: 50_000 });
    const created = await call(alice.cookie, 'POST', '/api/tasks', { uri: server.url('/active.bin') });
    await until(alice.cookie, created.body.id, ['active']);
    const r = await call(alice.cookie, 'POST', `/api/tasks/${created.body.id}/retry`);
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ detail: 'Only failed or stopped tasks can be retried' });
    await call(alice.cookie, 'DELETE', `/api/tasks/${created.body.id}?delete_files=true`);
  });

  it('answers 422 for a malformed id and 401 without a session', async () => {
    for (const id of ['abc', '0', '-1', '1.5']) {
      const r = await call(alice.cookie, 'POST', `/api/tasks/${id}/retry`);
      expect(r.status, id).toBe(422);
      expect(r.body.detail).toMatch(/id/);
    }
    expect(await call(null, 'POST', '/api/tasks/1/retry')).toMatchObject({
      status: 401,
      body: { detail: 'Not authenticated' },
    });
  });

  it('resumes a partial file: the retry sends a Range request and the finished bytes are right', async () => {
    const size = 1_500_000;
    server.addFile('/partial.bin', { size }, { throttle: 100_000 });
    const created = await call(alice.cookie, 'POST', '/api/tasks', { uri: server.url('/partial.bin') });
    const id = created.body.id;
    await waitFor(
      async () => ((await taskOf(alice.cookie, id))?.completed_length as number) > 200_000,
      20_000,
      'a partial download',
    );
    // Cut it off: the download stops, its partial file stays on disk.
    expect((await call(alice.cookie, 'PUT', `/api/tasks/${id}/status`, { status: 'stop' })).status).toBe(200);
    const partial = path.join(
      c.config.downloadDir,
      String(alice.id),
      '.incomplete',
      created.body.gid,
      'partial.bin',
    );
    await waitFor(() => fs.existsSync(partial) && fs.statSync(partial).size > 0, 5000, 'the partial file');

    server.update('/partial.bin', { throttle: undefined });
    server.clearRequests();
    const r = await call(alice.cookie, 'POST', `/api/tasks/${id}/retry`);
    expect(r.status).toBe(200);
    const done = await until(alice.cookie, r.body.id, ['complete']);
    const ranged = server
      .requestsFor('/partial.bin')
      .filter((q) => q.method === 'GET' && q.range && !/^bytes=0-/.test(q.range));
    expect(ranged.length).toBeGreaterThan(0);
    const file = path.join(c.config.downloadDir, String(alice.id), done.artifact_path as string);
    expect(fs.readFileSync(file).equals(patternBytes(0, size))).toBe(true);
  });

  it('keeps a URI with credentials whole for the download and masked in every response', async () => {
    server.addFile('/secret/file.bin', patternBytes(0, 20_000), { auth: 'user:s3cret', status: 404 });
    const uri = server.url('/secret/file.bin', 'user:s3cret');
    const created = await call(alice.cookie, 'POST', '/api/tasks', { uri });
    expect(created.body.uri).not.toContain('s3cret');
    const failed = await until(alice.cookie, created.body.id, ['error']);
    expect(JSON.stringify(failed)).not.toContain('s3cret');
    server.update('/secret/file.bin', { status: undefined });
    const r = await call(alice.cookie, 'POST', `/api/tasks/${failed.id}/retry`);
    expect(r.status).toBe(200);
    expect(r.body.uri).toBe(created.body.uri);
    expect(r.body.uri).toContain('***:***@');
    const done = await until(alice.cookie, r.body.id, ['complete']);
    expect(JSON.stringify(done)).not.toContain('s3cret');
    const authed = server.requestsFor('/secret/file.bin').filter((q) => q.status === 200 || q.status === 206);
    expect(authed.length).toBeGreaterThan(0);
  });

  it('retries a URI of 8,000 characters', async () => {
    // A long query string: file names are capped at 255 bytes by the file system, URIs are not.
    const uri = `${server.url('/long/file.bin')}?token=${'a'.repeat(7_970)}`;
    expect(uri.length).toBeGreaterThanOrEqual(8_000);
    server.addFile('/long/file.bin', patternBytes(0, 5000), { status: 404 });
    const created = await call(alice.cookie, 'POST', '/api/tasks', { uri });
    expect(created.status).toBe(201);
    const old = await until(alice.cookie, created.body.id, ['error']);
    expect(old.uri).toBe(uri);
    server.update('/long/file.bin', { status: undefined });
    const r = await call(alice.cookie, 'POST', `/api/tasks/${old.id}/retry`);
    expect(r.status).toBe(200);
    expect(r.body.uri).toBe(uri);
    await until(alice.cookie, r.body.id, ['complete']);
  });

  it('of 20 concurrent retries of one task exactly one succeeds and one new task exists', async () => {
    const old = await failedTask(alice.cookie, '/race.bin', patternBytes(0, 10_000));
    server.update('/race.bin', { status: undefined });
    const before = (await call(alice.cookie, 'GET', '/api/tasks?limit=1000')).body.total;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => call(alice.cookie, 'POST', `/api/tasks/${old.id}/retry`)),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) expect([404, 409]).toContain(r.status);
    const after = (await call(alice.cookie, 'GET', '/api/tasks?limit=1000')).body;
    expect(after.total).toBe(before);
    expect(after.items.filter((t: Json) => t.uri === old.uri)).toHaveLength(1);
  });

  it('checks the quota: 403 over the space left, and "used up" when nothing is left', async () => {
    const carol = await c.createUser('carol', { quota: 100_000 });
    server.addFile('/quota/big.bin', { size: 300_000 }, { status: 404 });
    const created = await call(carol.cookie, 'POST', '/api/tasks', { uri: server.url('/quota/small.bin') });
    expect(created.status).toBe(201);
    server.addFile('/quota/small.bin', patternBytes(0, 100), { status: 404 });
    // A failed task whose source has since grown past the quota.
    const old = await until(carol.cookie, created.body.id, ['error']);
    server.addFile('/quota/small.bin', { size: 300_000 });
    const r = await call(carol.cookie, 'POST', `/api/tasks/${old.id}/retry`);
    expect(r.status).toBe(403);
    expect(r.body.detail).toBe('File size 0.00 GB exceeds your available space 0.00 GB');
    expect((await taskOf(carol.cookie, old.id))?.status).toBe('error');

    await c.db.updateTable('users').set({ used_space: 100_000 }).where('id', '=', carol.id).execute();
    const full = await call(carol.cookie, 'POST', `/api/tasks/${old.id}/retry`);
    expect(full).toMatchObject({ status: 403, body: { detail: 'Your storage quota is used up' } });
  });

  it('checks the maximum task size with the exact sentence', async () => {
    const old = await failedTask(alice.cookie, '/max/file.bin', patternBytes(0, 100));
    server.addFile('/max/file.bin', { size: 3 * 1024 ** 3 });
    const put = await call(await c.adminCookie(), 'PUT', '/api/config', { max_task_size: 2 * 1024 ** 3 });
    expect(put.status).toBe(200);
    try {
      const r = await call(alice.cookie, 'POST', `/api/tasks/${old.id}/retry`);
      expect(r).toMatchObject({ status: 403, body: { detail: 'File size 3.00 GB exceeds limit 2.00 GB' } });
      expect((await taskOf(alice.cookie, old.id))?.status).toBe('error');
    } finally {
      await call(await c.adminCookie(), 'PUT', '/api/config', { max_task_size: 10 * 1024 ** 3 });
    }
  });

  it('checks the free disk first with the exact sentence', async () => {
    const old = await failedTask(alice.cookie, '/disk/file.bin', patternBytes(0, 100));
    const admin = await c.adminCookie();
    await call(admin, 'PUT', '/api/config', { min_free_disk: 2 ** 52 });
    try {
      const r = await call(alice.cookie, 'POST', `/api/tasks/${old.id}/retry`);
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(/^Insufficient disk space, remaining \d+\.\d\d GB$/);
      expect((await taskOf(alice.cookie, old.id))?.status).toBe('error');
    } finally {
      await call(admin, 'PUT', '/api/config', { min_free_disk: 0 });
    }
  });
});

describe('POST /api/tasks/retry (batch)', () => {
  it('answers each id on its own, in the order first given, once per distinct id', async () => {
    const ownFailed = await failedTask(alice.cookie, '/batch/a.bin', patternBytes(0, 3000));
    const ownFailed2 = await failedTask(alice.cookie, '/batch/b.bin', patternBytes(0, 3000));
    server.update('/batch/a.bin', { status: undefined });
    server.update('/batch/b.bin', { status: undefined });
    const foreign = await failedTask(bob.cookie, '/batch/bob.bin', patternBytes(0, 3000));
    server.addFile('/batch/active.bin', { size: 4_000_000 }, { throttle: 50_000 });
    const active = (await call(alice.cookie, 'POST', '/api/tasks', { uri: server.url('/batch/active.bin') }))
      .body;
    const t = makeTorrent({
      name: 'b.bin',
      content: patternBytes(0, 1000),
      webSeedUrl: server.url('/nowhere/b.bin'),
    });
    const torrent = (await call(alice.cookie, 'POST', '/api/tasks/torrent', { torrent: t.base64 })).body;
    await call(alice.cookie, 'PUT', `/api/tasks/${torrent.id}/status`, { status: 'stop' });

    const ids = [ownFailed.id, foreign.id, 987654, active.id, torrent.id, ownFailed.id, ownFailed2.id];
    const r = await call(alice.cookie, 'POST', '/api/tasks/retry', { ids });
    expect(r.status).toBe(200);
    const results = r.body.results;
    expect(results.map((x: { id: number }) => x.id)).toEqual([
      ownFailed.id,
      foreign.id,
      987654,
      active.id,
      torrent.id,
      ownFailed2.id,
    ]);
    expect(results[0]).toMatchObject({ id: ownFailed.id, ok: true });
    expect(results[0].task.id).not.toBe(ownFailed.id);
    expect(results[1]).toEqual({ id: foreign.id, ok: false, status: 404, detail: 'Task not found' });
    expect(results[2]).toEqual({ id: 987654, ok: false, status: 404, detail: 'Task not found' });
    expect(results[3]).toEqual({
      id: active.id,
      ok: false,
      status: 409,
      detail: 'Only failed or stopped tasks can be retried',
    });
    expect(results[4]).toEqual({ id: torrent.id, ok: false, status: 400, detail: TORRENT_SENTENCE });
    expect(results[5]).toMatchObject({ id: ownFailed2.id, ok: true });
    expect(await taskOf(alice.cookie, ownFailed.id)).toBeNull();
    expect(await taskOf(bob.cookie, foreign.id)).toEqual(foreign);
    await until(alice.cookie, results[0].task.id, ['complete']);
    await until(alice.cookie, results[5].task.id, ['complete']);
    await call(alice.cookie, 'DELETE', `/api/tasks/${active.id}?delete_files=true`);
  });

  it('refuses more than 1000 ids and an empty list with 422', async () => {
    expect((await call(alice.cookie, 'POST', '/api/tasks/retry', { ids: [] })).status).toBe(422);
    const many = Array.from({ length: 1001 }, (_, i) => i + 1);
    expect((await call(alice.cookie, 'POST', '/api/tasks/retry', { ids: many })).status).toBe(422);
    expect((await call(alice.cookie, 'POST', '/api/tasks/retry', { ids: ['x'] })).status).toBe(422);
  });
});
