/**
 * Fair sharing of aria2's download slots: no user has more than `max_active_per_user` downloads
 * running, free slots go round-robin to the users who wait, and a waiting task says why. Real aria2c,
 * a real SQLite file and slow (throttled) downloads from the local file server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let run = 0;
/** The users of the running test: their downloads are stopped after it, so slots are free for the next. */
let users: ApiClient[] = [];

useController({}, (fx) => {
  ({ c, server, admin } = fx);
});
afterEach(async () => {
  for (const u of users) await stopAll(u);
  users = [];
});

/** A download that stays active for minutes. */
function slow(name: string): string {
  const p = `/fair${run}/${name}.bin`;
  server.addFile(p, { size: 20_000_000 }, { throttle: 20_000 });
  return server.url(p);
}

async function config(patch: Record<string, number>): Promise<void> {
  const res = await admin.put('/api/config', patch);
  expect(res.statusCode, res.body).toBe(200);
}

/** A fresh pair of users and fresh settings for each test. */
async function setUp(
  settings: Record<string, number>,
): Promise<{ ann: ApiClient; ben: ApiClient; annId: number }> {
  run++;
  await config(settings);
  const a = await c.createUser(`ann${run}`);
  const ann = as(c, a.cookie);
  const ben = as(c, (await c.createUser(`ben${run}`)).cookie);
  users = [ann, ben];
  return { ann, ben, annId: a.id };
}

/** Ends every current download of the user (so the next test starts with free slots). */
async function stopAll(user: ApiClient): Promise<void> {
  const res = await user.get('/api/tasks?view=current&limit=1000');
  if (res.statusCode !== 200) return; // deleted, or signed in again elsewhere
  const items = res.json().items as Task[];
  for (const t of items) await user.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
}

async function current(user: ApiClient): Promise<Task[]> {
  return (await user.get('/api/tasks?view=current&sort=created_at&order=asc&limit=1000')).json().items;
}

