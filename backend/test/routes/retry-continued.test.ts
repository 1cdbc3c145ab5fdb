import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Task } from '../../src/contracts/tasks.js';
import { Admission } from '../../src/services/admission.js';
import { type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';
import { waitUntilSteady } from '../helpers/wait.js';

const TORRENT_SENTENCE = 'Torrent tasks cannot be retried. Please re-upload the torrent file.';
const DUPLICATE = 'This download is already in your list';

let c: TestController;
let server: FileServer;
let port: number;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;

useController({ users: ['alice', 'bob'] }, async (fx) => {
  ({ c, server } = fx);
  await c.app.listen({ port: 0, host: '127.0.0.1' });
  port = (c.app.server.address() as AddressInfo).port;
  aliceId = fx.users.alice!.id;
  alice = fx.api('alice');
  bob = fx.api('bob');
});

/** A task that failed because the server answered `status` (404 by default: a lasting failure). */
async function failed(client: ApiClient, filePath: string, content: Buffer, status = 404): Promise<Task> {
  server.addFile(filePath, content, { status });
  const t = await client.add(server.url(filePath));
  return client.waitTask(t.id, (x) => x.status === 'error', `${filePath} to fail`);
}

const idsOf = async (client: ApiClient) =>
  ((await client.get('/api/tasks?view=all&limit=1000')).json() as { items: Task[] }).items.map((t) => t.id);

describe('retry with a new link', () => {
  it('replaces a task whose link expired by a download of the new link, which completes', async () => {
    const data = patternBytes(0, 120_000);
    const old = await failed(alice, '/exp/old.bin', data, 410);
    server.addFile('/exp/new.bin', data);
    const r = await alice.post(`/api/tasks/${old.id}/retry`, { uri: server.url('/exp/new.bin') });
    expect(r.statusCode).toBe(200);
    const fresh = r.json() as Task;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.uri).toBe(server.url('/exp/new.bin'));
    expect(fresh.attempt).toBe(1);
    expect(await idsOf(alice)).not.toContain(old.id);
    const done = await alice.waitTask(fresh.id, (t) => t.status === 'complete', 'the new link to finish');
    const file = path.join(c.config.downloadDir, String(aliceId), done.artifact_path!);
    expect(fs.readFileSync(file).equals(data)).toBe(true);
    expect(server.requestsFor('/exp/new.bin').some((q) => q.method === 'GET')).toBe(true);
  });

  it('uses the credentials of the new link and shows them masked', async () => {
    const old = await failed(alice, '/exp/auth-old.bin', patternBytes(0, 5000), 410);
    server.addFile('/exp/auth.bin', patternBytes(0, 5000), { auth: 'user:s3cret' });
    const r = await alice.post(`/api/tasks/${old.id}/retry`, {
      uri: server.url('/exp/auth.bin', 'user:s3cret'),
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).not.toContain('s3cret');
    expect((r.json() as Task).uri).toBe(`http://***:***@127.0.0.1:${server.port}/exp/auth.bin`);
    await alice.waitTask(
      (r.json() as Task).id,
      (t) => t.status === 'complete',
      'the download with credentials',
    );
  });

  it('checks the new link like an add: a bad scheme or text is 422, a refused host 422, too big 403; the old task stays', async () => {
    const old = await failed(alice, '/exp/checked.bin', patternBytes(0, 1000), 410);
    for (const uri of ['file:///etc/passwd', 'http://a\u0007b/', '', 'javascript:alert(1)']) {
      const r = await alice.post(`/api/tasks/${old.id}/retry`, { uri });
      expect(r.statusCode, uri).toBe(422);
      expect(r.json().detail).toMatch(/uri/);
    }
    server.addFile('/exp/huge.iso', { size: 20 * 1024 ** 3 });
    const big = await alice.post(`/api/tasks/${old.id}/retry`, { uri: server.url('/exp/huge.iso') });
    expect(big.statusCode).toBe(403);
    expect(big.json().detail).toBe('File size 20.00 GB exceeds limit 10.00 GB');
    const admin = as(c, await c.adminCookie());
    expect((await admin.put('/api/config', { allow_private_network: false })).statusCode).toBe(200);
    try {
      const refused = await alice.post(`/api/tasks/${old.id}/retry`, { uri: server.url('/exp/new.bin') });
      expect(refused.statusCode).toBe(422);
    } finally {
      await admin.put('/api/config', { allow_private_network: true });
    }
    expect(await alice.task(old.id)).toEqual(old);
    expect((await alice.post(`/api/tasks/${old.id}/retry`, { uri: 'x', extra: 1 })).statusCode).toBe(422);
  });
});

describe('torrents: the stored file and the re-upload', () => {
  it('serves the stored .torrent, keeps the 400 on retry, and re-uploads it into a download that completes', async () => {
    const data = patternBytes(0, 60_000);
    const t = makeTorrent({ name: 'reup.bin', content: data, webSeedUrl: server.url('/reup/reup.bin') });
    server.addFile('/reup/reup.bin', data, { status: 404 });
    const created = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as Task).id;
    await alice.put(`/api/tasks/${id}/status`, { status: 'stop' });

    const file = await alice.get(`/api/tasks/${id}/torrent`);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('application/x-bittorrent');
    expect(file.headers['content-disposition']).toContain('reup.bin.torrent');
    expect(file.rawPayload.equals(t.torrent)).toBe(true);
    expect((await bob.get(`/api/tasks/${id}/torrent`)).statusCode).toBe(404);

    const retry = await alice.post(`/api/tasks/${id}/retry`);
    expect(retry.statusCode).toBe(400);
    expect(retry.json()).toEqual({ detail: TORRENT_SENTENCE });
    expect((await bob.post(`/api/tasks/${id}/reupload`)).statusCode).toBe(404);

    server.update('/reup/reup.bin', { status: undefined });
    const r = await alice.post(`/api/tasks/${id}/reupload`);
    expect(r.statusCode).toBe(200);
    const fresh = r.json() as Task;
    expect(fresh.id).not.toBe(id);
    expect(fresh.uri).toBe('[torrent]');
    expect(fresh.status).not.toBe('queued');
    expect(await idsOf(alice)).not.toContain(id);
    // A second re-upload of the old task finds it gone.
    expect((await alice.post(`/api/tasks/${id}/reupload`)).statusCode).toBe(404);
    const done = await alice.waitTask(fresh.id, (x) => x.status === 'complete', 'the re-uploaded torrent');
    const out = path.join(c.config.downloadDir, String(aliceId), done.artifact_path!);
    expect(fs.readFileSync(out).equals(data)).toBe(true);
  });

  it('of concurrent re-uploads exactly one succeeds; a URI task cannot be re-uploaded and has no .torrent', async () => {
    const t = makeTorrent({
      name: 'race.bin',
      content: patternBytes(0, 9000),
      webSeedUrl: server.url('/reup/race.bin'),
    });
    server.addFile('/reup/race.bin', patternBytes(0, 9000), { status: 404 });
    const id = ((await alice.post('/api/tasks/torrent', { torrent: t.base64 })).json() as Task).id;
    await alice.put(`/api/tasks/${id}/status`, { status: 'stop' });
    const before = new Set(await idsOf(alice));
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => alice.post(`/api/tasks/${id}/reupload`)),
    );
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
    for (const a of answers) expect([200, 404, 409]).toContain(a.statusCode);
    const after = await idsOf(alice);
    expect(after.filter((x) => !before.has(x))).toHaveLength(1);

    const plain = await failed(alice, '/reup/plain.bin', patternBytes(0, 100));
    const r = await alice.post(`/api/tasks/${plain.id}/reupload`);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ detail: 'Only a torrent task can be re-uploaded' });
    expect((await alice.get(`/api/tasks/${plain.id}/torrent`)).statusCode).toBe(404);
  });
});

