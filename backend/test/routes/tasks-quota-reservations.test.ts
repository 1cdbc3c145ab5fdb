/**
 * The quota holds for downloads added together: a size known at add time (a HEAD's Content-Length,
 * an uploaded torrent's length) is reserved until the download ends, and every check counts the
 * used space plus those reservations: within one batch, across concurrent adds, for torrents and for
 * retries. Real controller, aria2c and a throttled local file server.
 */
import { describe, expect, it } from 'vitest';
import { type TestController, waitFor } from '../helpers/controller.js';
import type { FileServer } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';

const KiB = 1024;
const QUOTA = 1024 * KiB;
const OVER = 'File size 0.00 GB exceeds your available space 0.00 GB';

let c: TestController;
let server: FileServer;
let n = 0;
/** A file of `size` bytes whose download stays active for the length of a test (unless `fast`). */
const file = (size: number, fast = false) => {
  const p = `/reserve/${++n}.bin`;
  server.addFile(p, { size }, fast ? {} : { throttle: 16 * KiB });
  return { path: p, url: server.url(p) };
};
const stats = async (user: ApiClient) => (await user.get('/api/stats')).json();
const user = async (name: string, quota = QUOTA) => as(c, (await c.createUser(name, { quota })).cookie);

useController({}, async (fx) => {
  ({ c, server } = fx);
  // The throttled downloads of every test stay active side by side; none waits in aria2's queue.
  const put = await fx.admin.put('/api/config', { max_concurrent_downloads: 50 });
  expect(put.statusCode, put.body).toBe(200);
});