/** Waits until the user's tasks, in the order added, show these statuses and reasons. */
async function expectStates(user: ApiClient, want: [Task['status'], Task['waiting_reason']][], what: string) {
  let last: unknown = null;
  try {
    await waitFor(
      async () => {
        const got = (await current(user)).map((t) => [t.status, t.waiting_reason]);
        last = got;
        return JSON.stringify(got) === JSON.stringify(want);
      },
      20_000,
      what,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

const ACTIVE: [Task['status'], null] = ['active', null];
const LIMITED: [Task['status'], 'user_limit'] = ['waiting', 'user_limit'];
const NO_SLOT: [Task['status'], 'slots'] = ['waiting', 'slots'];

describe('fair admission', () => {
  it("one user's slow downloads do not keep another user's small download waiting", async () => {
    const { ann, ben } = await setUp({ max_concurrent_downloads: 5, max_active_per_user: 3 });
    for (let i = 0; i < 5; i++) await ann.add(slow(`a${i}`));
    await expectStates(ann, [ACTIVE, ACTIVE, ACTIVE, LIMITED, LIMITED], "ann's first three running");

    const p = `/fair${run}/small.bin`;
    server.addFile(p, patternBytes(0, 50_000));
    const small = await ben.add(server.url(p));
    await ben.waitTask(small.id, (t) => t.status === 'complete', "ben's download to finish");
    // All the while ann's downloads were running, and two of hers still wait for her limit.
    await expectStates(ann, [ACTIVE, ACTIVE, ACTIVE, LIMITED, LIMITED], "ann's downloads unchanged");
    // aria2 itself holds the waiting ones paused: it cannot start them behind the controller's back.
    const held = (await current(ann)).filter((t) => t.status === 'waiting');
    for (const t of held) expect((await c.aria2.tellStatus(t.gid!, ['status'])).status).toBe('paused');
  });

  it('a freed slot goes to the user who waits with nothing running, before the busy user gets another', async () => {
    const { ann, ben } = await setUp({ max_concurrent_downloads: 2, max_active_per_user: 0 });
    const mine: Task[] = [];
    for (let i = 0; i < 4; i++) mine.push(await ann.add(slow(`a${i}`)));
    await expectStates(ann, [ACTIVE, ACTIVE, NO_SLOT, NO_SLOT], "ann's two in the two slots");
    const his = await ben.add(slow('b0'));
    expect(his).toMatchObject({ status: 'waiting', waiting_reason: 'slots' });

    // One of ann's stops: ben's starts, although ann's third stands before it in aria2's queue.
    expect((await ann.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    await ben.waitTask(his.id, (t) => t.status === 'active', "ben's download to start");
    await expectStates(ann, [ACTIVE, NO_SLOT, NO_SLOT], "ann's others still waiting");
  });

  it("a slot freed behind the tasks' backs (the user deleted) goes to the next user who waits", async () => {
    const { ann, ben, annId } = await setUp({ max_concurrent_downloads: 2, max_active_per_user: 0 });
    await ann.add(slow('a0'));
    await ann.add(slow('a1'));
    await expectStates(ann, [ACTIVE, ACTIVE], "ann's two in the two slots");
    const his = await ben.add(slow('b0'));
    expect(his.waiting_reason).toBe('slots');
    expect((await admin.del(`/api/users/${annId}`)).statusCode).toBe(204);
    await ben.waitTask(his.id, (t) => t.status === 'active', "ben's download to start");
  });

  it('max_active_per_user leaves a user that many running; raising it at run time lets more in', async () => {
    const { ann } = await setUp({ max_concurrent_downloads: 5, max_active_per_user: 2 });
    for (let i = 0; i < 5; i++) await ann.add(slow(`a${i}`));
    await expectStates(ann, [ACTIVE, ACTIVE, LIMITED, LIMITED, LIMITED], 'two running, three at her limit');

    await config({ max_active_per_user: 4 });
    await expectStates(ann, [ACTIVE, ACTIVE, ACTIVE, ACTIVE, LIMITED], 'four running after the change');
    // No per-user limit: the slots are what is left, and the last one waits for a slot.
    await config({ max_active_per_user: 0, max_concurrent_downloads: 4 });
    await expectStates(ann, [ACTIVE, ACTIVE, ACTIVE, ACTIVE, NO_SLOT], 'every slot in use');
    await config({ max_concurrent_downloads: 5 });
    await expectStates(ann, [ACTIVE, ACTIVE, ACTIVE, ACTIVE, ACTIVE], 'a fifth slot, a fifth running');
  });

  it('with every slot in use, a user under their limit waits for a slot; retries wait their turn', async () => {
    const { ann, ben } = await setUp({ max_concurrent_downloads: 2, max_active_per_user: 3 });
    await ann.add(slow('a0'));
    await ann.add(slow('a1'));
    await expectStates(ann, [ACTIVE, ACTIVE], "ann's two running");
    const his = await ben.add(slow('b0'));
    expect(his).toMatchObject({ status: 'waiting', waiting_reason: 'slots' });
    // A stopped download retried while every slot is taken waits too, held like a new one.
    expect((await ben.put(`/api/tasks/${his.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    const retried = await ben.post(`/api/tasks/${his.id}/retry`);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ status: 'waiting', waiting_reason: 'slots' });
    const socketView = (await ben.task(retried.json().id)) as Task;
    expect(socketView.waiting_reason).toBe('slots');
    await stopAll(ann);
    await ben.waitTask(retried.json().id, (t) => t.status === 'active', 'the retried download to start');
  });

  it('pause and resume keep the limit: a resumed download waits its turn again', async () => {
    const { ann } = await setUp({ max_concurrent_downloads: 5, max_active_per_user: 2 });
    const mine: Task[] = [];
    for (let i = 0; i < 3; i++) mine.push(await ann.add(slow(`a${i}`)));
    await expectStates(ann, [ACTIVE, ACTIVE, LIMITED], 'two running, one at her limit');

    // Pausing a running one frees her room: the waiting one starts.
    const paused = await ann.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'pause' });
    expect(paused.json()).toMatchObject({ status: 'paused', waiting_reason: null });
    await expectStates(ann, [['paused', null], ACTIVE, ACTIVE], 'the third let in');

    // Resuming it does not pass her limit: it waits, held, for her limit.
    const resumed = await ann.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'resume' });
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({ status: 'waiting', waiting_reason: 'user_limit' });
    await expectStates(ann, [LIMITED, ACTIVE, ACTIVE], 'the resumed one waiting');
    expect((await c.aria2.tellStatus(mine[0]!.gid!, ['status'])).status).toBe('paused');

    // A held download can be paused by its owner (it stays paused, no longer waiting) and resumed.
    const pausedHeld = await ann.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'pause' });
    expect(pausedHeld.json()).toMatchObject({ status: 'paused', waiting_reason: null });
    await c.sync.reconcileNow();
    expect((await ann.task(mine[0]!.id)).status).toBe('paused');
    // Her room frees up: the paused one is not let in behind her back.
    expect((await ann.put(`/api/tasks/${mine[1]!.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    await c.admission.admit();
    await expectStates(ann, [['paused', null], ACTIVE], 'the paused one still paused');
    const again = await ann.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'resume' });
    expect(again.statusCode).toBe(200);
    await expectStates(ann, [ACTIVE, ACTIVE], 'the resumed one running in the freed room');
  });
});

describe('fair admission across a restart', () => {
  it('a controller restart keeps the limits, the held downloads held and the paused one paused', async () => {
    const { ann } = await setUp({ max_concurrent_downloads: 5, max_active_per_user: 2 });
    const mine: Task[] = [];
    for (let i = 0; i < 4; i++) mine.push(await ann.add(slow(`r${i}`)));
    await expectStates(ann, [ACTIVE, ACTIVE, LIMITED, LIMITED], 'two running, two at her limit');
    expect((await ann.put(`/api/tasks/${mine[3]!.id}/status`, { status: 'pause' })).statusCode).toBe(200);
    await expectStates(ann, [ACTIVE, ACTIVE, LIMITED, ['paused', null]], 'the last one paused');
    const username = `ann${run}`;

    const dataDir = c.dataDir;
    await c.close();
    c = await startTestController({}, { dataDir });
    admin = as(c, await c.adminCookie());
    const again = as(c, await c.login(username, 'user-password-1'));
    users = [again];
    await expectStates(again, [ACTIVE, ACTIVE, LIMITED, ['paused', null]], 'the same after the restart');
    for (const t of [mine[2]!, mine[3]!]) {
      expect((await c.aria2.tellStatus(t.gid!, ['status'])).status).toBe('paused');
    }
    // And the admission goes on: one running one stops, the held one starts, the paused one stays.
    expect((await again.put(`/api/tasks/${mine[0]!.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    await expectStates(again, [ACTIVE, ACTIVE, ['paused', null]], 'the held one let in');
  });
});