describe('retry by filter', () => {
  it('retries every matching retryable task beyond 1000, in aria2 requests of bounded size, and reports failures', async () => {
    const user = await c.createUser('carol');
    const carol = as(c, user.cookie);
    server.addFile('/filter/small.bin', patternBytes(0, 100));
    // 1,050 failed rows written directly (as a long history would be), plus one that fails its check.
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const rows = Array.from({ length: 1050 }, (_, i) => ({
      owner_id: user.id,
      gid: null,
      uri: server.url('/filter/small.bin'),
      display_uri: server.url('/filter/small.bin'),
      status: 'error',
      name: 'small.bin',
      error: 'old failure',
      created_at: now,
      updated_at: now,
      dir: path.join(c.config.downloadDir, String(user.id), '.incomplete', `f${i}`),
      held_for: null,
    }));
    await c.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 200)
        await trx
          .insertInto('tasks')
          .values(rows.slice(i, i + 200))
          .execute();
    });
    server.addFile('/filter/huge.iso', { size: 20 * 1024 ** 3 });
    const hugeRow = await c.db
      .insertInto('tasks')
      .values({
        ...rows[0]!,
        uri: server.url('/filter/huge.iso'),
        display_uri: server.url('/filter/huge.iso'),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // A row that does not match the filter stays.
    const other = await c.db
      .insertInto('tasks')
      .values({ ...rows[0]!, status: 'removed', name: 'other.bin' })
      .returning('id')
      .executeTakeFirstOrThrow();

    const sizes: number[] = [];
    const original = c.aria2.multicall.bind(c.aria2);
    c.aria2.multicall = ((calls: Parameters<typeof original>[0]) => {
      sizes.push(calls.length);
      return original(calls);
    }) as typeof c.aria2.multicall;
    // Admission passes: none while the chunks are handed over (each would read every waiting
    // download of aria2), one once they all are.
    const admission = Admission.prototype as unknown as Record<'pass', (...args: unknown[]) => unknown>;
    const pass = admission.pass;
    let passes = 0;
    const spy = vi.spyOn(admission, 'pass').mockImplementation(function (this: unknown, ...args: unknown[]) {
      passes++;
      return pass.apply(this, args);
    });
    let r: Awaited<ReturnType<ApiClient['post']>>;
    let passesDuring: number;
    try {
      // The tests before may still have a pass coming (a download of theirs ending): counted from a
      // quiet moment on, a pass seen is the retry's own.
      await waitUntilSteady(() => passes, 300, 20_000, 'no admission pass for a while');
      passes = 0;
      r = await carol.post('/api/tasks/retry', { filter: { status: 'error' } });
      passesDuring = passes;
      await waitFor(() => passes > 0, 20_000, 'the admission pass after the retry by filter');
    } finally {
      c.aria2.multicall = original;
      spy.mockRestore();
    }
    expect(passesDuring).toBe(0);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      retried: 1050,
      failed: [{ id: hugeRow.id, status: 403, detail: 'File size 20.00 GB exceeds limit 10.00 GB' }],
    });
    // Chunked: no aria2 request carries more than 500 downloads (an add and a status call each).
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1000);
    const list = (await carol.get('/api/tasks?view=all&limit=1000')).json() as { total: number };
    expect(list.total).toBe(1052);
    expect((await carol.task(other.id)).status).toBe('removed');
    const left = await c.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner_id', '=', user.id)
      .where('status', '=', 'error')
      .executeTakeFirstOrThrow();
    expect(Number(left.n)).toBeLessThanOrEqual(1 + 1050); // the huge one stays failed, none doubled
    await carol.request({ method: 'DELETE', url: '/api/tasks?delete_files=true' });
    for (const t of ((await carol.get('/api/tasks?view=current&limit=1000')).json() as { items: Task[] })
      .items)
      await carol.del(`/api/tasks/${t.id}?delete_files=true`);
  }, 300_000);

  it('matches q and view, includes stopped tasks, and answers 422 for both ids and filter or a bad filter', async () => {
    const a = await failed(bob, '/filter/q-one.bin', patternBytes(0, 100));
    const b = await failed(bob, '/filter/q-two.bin', patternBytes(0, 100));
    server.update('/filter/q-one.bin', { status: undefined });
    const r = await bob.post('/api/tasks/retry', { filter: { view: 'history', q: 'q-one' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ retried: 1, failed: [] });
    expect(await idsOf(bob)).toContain(b.id);
    expect(await idsOf(bob)).not.toContain(a.id);
    expect((await bob.post('/api/tasks/retry', { filter: {}, ids: [1] })).statusCode).toBe(422);
    expect((await bob.post('/api/tasks/retry', { filter: { status: 'nope' } })).statusCode).toBe(422);
    expect((await bob.post('/api/tasks/retry', { filter: { sort: 'name' } })).statusCode).toBe(422);
  });
});

