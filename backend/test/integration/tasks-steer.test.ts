import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
beforeAll(async () => {
  c = await startTestController();
  server = await startFileServer();
  const admin = as(c, await c.adminCookie());
  expect((await admin.put('/api/config', { max_concurrent_downloads: 1 })).statusCode).toBe(200);
});
afterAll(async () => {
  await server?.close();
  await c?.destroy();
});

it("lists the queue in aria2's real order, with each waiting task's place among the user's own", async () => {
  const alice = as(c, (await c.createUser('qalice')).cookie);
  const bob = as(c, (await c.createUser('qbob')).cookie);
  for (const name of ['q-busy', 'x1', 'y1', 'x2', 'x3'])
    server.addFile(`/${name}.bin`, { size: 5_000_000 }, { throttle: 20_000 });
  const busy = await alice.add(server.url('/q-busy.bin'));
  await alice.waitTask(busy.id, (t) => t.status === 'active');
  const x1 = await alice.add(server.url('/x1.bin'));
  await bob.add(server.url('/y1.bin'));
  const x2 = await alice.add(server.url('/x2.bin'));
  const x3 = await alice.add(server.url('/x3.bin'));

  const queue = async () =>
    ((await alice.get('/api/tasks?view=current')).json().items as Task[]).map((t) => [t.id, t.position]);
  await waitFor(
    async () =>
      JSON.stringify(await queue()) ===
      JSON.stringify([
        [busy.id, null],
        [x1.id, 0],
        [x2.id, 1],
        [x3.id, 2],
      ]),
    15_000,
    'the queue in the order added',
  );

  // x3 to the top: aria2 starts it next, and the list (a reload) says so at once.
  expect((await alice.put(`/api/tasks/${x3.id}/position`, { position: 0, how: 'POS_SET' })).json()).toEqual({
    position: 0,
  });
  expect(await queue()).toEqual([
    [busy.id, null],
    [x3.id, 0],
    [x1.id, 1],
    [x2.id, 2],
  ]);
  expect((await alice.get(`/api/tasks/${x3.id}`)).json().position).toBe(0);
  // The order asked for still wins.
  const byDate = (await alice.get('/api/tasks?view=current&sort=created_at&order=asc')).json()
    .items as Task[];
  expect(byDate.map((t) => t.id)).toEqual([busy.id, x1.id, x2.id, x3.id]);
  const reversed = (await alice.get('/api/tasks?view=current&sort=position&order=desc')).json()
    .items as Task[];
  expect(reversed.map((t) => t.id)).toEqual([x2.id, x1.id, x3.id, busy.id]);

  // Once x3 runs it has no place in the queue, and the others move up.
  await alice.put(`/api/tasks/${busy.id}/status`, { status: 'stop' });
  await alice.waitTask(x3.id, (t) => t.status === 'active' && t.position === null, 'x3 running');
  await waitFor(
    async () =>
      JSON.stringify(await queue()) ===
      JSON.stringify([
        [x3.id, null],
        [x1.id, 0],
        [x2.id, 1],
      ]),
    15_000,
    'x1 and x2 moved up',
  );
  for (const t of [x1, x2, x3]) await alice.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  for (const t of (await bob.get('/api/tasks?view=current')).json().items as Task[])
    await bob.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
});