describe('quota reservations', () => {
  it('one batch: each accepted URI reserves its size before the next is checked', async () => {
    const alice = await user('alice');
    const [a, b, d, small] = [file(600 * KiB), file(600 * KiB), file(600 * KiB), file(100 * KiB)];
    const res = await alice.post('/api/tasks/batch', { uris: [a.url, b.url, d.url, small.url] });
    expect(res.statusCode, res.body).toBe(200);
    // The second and the third no longer fit; the small one after them still does.
    expect(res.json().created.map((t: { uri: string }) => t.uri)).toEqual([a.url, small.url]);
    expect(res.json().failed).toEqual([
      { uri: b.url, detail: OVER },
      { uri: d.url, detail: OVER },
    ]);
    // The rows carry the known sizes, and what is left is the quota minus both, however far they got.
    const created = res.json().created as { total_length: number }[];
    expect(created.map((t) => t.total_length)).toEqual([600 * KiB, 100 * KiB]);
    const s = await stats(alice);
    expect(s.quota).toBe(QUOTA);
    expect(s.available_space).toBe(QUOTA - 700 * KiB);
    // A single add counts the batch's reservations too.
    const single = await alice.post('/api/tasks', { uri: file(400 * KiB).url });
    expect(single.statusCode).toBe(403);
    expect(single.json()).toEqual({ detail: OVER });
  });

  it('two concurrent single adds: only one of two 600 KiB files fits into 1 MiB', async () => {
    const bob = await user('bob');
    const answers = await Promise.all([
      bob.post('/api/tasks', { uri: file(600 * KiB).url }),
      bob.post('/api/tasks', { uri: file(600 * KiB).url }),
    ]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 403]);
    expect(answers.find((r) => r.statusCode === 403)!.json()).toEqual({ detail: OVER });
    expect((await bob.get('/api/tasks?view=current')).json().total).toBe(1);
  });

  it('a torrent upload after a reserved URI: its length must fit what the URI left', async () => {
    const carol = await user('carol');
    await carol.add(file(600 * KiB).url);
    // No web seed: these torrents never download, so their reservations stay whole.
    const big = makeTorrent({ name: 'big.bin', content: Buffer.alloc(600 * KiB, 1) });
    const refused = await carol.post('/api/tasks/torrent', { torrent: big.base64 });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({ detail: OVER });
    const small = makeTorrent({ name: 'small.bin', content: Buffer.alloc(300 * KiB, 2) });
    const accepted = await carol.post('/api/tasks/torrent', { torrent: small.base64 });
    expect(accepted.statusCode, accepted.body).toBe(201);
    expect((await stats(carol)).available_space).toBe(QUOTA - 900 * KiB);
    // And a URI after the torrent counts the torrent's reservation.
    const after = await carol.post('/api/tasks', { uri: file(200 * KiB).url });
    expect(after.statusCode).toBe(403);
    expect(after.json()).toEqual({ detail: OVER });
  });

  it('a download aria2 has not yet sized keeps the reservation of the size its HEAD gave', async () => {
    const frank = await user('frank');
    // HEAD says 600 KiB; aria2's GET is never answered, so aria2 reports a size of 0 all along.
    const unsized = file(600 * KiB);
    server.update(unsized.path, { hang: 'get' });
    const a = await frank.add(unsized.url);
    const b = await frank.add(file(100 * KiB).url);
    await waitFor(
      () => server.requestsFor(unsized.path).some((r) => r.method === 'GET'),
      10_000,
      "aria2's GET",
    );
    // Two progress passes over aria2's active list since: each has seen the unsized download too.
    let seen = (await frank.task(b.id)).completed_length;
    for (let pass = 0; pass < 2; pass++) {
      const last = seen;
      seen = (await frank.waitTask(b.id, (t) => t.completed_length > last, 'a progress pass'))
        .completed_length;
    }
    const task = await frank.task(a.id);
    expect(task.status).toBe('active');
    expect(task.total_length).toBe(600 * KiB);
    expect((await stats(frank)).available_space).toBe(QUOTA - 700 * KiB);
    const more = await frank.post('/api/tasks', { uri: file(400 * KiB).url });
    expect(more.statusCode).toBe(403);
  });

  it('a completed download is used space, no longer a reservation; a deleted one frees its reservation', async () => {
    const dave = await user('dave');
    const done = await dave.add(file(600 * KiB, true).url);
    await dave.waitTask(done.id, (t) => t.status === 'complete', 'the download to finish');
    const s = await stats(dave);
    expect(s.used_space).toBe(600 * KiB);
    // Counted once: as used space, not also as a reservation.
    expect(s.available_space).toBe(QUOTA - 600 * KiB);
    const running = await dave.add(file(400 * KiB).url);
    expect((await stats(dave)).available_space).toBe(QUOTA - 1000 * KiB);
    expect((await dave.post('/api/tasks', { uri: file(100 * KiB).url })).statusCode).toBe(403);

    const del = await dave.del(`/api/tasks/${running.id}?delete_files=true`);
    expect(del.statusCode, del.body).toBe(204);
    expect((await stats(dave)).available_space).toBe(QUOTA - 600 * KiB);
    await dave.add(file(400 * KiB).url);
  });

  it('a failed download keeps only its partial bytes; its retry reserves its size, the partial counted once', async () => {
    const erin = await user('erin', 900 * KiB);
    const src = file(800 * KiB);
    server.update(src.path, { throttle: 256 * KiB });
    const t = await erin.add(src.url);
    expect(t.total_length).toBe(800 * KiB);
    expect((await stats(erin)).available_space).toBe(100 * KiB);
    await erin.waitTask(t.id, (x) => x.completed_length >= 300 * KiB, 'the download to get half-way');
    // The source goes away mid-download: aria2's next try gets 404 and the download fails.
    server.update(src.path, { status: 404, cutAfter: 0 });
    const failed = await erin.waitTask(t.id, (x) => x.status === 'error', 'the download to fail');
    const partial = failed.completed_length;
    expect(partial).toBeGreaterThanOrEqual(300 * KiB);
    const s = await stats(erin);
    // Freed: only the partial file counts.
    expect(s.used_space).toBe(partial);
    expect(s.available_space).toBe(900 * KiB - partial);

    // Another reservation in the way: the retry's size counts.
    const other = await erin.add(file(200 * KiB).url);
    server.update(src.path, { status: undefined, cutAfter: undefined, throttle: 16 * KiB });
    const blocked = await erin.post(`/api/tasks/${t.id}/retry`);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json()).toEqual({ detail: OVER });
    expect((await erin.task(t.id)).status).toBe('error');
    expect((await erin.del(`/api/tasks/${other.id}?delete_files=true`)).statusCode).toBe(204);

    // The partial file is resumed by the retry, so it is not counted besides the retry's 800 KiB.
    const retried = await erin.post(`/api/tasks/${t.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json().total_length).toBe(800 * KiB);
    expect((await stats(erin)).available_space).toBe(100 * KiB);
    const more = await erin.post('/api/tasks', { uri: file(200 * KiB).url });
    expect(more.statusCode).toBe(403);
    expect(more.json()).toEqual({ detail: OVER });
  });
});