describe('task_removed names the replacement', () => {
  it('the owner socket hears task_removed with replaced_by, then task_update of the new task', async () => {
    const old = await failed(alice, '/live/old.bin', patternBytes(0, 500));
    const messages: { type: string; id?: number; replaced_by?: number; task?: Task }[] = [];
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, { headers: { cookie: alice.cookie! } });
    socket.on('message', (d) => messages.push(JSON.parse(d.toString())));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    try {
      server.update('/live/old.bin', { status: undefined });
      const fresh = (await alice.post(`/api/tasks/${old.id}/retry`)).json() as Task;
      const removed = await waitFor(
        () => messages.find((m) => m.type === 'task_removed' && m.id === old.id),
        5000,
        'task_removed',
      );
      expect(removed).toEqual({ type: 'task_removed', id: old.id, replaced_by: fresh.id });
      await waitFor(() => messages.some((m) => m.type === 'task_update' && m.task?.id === fresh.id), 5000);
      // A plain delete names no replacement.
      const done = await alice.waitTask(fresh.id, (t) => t.status === 'complete');
      await alice.del(`/api/tasks/${done.id}`);
      const gone = await waitFor(
        () => messages.find((m) => m.type === 'task_removed' && m.id === done.id),
        5000,
      );
      expect(gone).toEqual({ type: 'task_removed', id: done.id });
    } finally {
      socket.close();
    }
  });
});

