/**
 * max_current_tasks_per_user: no user holds more queued, active, waiting and paused tasks than the
 * admin allows; an add past it is 403, a batch's URIs past it land in `failed`, and the limit holds
 * when adds race. Real controller, aria2c and a throttled local file server.
 */
import { describe, expect, it } from 'vitest';
import type { TestController } from '../helpers/controller.js';
import type { FileServer } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';

const LIMIT = 3;
const SENTENCE = `You have too many downloads in progress (limit ${LIMIT})`;

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let n = 0;
/** A download that stays active for the length of the test. */
const slow = () => {
  const p = `/slow/${++n}.bin`;
  server.addFile(p, { size: 8 * 1024 * 1024 }, { throttle: 16 * 1024 });
  return server.url(p);
};
const currentCount = async (user: ApiClient) =>
  (await user.get('/api/tasks?view=current')).json().total as number;

useController({}, async (fx) => {
  ({ c, server } = fx);
  admin = as(c, await c.adminCookie());
});

describe('max_current_tasks_per_user', () => {
  it('defaults to 1000 and is an admin setting of /api/config', async () => {
    expect((await admin.get('/api/config')).json().max_current_tasks_per_user).toBe(1000);
    const res = await admin.put('/api/config', { max_current_tasks_per_user: LIMIT });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().max_current_tasks_per_user).toBe(LIMIT);
    const bad = await admin.put('/api/config', { max_current_tasks_per_user: 0 });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toMatch(/max_current_tasks_per_user/);
    expect((await admin.get('/api/config')).json().max_current_tasks_per_user).toBe(LIMIT);
  });

  it('a single add, a torrent and a batch past the limit are refused with the sentence; others are unaffected', async () => {
    const alice = as(c, (await c.createUser('alice')).cookie);
    await alice.add(slow());
    await alice.add(slow());

    // A batch of three with one place left: the first goes in, the other two fail with the sentence.
    const batchUris = [slow(), slow(), slow()];
    const batch = await alice.post('/api/tasks/batch', { uris: batchUris });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json().created.map((t: { uri: string }) => t.uri)).toEqual([batchUris[0]]);
    expect(batch.json().failed).toEqual([
      { uri: batchUris[1], detail: SENTENCE },
      { uri: batchUris[2], detail: SENTENCE },
    ]);
    expect(await currentCount(alice)).toBe(LIMIT);

    const single = await alice.post('/api/tasks', { uri: slow() });
    expect(single.statusCode).toBe(403);
    expect(single.json()).toEqual({ detail: SENTENCE });
    const t = makeTorrent({ name: 'limit.bin', content: Buffer.alloc(1024, 1) });
    const torrent = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(torrent.statusCode).toBe(403);
    expect(torrent.json()).toEqual({ detail: SENTENCE });
    expect(await currentCount(alice)).toBe(LIMIT);

    // The limit is per user.
    const bob = as(c, (await c.createUser('bob')).cookie);
    await bob.add(slow());

    // A paused task still counts; a stopped one (history) does not.
    const tasks = (await alice.get('/api/tasks?view=current')).json().items as {
      id: number;
      status: string;
    }[];
    const first = await alice.waitTask(tasks[0]!.id, (x) => x.status === 'active' || x.status === 'waiting');
    expect((await alice.put(`/api/tasks/${first.id}/status`, { status: 'pause' })).statusCode).toBe(200);
    expect((await alice.post('/api/tasks', { uri: slow() })).statusCode).toBe(403);
    const stopped = await alice.put(`/api/tasks/${tasks[1]!.id}/status`, { status: 'stop' });
    expect(stopped.statusCode, stopped.body).toBe(200);
    await alice.add(slow());
    expect(await currentCount(alice)).toBe(LIMIT);
  });

  it('holds when adds race: of five at once with two places left, exactly two are created', async () => {
    const carol = as(c, (await c.createUser('carol')).cookie);
    await carol.add(slow());
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => carol.post('/api/tasks', { uri: slow() })),
    );
    const codes = answers.map((a) => a.statusCode).sort();
    expect(codes).toEqual([201, 201, 403, 403, 403]);
    expect(await currentCount(carol)).toBe(LIMIT);
  });
});
