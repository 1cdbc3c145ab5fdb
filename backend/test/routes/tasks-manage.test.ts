import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

const MiB = 1024 * 1024;

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;

useController({ users: ['alice', 'bob'] }, (fx) => {
  ({ c, server, admin } = fx);
  aliceId = fx.users.alice!.id;
  alice = fx.api('alice');
  bob = fx.api('bob');
});

/** Where a running download writes: its own folder `.incomplete/<first gid>/` in the owner's folder. */
const incomplete = (userId: number, t: Task, name = '') =>
  path.join(c.config.downloadDir, String(userId), '.incomplete', t.gid!, name);

/** A download that stays active (~1 MiB at 32 KiB/s) until the test ends it. */
function slowFile(p: string): string {
  server.addFile(p, { size: 1 * MiB }, { throttle: 32 * 1024 });
  return server.url(p);
}

async function aria2Knows(gid: string): Promise<boolean> {
  return c.aria2.tellStatus(gid, ['status']).then(
    () => true,
    () => false,
  );
}

describe('GET /api/tasks (list)', () => {
  let lister: ApiClient;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    lister = as(c, (await c.createUser('lister')).cookie);
    server.addFile('/list/alpha.bin', patternBytes(0, 1000));
    server.addFile('/list/beta.bin', patternBytes(0, 3000));
    server.addFile('/list/delta.bin', patternBytes(0, 2000), { auth: 'user:pass' });
    server.addFile('/list/missing.bin', Buffer.alloc(0), { status: 404 });
    const add = async (key: string, uri: string) => {
      ids[key] = (await lister.add(uri)).id;
      // Distinct creation seconds are not needed: ties are broken by id.
    };
    await add('alpha', server.url('/list/alpha.bin'));
    await add('beta', server.url('/list/beta.bin'));
    await add('delta', server.url('/list/delta.bin', 'user:pass'));
    await add('missing', server.url('/list/missing.bin'));
    await add('gamma', slowFile('/list/gamma.bin'));
    for (const k of ['alpha', 'beta', 'delta'])
      await lister.waitTask(ids[k]!, (t) => t.status === 'complete');
    await lister.waitTask(ids.missing!, (t) => t.status === 'error');
    await lister.waitTask(ids.gamma!, (t) => t.status === 'active');
    expect((await lister.put(`/api/tasks/${ids.gamma}/status`, { status: 'pause' })).statusCode).toBe(200);
  });
  afterAll(async () => {
    // The paused download would sit in aria2's waiting queue of the position test.
    await lister.del(`/api/tasks/${ids.gamma}?delete_files=true`);
  });

  const names = async (query: string) => {
    const res = await lister.get(`/api/tasks${query}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: Task[]; total: number };
    return { names: body.items.map((t) => t.name), total: body.total };
  };

  it('defaults to all tasks, newest first, with the total', async () => {
    expect(await names('')).toEqual({
      names: ['gamma.bin', 'missing.bin', 'delta.bin', 'beta.bin', 'alpha.bin'],
      total: 5,
    });
  });

  it('view=current|history and status= filter', async () => {
    expect(await names('?view=current')).toEqual({ names: ['gamma.bin'], total: 1 });
    expect(await names('?view=history')).toEqual({
      names: ['missing.bin', 'delta.bin', 'beta.bin', 'alpha.bin'],
      total: 4,
    });
    expect(await names('?status=error')).toEqual({ names: ['missing.bin'], total: 1 });
    expect(await names('?status=complete&order=asc')).toEqual({
      names: ['alpha.bin', 'beta.bin', 'delta.bin'],
      total: 3,
    });
    expect(await names('?view=current&status=complete')).toEqual({ names: [], total: 0 });
  });

  it('sort by name, size and progress in both orders', async () => {
    expect((await names('?sort=name&order=asc')).names).toEqual([
      'alpha.bin',
      'beta.bin',
      'delta.bin',
      'gamma.bin',
      'missing.bin',
    ]);
    expect((await names('?sort=size&order=desc&status=complete')).names).toEqual([
      'beta.bin',
      'delta.bin',
      'alpha.bin',
    ]);
    const progress = (await names('?sort=progress&order=desc')).names;
    expect(progress.slice(0, 3).sort()).toEqual(['alpha.bin', 'beta.bin', 'delta.bin']);
    expect(progress.at(-1)).toBe('missing.bin');
    for (const sort of ['created_at', 'updated_at', 'speed']) {
      expect((await names(`?sort=${sort}`)).total).toBe(5);
    }
  });

  it('limit and offset page through; total counts every match', async () => {
    expect(await names('?sort=name&order=asc&limit=2')).toEqual({
      names: ['alpha.bin', 'beta.bin'],
      total: 5,
    });
    expect(await names('?sort=name&order=asc&limit=2&offset=2')).toEqual({
      names: ['delta.bin', 'gamma.bin'],
      total: 5,
    });
    expect(await names('?sort=name&order=asc&limit=2&offset=4')).toEqual({
      names: ['missing.bin'],
      total: 5,
    });
    expect(await names('?offset=50')).toEqual({ names: [], total: 5 });
  });

  it('q matches the name or the masked URI, never the hidden credentials', async () => {
    expect(await names('?q=ALPHA')).toEqual({ names: ['alpha.bin'], total: 1 });
    expect((await names(`?q=127.0.0.1:${server.port}/list/`)).total).toBe(5);
    expect(await names('?q=pass')).toEqual({ names: [], total: 0 });
    expect(await names('?q=user')).toEqual({ names: [], total: 0 });
    expect(await names(`?q=${encodeURIComponent('***:***@')}`)).toEqual({ names: ['delta.bin'], total: 1 });
    // LIKE wildcards are literal.
    expect(await names('?q=%25')).toEqual({ names: [], total: 0 });
    expect(await names('?q=_')).toEqual({ names: [], total: 0 });
    const delta = (await lister.get('/api/tasks?q=delta')).json().items[0] as Task;
    expect(delta.uri).toBe(`http://***:***@127.0.0.1:${server.port}/list/delta.bin`);
  });

  it('shows only the caller’s tasks', async () => {
    const other = (await bob.get('/api/tasks?q=list/')).json();
    expect(other).toEqual({ items: [], total: 0 });
  });

  it('bad query values are 422 naming the parameter', async () => {
    for (const [q, field] of [
      ['view=bogus', 'view'],
      ['status=done', 'status'],
      ['sort=owner_id', 'sort'],
      ['order=up', 'order'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['offset=-1', 'offset'],
      ['unknown=1', ''],
    ] as const) {
      const res = await lister.get(`/api/tasks?${q}`);
      expect(res.statusCode, `${q} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toContain(field);
    }
  });

  it('without a session is 401', async () => {
    expect((await as(c).get('/api/tasks')).statusCode).toBe(401);
  });
});

describe('One task: get, detail, files, and the 404/422 answers', () => {
  let done: Task;
  let foreign: Task;

  beforeAll(async () => {
    server.addFile('/one/file.bin', patternBytes(0, 12_345));
    done = await alice.waitTask(
      (await alice.add(server.url('/one/file.bin'))).id,
      (t) => t.status === 'complete',
    );
    server.addFile('/one/bobs.bin', patternBytes(0, 10));
    foreign = await bob.add(server.url('/one/bobs.bin'));
  });

  it('GET /api/tasks/{id} is the Task', async () => {
    const res = await alice.get(`/api/tasks/${done.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(done);
  });

  it('GET /detail carries aria2 files, pieces and connections; /files the file list', async () => {
    const detail = (await alice.get(`/api/tasks/${done.id}/detail`)).json();
    expect(detail).toMatchObject({ id: done.id, status: 'complete' });
    expect(detail.detail).toMatchObject({
      files: [{ index: 1, path: 'file.bin', length: 12_345, completed_length: 12_345, selected: true }],
      num_pieces: expect.any(Number),
      piece_length: expect.any(Number),
      connections: 0,
      bittorrent: null,
    });
    const files = await alice.get(`/api/tasks/${done.id}/files`);
    expect(files.statusCode).toBe(200);
    expect(files.json()).toEqual([
      { index: 1, path: 'file.bin', length: 12_345, completed_length: 12_345, selected: true },
    ]);
  });

  it('when aria2 has forgotten the task, detail is null and files still lists the finished file', async () => {
    await c.aria2.removeDownloadResult(done.gid!);
    const detail = (await alice.get(`/api/tasks/${done.id}/detail`)).json();
    expect(detail.detail).toBeNull();
    expect(detail.status).toBe('complete');
    const files = (await alice.get(`/api/tasks/${done.id}/files`)).json();
    expect(files).toEqual([
      { index: 1, path: 'file.bin', length: 12_345, completed_length: 12_345, selected: true },
    ]);
  });

  it("a missing id and another user's id both answer 404 Task not found, on every route", async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', ''],
      ['GET', '/detail'],
      ['GET', '/files'],
      ['PUT', '/status', { status: 'pause' }],
      ['PUT', '/position', { position: 0, how: 'POS_SET' }],
      ['DELETE', ''],
    ];
    for (const id of [foreign.id, 987_654]) {
      for (const [method, suffix, payload] of routes) {
        const res = await alice.request({
          method: method as 'GET',
          url: `/api/tasks/${id}${suffix}`,
          ...(payload ? { payload: payload as object } : {}),
        });
        expect(res.statusCode, `${method} ${id}${suffix}`).toBe(404);
        expect(res.json()).toEqual({ detail: 'Task not found' });
      }
    }
    // Bob's task is untouched.
    expect((await bob.get(`/api/tasks/${foreign.id}`)).statusCode).toBe(200);
  });

  it('an id that is not a positive integer is 422 naming id', async () => {
    for (const id of ['abc', '1.5', '0', '-3', '1e3', '99999999999999999999']) {
      for (const suffix of ['', '/detail', '/files']) {
        const res = await alice.get(`/api/tasks/${id}${suffix}`);
        expect(res.statusCode, `${id}${suffix}`).toBe(422);
        expect(res.json().detail).toContain('id');
      }
      const del = await alice.del(`/api/tasks/${id}`);
      expect(del.statusCode).toBe(422);
    }
  });

  it('every task route without a session is 401', async () => {
    const anon = as(c);
    for (const [method, url] of [
      ['GET', `/api/tasks/${done.id}`],
      ['GET', `/api/tasks/${done.id}/detail`],
      ['GET', `/api/tasks/${done.id}/files`],
      ['PUT', `/api/tasks/${done.id}/status`],
      ['PUT', `/api/tasks/${done.id}/position`],
      ['DELETE', `/api/tasks/${done.id}`],
      ['DELETE', '/api/tasks'],
      ['POST', '/api/tasks/torrent'],
      ['GET', `/api/tasks/artifacts/${done.artifact_token}`],
    ]) {
      const res = await anon.request({ method: method as 'GET', url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toEqual({ detail: 'Not authenticated' });
    }
  });
});

describe('PUT /api/tasks/{id}/status', () => {
  it('pause -> resume -> stop: aria2 follows, stop keeps the row as removed and its partial file', async () => {
    const t = await alice.add(slowFile('/status/slow.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0, 'some progress');

    const paused = await alice.put(`/api/tasks/${t.id}/status`, { status: 'pause' });
    expect(paused.statusCode, paused.body).toBe(200);
    expect(paused.json()).toMatchObject({ id: t.id, status: 'paused', download_speed: 0 });
    await waitFor(async () => (await c.aria2.tellStatus(t.gid!, ['status'])).status === 'paused', 10_000);
    // Still paused after the sync engine had its say.
    await c.sync.reconcileNow();
    expect((await alice.task(t.id)).status).toBe('paused');

    const pausedAgain = await alice.put(`/api/tasks/${t.id}/status`, { status: 'pause' });
    expect(pausedAgain.statusCode).toBe(409);
    expect(pausedAgain.json().detail).toEqual(expect.any(String));

    const resumed = await alice.put(`/api/tasks/${t.id}/status`, { status: 'resume' });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(['active', 'waiting']).toContain(resumed.json().status);
    const progress = (await alice.task(t.id)).completed_length;
    await alice.waitTask(
      t.id,
      (x) => x.status === 'active' && x.completed_length > progress,
      'progress again',
    );

    const resumeActive = await alice.put(`/api/tasks/${t.id}/status`, { status: 'resume' });
    expect(resumeActive.statusCode).toBe(409);

    const stopped = await alice.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toMatchObject({ id: t.id, status: 'removed', download_speed: 0, error: null });
    await waitFor(async () => (await c.aria2.tellStatus(t.gid!, ['status'])).status === 'removed', 10_000);
    await c.sync.reconcileNow();
    const after = await alice.task(t.id);
    expect(after.status).toBe('removed');
    expect(fs.existsSync(incomplete(aliceId, t, 'slow.bin'))).toBe(true);
    const history = (await alice.get('/api/tasks?view=history')).json().items as Task[];
    expect(history.map((x) => x.id)).toContain(t.id);

    for (const status of ['pause', 'resume', 'stop']) {
      const res = await alice.put(`/api/tasks/${t.id}/status`, { status });
      expect(res.statusCode, status).toBe(409);
    }
  });

  it('a waiting task can be paused and stopped; a finished one cannot change', async () => {
    server.addFile('/status/done.bin', patternBytes(0, 100));
    const done = await alice.add(server.url('/status/done.bin'));
    await alice.waitTask(done.id, (x) => x.status === 'complete');
    for (const status of ['pause', 'resume', 'stop']) {
      const res = await alice.put(`/api/tasks/${done.id}/status`, { status });
      expect(res.statusCode, status).toBe(409);
      expect(res.json().detail).toEqual(expect.any(String));
    }
    expect((await alice.task(done.id)).status).toBe('complete');
  });

  it('a bad body is 422', async () => {
    const t = (await alice.get('/api/tasks?limit=1')).json().items[0] as Task;
    for (const payload of [{}, { status: 'bogus' }, { status: 'pause', extra: 1 }]) {
      const res = await alice.put(`/api/tasks/${t.id}/status`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().detail).toMatch(/status|extra|key/i);
    }
  });
});

describe('PUT /api/tasks/{id}/position (waiting tasks only)', () => {
  it('moves a waiting task in aria2 queue; an active or finished task is 409', async () => {
    const put = await admin.put('/api/config', { max_concurrent_downloads: 1 });
    expect(put.statusCode).toBe(200);
    expect(put.json().max_concurrent_downloads).toBe(1);
    const global = await c.aria2.call<Record<string, string>>('aria2.getGlobalOption');
    expect(global['max-concurrent-downloads']).toBe('1');
    const user = as(c, (await c.createUser('queuer')).cookie);
    const made: Task[] = [];
    try {
      for (const n of [1, 2, 3]) made.push(await user.add(slowFile(`/pos/q${n}.bin`)));
      const [first, second, third] = made as [Task, Task, Task];
      await user.waitTask(first.id, (t) => t.status === 'active');
      expect((await user.task(second.id)).status).toBe('waiting');
      expect((await user.task(third.id)).status).toBe('waiting');

      const res = await user.put(`/api/tasks/${third.id}/position`, { position: 0, how: 'POS_SET' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ position: 0 });
      const waiting = await c.aria2.tellWaiting(0, 10, ['gid']);
      expect(waiting.map((w) => w.gid)).toEqual([third.gid, second.gid]);

      const rel = await user.put(`/api/tasks/${third.id}/position`, { position: 1, how: 'POS_CUR' });
      expect(rel.json()).toEqual({ position: 1 });
      const end = await user.put(`/api/tasks/${second.id}/position`, { position: 0, how: 'POS_END' });
      expect(end.json()).toEqual({ position: 1 });
      expect((await c.aria2.tellWaiting(0, 10, ['gid'])).map((w) => w.gid)).toEqual([third.gid, second.gid]);

      const active = await user.put(`/api/tasks/${first.id}/position`, { position: 0, how: 'POS_SET' });
      expect(active.statusCode).toBe(409);
      expect(active.json()).toEqual({ detail: expect.any(String) });

      for (const payload of [
        { position: 0 },
        { position: 'x', how: 'POS_SET' },
        { position: 0, how: 'TOP' },
      ]) {
        const bad = await user.put(`/api/tasks/${second.id}/position`, payload);
        expect(bad.statusCode, JSON.stringify(payload)).toBe(422);
      }
      // Bob cannot move them.
      const foreign = await bob.put(`/api/tasks/${second.id}/position`, { position: 0, how: 'POS_SET' });
      expect(foreign.statusCode).toBe(404);
    } finally {
      for (const t of made) await user.del(`/api/tasks/${t.id}?delete_files=true`);
      await admin.put('/api/config', { max_concurrent_downloads: 5 });
    }
  });
});

describe('DELETE /api/tasks/{id}', () => {
  it('a finished task without files: the row goes, the file stays and still counts as used', async () => {
    const user = as(c, (await c.createUser('deleter1')).cookie);
    const uid = (await user.get('/api/auth/me')).json().id as number;
    server.addFile('/del/keep.bin', patternBytes(0, 40_000));
    const t = await user.waitTask(
      (await user.add(server.url('/del/keep.bin'))).id,
      (x) => x.status === 'complete',
    );
    const res = await user.del(`/api/tasks/${t.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await user.get(`/api/tasks/${t.id}`)).statusCode).toBe(404);
    expect(fs.existsSync(path.join(c.config.downloadDir, String(uid), 'keep.bin'))).toBe(true);
    expect((await user.get('/api/stats')).json().used_space).toBe(40_000);
    expect(await aria2Knows(t.gid!)).toBe(false);
  });

  it('a finished task with files: the file goes and the used space drops', async () => {
    const user = as(c, (await c.createUser('deleter2')).cookie);
    const uid = (await user.get('/api/auth/me')).json().id as number;
    server.addFile('/del/gone.bin', patternBytes(0, 30_000));
    const t = await user.waitTask(
      (await user.add(server.url('/del/gone.bin'))).id,
      (x) => x.status === 'complete',
    );
    expect((await user.get('/api/stats')).json().used_space).toBe(30_000);
    const res = await user.del(`/api/tasks/${t.id}?delete_files=true`);
    expect(res.statusCode).toBe(204);
    expect(fs.existsSync(path.join(c.config.downloadDir, String(uid), 'gone.bin'))).toBe(false);
    expect((await user.get('/api/stats')).json().used_space).toBe(0);
  });

  it('an active task with files: aria2 stops it, and the partial file and its .aria2 control file are gone', async () => {
    const t = await alice.add(slowFile('/del/active.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0);
    await waitFor(() => fs.existsSync(incomplete(aliceId, t, 'active.bin')), 10_000, 'the partial file');
    const res = await alice.del(`/api/tasks/${t.id}?delete_files=true`);
    expect(res.statusCode).toBe(204);
    expect((await alice.get(`/api/tasks/${t.id}`)).statusCode).toBe(404);
    expect(await aria2Knows(t.gid!)).toBe(false);
    expect(fs.existsSync(incomplete(aliceId, t, 'active.bin'))).toBe(false);
    expect(fs.existsSync(incomplete(aliceId, t, 'active.bin.aria2'))).toBe(false);
    expect(fs.existsSync(incomplete(aliceId, t))).toBe(false);
  });

  it('a paused task without files: aria2 forgets it, the partial file and control file stay', async () => {
    const t = await alice.add(slowFile('/del/paused.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0);
    expect((await alice.put(`/api/tasks/${t.id}/status`, { status: 'pause' })).statusCode).toBe(200);
    await waitFor(
      () => fs.existsSync(incomplete(aliceId, t, 'paused.bin.aria2')),
      10_000,
      'the control file',
    );
    const res = await alice.del(`/api/tasks/${t.id}?delete_files=false`);
    expect(res.statusCode).toBe(204);
    expect(await aria2Knows(t.gid!)).toBe(false);
    expect(fs.existsSync(incomplete(aliceId, t, 'paused.bin'))).toBe(true);
    expect(fs.existsSync(incomplete(aliceId, t, 'paused.bin.aria2'))).toBe(true);
  });

  it('a stopped task with files removes what it left', async () => {
    const t = await alice.add(slowFile('/del/stopped.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0);
    expect((await alice.put(`/api/tasks/${t.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    await waitFor(() => fs.existsSync(incomplete(aliceId, t, 'stopped.bin')), 10_000, 'the partial file');
    const res = await alice.del(`/api/tasks/${t.id}?delete_files=true`);
    expect(res.statusCode).toBe(204);
    expect(fs.existsSync(incomplete(aliceId, t, 'stopped.bin'))).toBe(false);
    expect(fs.existsSync(incomplete(aliceId, t, 'stopped.bin.aria2'))).toBe(false);
  });

  it('delete_files must be true or false (422)', async () => {
    const t = (await alice.get('/api/tasks?limit=1')).json().items[0] as Task;
    const res = await alice.del(`/api/tasks/${t.id}?delete_files=yes`);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain('delete_files');
    expect((await alice.get(`/api/tasks/${t.id}`)).statusCode).toBe(200);
  });
});

describe('DELETE /api/tasks (clear history)', () => {
  it('deletes the complete, error and removed tasks, keeps current ones, and answers {deleted: n}', async () => {
    const user = as(c, (await c.createUser('clearer')).cookie);
    const uid = (await user.get('/api/auth/me')).json().id as number;
    server.addFile('/clear/ok.bin', patternBytes(0, 500));
    server.addFile('/clear/ok2.bin', patternBytes(0, 700));
    server.addFile('/clear/bad.bin', Buffer.alloc(0), { status: 404 });
    const ok = await user.add(server.url('/clear/ok.bin'));
    const ok2 = await user.add(server.url('/clear/ok2.bin'));
    const bad = await user.add(server.url('/clear/bad.bin'));
    const stopped = await user.add(slowFile('/clear/stopped.bin'));
    const running = await user.add(slowFile('/clear/running.bin'));
    await user.waitTask(ok.id, (x) => x.status === 'complete');
    await user.waitTask(ok2.id, (x) => x.status === 'complete');
    await user.waitTask(bad.id, (x) => x.status === 'error');
    await user.waitTask(stopped.id, (x) => x.status === 'active');
    expect((await user.put(`/api/tasks/${stopped.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    // Another user's history is not touched.
    server.addFile('/clear/bobs.bin', patternBytes(0, 10));
    const bobs = await bob.add(server.url('/clear/bobs.bin'));
    await bob.waitTask(bobs.id, (x) => x.status === 'complete');

    const res = await user.del('/api/tasks?delete_files=true');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deleted: 4 });
    const left = (await user.get('/api/tasks')).json();
    expect(left.items.map((t: Task) => t.id)).toEqual([running.id]);
    expect(fs.existsSync(path.join(c.config.downloadDir, String(uid), 'ok.bin'))).toBe(false);
    expect(fs.existsSync(incomplete(uid, stopped, 'stopped.bin'))).toBe(false);
    expect((await bob.get(`/api/tasks/${bobs.id}`)).statusCode).toBe(200);

    expect((await user.del('/api/tasks')).json()).toEqual({ deleted: 0 });
    await user.del(`/api/tasks/${running.id}?delete_files=true`);
  });

  it('without files: the finished files stay on disk', async () => {
    const user = as(c, (await c.createUser('clearer2')).cookie);
    const uid = (await user.get('/api/auth/me')).json().id as number;
    server.addFile('/clear2/stay.bin', patternBytes(0, 600));
    const t = await user.add(server.url('/clear2/stay.bin'));
    await user.waitTask(t.id, (x) => x.status === 'complete');
    expect((await user.del('/api/tasks')).json()).toEqual({ deleted: 1 });
    expect(fs.existsSync(path.join(c.config.downloadDir, String(uid), 'stay.bin'))).toBe(true);
    expect((await user.get('/api/stats')).json().used_space).toBe(600);
  });

  it('status=complete clears only the finished downloads; failed and stopped ones stay', async () => {
    const user = as(c, (await c.createUser('clearer3')).cookie);
    server.addFile('/clear3/ok.bin', patternBytes(0, 300));
    server.addFile('/clear3/bad.bin', Buffer.alloc(0), { status: 404 });
    const ok = await user.add(server.url('/clear3/ok.bin'));
    const bad = await user.add(server.url('/clear3/bad.bin'));
    await user.waitTask(ok.id, (x) => x.status === 'complete');
    await user.waitTask(bad.id, (x) => x.status === 'error');
    expect((await user.get('/api/stats')).json().status_counts).toMatchObject({ complete: 1, error: 1 });

    const res = await user.del('/api/tasks?status=complete');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ deleted: 1 });
    const left = (await user.get('/api/tasks')).json();
    expect(left.items.map((t: Task) => t.id)).toEqual([bad.id]);
    expect((await user.get('/api/stats')).json().status_counts).toMatchObject({ complete: 0, error: 1 });
  });

  it('a status outside the history is 422 naming the field, and nothing goes', async () => {
    const user = as(c, (await c.createUser('clearer4')).cookie);
    server.addFile('/clear4/ok.bin', patternBytes(0, 200));
    const ok = await user.add(server.url('/clear4/ok.bin'));
    await user.waitTask(ok.id, (x) => x.status === 'complete');
    for (const status of ['active', 'done']) {
      const res = await user.del(`/api/tasks?status=${status}`);
      expect(res.statusCode).toBe(422);
      expect(res.json().detail).toContain('status');
    }
    expect((await user.get(`/api/tasks/${ok.id}`)).statusCode).toBe(200);
  });
});