describe('duplicate adds', () => {
  it('refuses a URI a current task downloads with 409 and its id, unless allow_duplicate; a finished one is no duplicate', async () => {
    server.addFile('/dup/slow.bin', { size: 4_000_000 }, { throttle: 40_000 });
    const first = await alice.add(server.url('/dup/slow.bin'));
    const again = await alice.post('/api/tasks', { uri: server.url('/dup/slow.bin') });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: DUPLICATE, task_id: first.id });
    // Another user's download is not in the caller's list.
    const bobs = await bob.post('/api/tasks', { uri: server.url('/dup/slow.bin') });
    expect(bobs.statusCode).toBe(201);
    const allowed = await alice.post('/api/tasks', {
      uri: server.url('/dup/slow.bin'),
      allow_duplicate: true,
    });
    expect(allowed.statusCode).toBe(201);

    const batch = await alice.post('/api/tasks/batch', {
      uris: [server.url('/dup/slow.bin'), server.url('/dup/b.bin'), server.url('/dup/b.bin')],
    });
    server.addFile('/dup/b.bin', patternBytes(0, 10));
    expect(batch.statusCode).toBe(200);
    const body = batch.json() as { created: Task[]; failed: { uri: string; detail: string }[] };
    expect(body.created).toHaveLength(1);
    expect(body.failed).toEqual([
      { uri: server.url('/dup/slow.bin'), detail: DUPLICATE },
      { uri: server.url('/dup/b.bin'), detail: DUPLICATE },
    ]);

    await alice.del(`/api/tasks/${first.id}?delete_files=true`);
    await alice.del(`/api/tasks/${(allowed.json() as Task).id}?delete_files=true`);
    await bob.del(`/api/tasks/${(bobs.json() as Task).id}?delete_files=true`);
    expect((await alice.post('/api/tasks', { uri: server.url('/dup/slow.bin') })).statusCode).toBe(201);
  });

  it('refuses a magnet or a torrent whose info hash a current task downloads', async () => {
    const hash = 'c'.repeat(40);
    const first = await alice.add(`magnet:?xt=urn:btih:${hash}&dn=one`);
    const again = await alice.post('/api/tasks', { uri: `magnet:?xt=urn:btih:${hash.toUpperCase()}&dn=two` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: DUPLICATE, task_id: first.id });

    const content = patternBytes(0, 500_000);
    server.addFile('/dup/seed.bin', content, { throttle: 5_000 });
    const t = makeTorrent({ name: 'dup.bin', content, webSeedUrl: server.url('/dup/seed.bin') });
    const up = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(up.statusCode).toBe(201);
    const twice = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toEqual({ detail: DUPLICATE, task_id: (up.json() as Task).id });
    const allowed = await alice.post('/api/tasks/torrent', { torrent: t.base64, allow_duplicate: true });
    expect(allowed.statusCode).toBe(201);
    for (const id of [first.id, (up.json() as Task).id, (allowed.json() as Task).id])
      await alice.del(`/api/tasks/${id}?delete_files=true`);
  });
});
