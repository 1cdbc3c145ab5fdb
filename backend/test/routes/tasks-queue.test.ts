import { expect, it } from 'vitest';
import type { TestController } from '../helpers/controller.js';
import type { FileServer } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
useController({}, (fx) => {
  ({ c, server } = fx);
});

it("moves a waiting download among the user's own, whatever other users have queued between them", async () => {
  const admin = as(c, await c.adminCookie());
  expect((await admin.put('/api/config', { max_concurrent_downloads: 1 })).statusCode).toBe(200);
  const alice = as(c, (await c.createUser('alice')).cookie);
  const bob = as(c, (await c.createUser('bob')).cookie);
  for (const name of ['busy', 'a1', 'b1', 'a2'])
    server.addFile(`/${name}.bin`, { size: 5_000_000 }, { throttle: 20_000 });

  const busy = await alice.add(server.url('/busy.bin'));
  await alice.waitTask(busy.id, (t) => t.status === 'active');
  const a1 = await alice.add(server.url('/a1.bin'));
  const b1 = await bob.add(server.url('/b1.bin'));
  const a2 = await alice.add(server.url('/a2.bin'));
  for (const t of [a1, b1, a2]) expect(t.status).toBe('waiting');

  // aria2's queue is a1, b1, a2; alice's own list is a1, a2. Moving a2 to her first place:
  const moved = await alice.put(`/api/tasks/${a2.id}/position`, { position: 0, how: 'POS_SET' });
  expect(moved.statusCode).toBe(200);
  expect(moved.json()).toEqual({ position: 0 });
  const queue = (await c.aria2.tellWaiting(0, 100, ['gid'])).map((s) => s.gid);
  expect(queue).toEqual([a2.gid, a1.gid, b1.gid]);

  // And back to the end of her list.
  const back = await alice.put(`/api/tasks/${a2.id}/position`, { position: 0, how: 'POS_END' });
  expect(back.json()).toEqual({ position: 1 });
  const after = (await c.aria2.tellWaiting(0, 100, ['gid'])).map((s) => s.gid);
  expect(after.indexOf(a2.gid!)).toBeGreaterThan(after.indexOf(a1.gid!));
  // Bob cannot move Alice's download, and Alice cannot move the active one.
  expect((await bob.put(`/api/tasks/${a2.id}/position`, { position: 0, how: 'POS_SET' })).statusCode).toBe(
    404,
  );
  expect(
    (await alice.put(`/api/tasks/${busy.id}/position`, { position: 0, how: 'POS_SET' })).statusCode,
  ).toBe(409);
});

it('answers 409 when aria2 refuses a pause because the download changed meanwhile', async () => {
  const alice = as(c, await c.login('alice', 'user-password-1'));
  server.addFile('/refused.bin', { size: 5_000_000 }, { throttle: 20_000 });
  const t = await alice.add(server.url('/refused.bin'));
  // The download stops in aria2 before the sync engine can tell the row.
  await c.sync.stop();
  await c.aria2.forceRemove(t.gid!);
  const r = await alice.put(`/api/tasks/${t.id}/status`, { status: 'pause' });
  expect(r.statusCode).toBe(409);
  expect(r.json().detail).toMatch(/^aria2 refused: /);
  c.sync.start();
});
