import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { as } from '../helpers/tasks-api.js';
import { makeMultiFileTorrent, makeTorrent } from '../helpers/torrent.js';

let c: TestController;
let server: FileServer;
useController({}, async (fx) => {
  ({ c, server } = fx);
  expect((await fx.admin.put('/api/config', { max_concurrent_downloads: 1 })).statusCode).toBe(200);
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

it("changes a running download's limits at once, stores them, and refuses what is not an option", async () => {
  const alice = as(c, await c.login('qalice', 'user-password-1'));
  server.addFile('/limits.bin', { size: 20_000_000 }, { throttle: 200_000 });
  const t = await alice.add(server.url('/limits.bin'));
  await alice.waitTask(t.id, (x) => x.status === 'active', 'the download to run');

  const r = await alice.put(`/api/tasks/${t.id}/options`, {
    'max-download-limit': '50K',
    'max-upload-limit': '10K',
  });
  expect(r.statusCode).toBe(200);
  expect(r.json()).toMatchObject({ id: t.id, status: 'active' });
  // aria2 applies them to the running download.
  const [got] = await c.aria2.multicall([{ method: 'aria2.getOption', params: [t.gid] }]);
  const live = (got?.ok ? got.value : {}) as Record<string, string>;
  expect(live['max-download-limit']).toBe('51200');
  expect(live['max-upload-limit']).toBe('10240');
  // And they are stored: a hand-over after a restart uses them.
  const row = await c.db
    .selectFrom('tasks')
    .innerJoin('option_sets', 'option_sets.hash', 'tasks.option_set')
    .select('option_sets.options')
    .where('tasks.id', '=', t.id)
    .executeTakeFirstOrThrow();
  expect(JSON.parse(row.options)).toMatchObject({ 'max-download-limit': '50K', 'max-upload-limit': '10K' });

  for (const [body, field] of [
    [{ dir: '/etc' }, 'dir'],
    [{ out: 'x.bin' }, 'out'],
    [{ 'max-download-limit': 'fast' }, 'max-download-limit'],
    [{}, 'options'],
  ] as const) {
    const bad = await alice.put(`/api/tasks/${t.id}/options`, body);
    expect(bad.statusCode, JSON.stringify(body)).toBe(422);
    expect(bad.json().detail).toContain(field);
  }
  const bob = as(c, await c.login('qbob', 'user-password-1'));
  expect((await bob.put(`/api/tasks/${t.id}/options`, { 'max-download-limit': '1K' })).statusCode).toBe(404);
  await alice.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  const stopped = await alice.put(`/api/tasks/${t.id}/options`, { 'max-download-limit': '1K' });
  expect(stopped.statusCode).toBe(409);
});

it('a paused task keeps its size and progress across a restart of the controller and aria2', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-steer-restart-'));
  server.addFile('/kept.bin', { size: 4_000_000 }, { throttle: 300_000 });
  let first: TestController | null = await startTestController({}, { dataDir });
  let second: TestController | null = null;
  try {
    const carol = as(first, (await first.createUser('carol')).cookie);
    const t = await carol.add(server.url('/kept.bin'));
    await carol.waitTask(t.id, (x) => x.completed_length > 500_000, 'some progress');
    await carol.put(`/api/tasks/${t.id}/status`, { status: 'pause' });
    const paused = await carol.waitTask(t.id, (x) => x.status === 'paused');
    expect(paused.total_length).toBe(4_000_000);
    await first.close();
    first = null;

    second = await startTestController({}, { dataDir });
    await second.sync.reconcileNow();
    const again = as(second, await second.login('carol', 'user-password-1'));
    const after = await again.task(t.id);
    expect(after.status).toBe('paused');
    expect(after.total_length).toBe(4_000_000);
    expect(after.completed_length).toBeGreaterThanOrEqual(paused.completed_length);
    // aria2 itself does not know the size of a paused download it has not opened yet.
    const inAria2 = await second.aria2.tellStatus(after.gid!, ['totalLength']);
    expect(inAria2.totalLength).toBe(0);
    await again.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  } finally {
    await first?.close();
    await second?.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

it("selects a torrent's files at add and later, checking size and quota on what is selected", async () => {
  const dave = as(c, (await c.createUser('dave', { quota: 1_000_000 })).cookie);
  const made = makeMultiFileTorrent({
    name: 'pack',
    files: [
      { path: 'a.bin', content: patternBytes(0, 100_000) },
      { path: 'big/b.bin', content: patternBytes(100_000, 2_100_000) },
      { path: 'c.bin', content: patternBytes(2_100_000, 2_150_000) },
    ],
    webSeedUrl: server.url('/packseed/'),
  });
  for (const f of made.files) server.addFile(`/packseed/${f.seedPath}`, f.content, { throttle: 20_000 });

  // Everything, or the big file alone, is over the quota; the unknown index is bad input.
  const all = await dave.post('/api/tasks/torrent', { torrent: made.base64 });
  expect(all.statusCode).toBe(403);
  expect(all.json().detail).toMatch(/^File size \d+\.\d\d GB exceeds your available space \d+\.\d\d GB$/);
  const unknown = await dave.post('/api/tasks/torrent', { torrent: made.base64, select_files: [1, 9] });
  expect(unknown.statusCode).toBe(422);
  expect(unknown.json().detail).toContain('select_files');

  const r = await dave.post('/api/tasks/torrent', { torrent: made.base64, select_files: [3, 1] });
  expect(r.statusCode).toBe(201);
  const t = r.json() as Task;
  expect(t.total_length).toBe(150_000);
  const selected = async () =>
    ((await dave.get(`/api/tasks/${t.id}/files`)).json() as { index: number; selected: boolean }[]).map(
      (f) => [f.index, f.selected],
    );
  expect(await selected()).toEqual([
    [1, true],
    [2, false],
    [3, true],
  ]);

  // Later: the big file is refused on the quota, and nothing changes.
  const over = await dave.put(`/api/tasks/${t.id}/files`, { selected: [2] });
  expect(over.statusCode).toBe(403);
  expect(over.json().detail).toMatch(/exceeds your available space/);
  expect(await selected()).toEqual([
    [1, true],
    [2, false],
    [3, true],
  ]);
  const bad = await dave.put(`/api/tasks/${t.id}/files`, { selected: [] });
  expect(bad.statusCode).toBe(422);
  expect(bad.json().detail).toContain('selected');

  const ok = await dave.put(`/api/tasks/${t.id}/files`, { selected: [1] });
  expect(ok.statusCode).toBe(200);
  expect((ok.json() as { selected: boolean }[]).map((f) => f.selected)).toEqual([true, false, false]);
  const inAria2 = await c.aria2.tellStatus(t.gid!, ['files']);
  expect(inAria2.files.map((f) => f.selected)).toEqual([true, false, false]);
  // The selected size (aria2 then reports the whole pieces it lies in).
  const size = (await dave.task(t.id)).total_length;
  expect(size).toBeGreaterThanOrEqual(100_000);
  expect(size).toBeLessThan(150_000);
  await dave.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
});

it("the detail: servers and a speed history of a running download, a magnet's metadata by name, files that agree with the header", async () => {
  const erin = as(c, (await c.createUser('erin')).cookie);
  server.addFile('/detail.bin', { size: 20_000_000 }, { throttle: 100_000 });
  const t = await erin.add(server.url('/detail.bin'));
  await erin.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0, 'the download to run');
  const d = await waitFor(
    async () => {
      const body = (await erin.get(`/api/tasks/${t.id}/detail`)).json();
      return body.speed_history.length >= 3 && body.detail.servers.length > 0 ? body : null;
    },
    15_000,
    'three speed samples and a server',
  );
  expect(d.phase).toBeNull();
  expect(d.detail.peers).toEqual([]);
  expect(d.detail.servers[0]).toMatchObject({ file_index: 1, uri: server.url('/detail.bin') });
  for (const s of d.speed_history)
    expect(s).toEqual({ t: expect.any(String), down: expect.any(Number), up: 0 });
  expect(d.speed_history.some((s: { down: number }) => s.down > 0)).toBe(true);
  const sum = d.detail.files.reduce(
    (n: number, f: { completed_length: number }) => n + f.completed_length,
    0,
  );
  expect(sum).toBe(d.completed_length);
  // A task that does not run has no chart.
  await erin.put(`/api/tasks/${t.id}/status`, { status: 'pause' });
  await erin.waitTask(t.id, (x) => x.status === 'paused');
  expect((await erin.get(`/api/tasks/${t.id}/detail`)).json().speed_history).toEqual([]);

  // A magnet nobody serves: active, fetching its metadata, its one entry shown by name only.
  const m = await erin.add(
    'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=Some.Linux.Distro.iso',
  );
  const fetching = await erin.waitTask(m.id, (x) => x.status === 'active', 'the magnet to run');
  expect(fetching.phase).toBe('metadata');
  const md = (await erin.get(`/api/tasks/${m.id}/detail`)).json();
  expect(md.detail.files.map((f: { path: string }) => f.path)).toEqual(['[METADATA]Some.Linux.Distro.iso']);
  expect(JSON.stringify(md)).not.toContain(c.dataDir);
  expect(JSON.stringify(md)).not.toContain('..');
  for (const id of [t.id, m.id]) await erin.put(`/api/tasks/${id}/status`, { status: 'stop' });
});

it('a stopped task aria2 forgot lists the partial file it left', async () => {
  const fay = as(c, (await c.createUser('fay')).cookie);
  server.addFile('/partial.bin', { size: 10_000_000 }, { throttle: 200_000 });
  const t = await fay.add(server.url('/partial.bin'));
  await fay.waitTask(t.id, (x) => x.completed_length > 100_000, 'some bytes');
  await fay.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  // aria2 stops a download a moment after it answers: its result can be removed only once it has.
  await waitFor(
    async () => {
      await c.aria2.removeDownloadResult(t.gid!).catch(() => undefined);
      return (await c.aria2.tellStatus(t.gid!).catch(() => null)) === null;
    },
    5000,
    'aria2 to forget',
  );
  const files = (await fay.get(`/api/tasks/${t.id}/files`)).json() as { path: string; length: number }[];
  expect(files.map((f) => f.path)).toEqual(['partial.bin']);
  expect(files[0]!.length).toBeGreaterThan(0);
});

it('a finished torrent seeds for the time its options or the admin settings give, and says so', async () => {
  const admin = as(c, await c.adminCookie());
  const cfg = await admin.put('/api/config', { seed_ratio: 1.5, seed_time_min: 30 });
  expect(cfg.json()).toMatchObject({ seed_ratio: 1.5, seed_time_min: 30 });
  const [g] = await c.aria2.multicall([{ method: 'aria2.getGlobalOption', params: [] }]);
  const global = (g?.ok ? g.value : {}) as Record<string, string>;
  expect(global['seed-time']).toBe('30');
  expect(global['seed-ratio']).toBe('1.5');
  await admin.put('/api/config', { seed_ratio: 0, seed_time_min: 0 });

  const gus = as(c, (await c.createUser('gus')).cookie);
  const data = patternBytes(0, 200_000);
  const made = makeTorrent({
    name: 'seedme.bin',
    content: data,
    webSeedUrl: server.url('/seedme/seedme.bin'),
  });
  server.addFile('/seedme/seedme.bin', data);
  const r = await gus.post('/api/tasks/torrent', { torrent: made.base64, options: { 'seed-time': 5 } });
  expect(r.statusCode, r.body).toBe(201);
  const t = r.json() as Task;
  const seeding = await gus.waitTask(t.id, (x) => x.seeding, 'the torrent to seed');
  expect(seeding).toMatchObject({ status: 'active', completed_length: 200_000, total_length: 200_000 });
  const d = (await gus.get(`/api/tasks/${t.id}/detail`)).json();
  expect(d.detail.ratio).toBe(0);
  expect(d.detail.seeder).toBe(true);
  await gus.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  const bad = await gus.post('/api/tasks/torrent', {
    torrent: made.base64,
    options: { 'seed-ratio': 'lots' },
  });
  expect(bad.statusCode).toBe(422);
});

it('files chosen at add apply to the real download once the metadata is known (a .torrent URL)', async () => {
  const hal = as(c, (await c.createUser('hal')).cookie);
  const made = makeMultiFileTorrent({
    name: 'later',
    files: [
      { path: 'one.bin', content: patternBytes(0, 60_000) },
      { path: 'two.bin', content: patternBytes(60_000, 160_000) },
    ],
    webSeedUrl: server.url('/laterseed/'),
  });
  for (const f of made.files) server.addFile(`/laterseed/${f.seedPath}`, f.content, { throttle: 20_000 });
  server.addFile('/later.torrent', made.torrent);
  const r = await hal.post('/api/tasks', { uri: server.url('/later.torrent'), select_files: [2] });
  expect(r.statusCode, r.body).toBe(201);
  const t = r.json() as Task;
  const followed = await hal.waitTask(
    t.id,
    (x) => x.gid !== t.gid && x.total_length > 0,
    'the real download',
  );
  // aria2 counts the whole pieces the selected file lies in.
  expect(followed.total_length).toBeGreaterThanOrEqual(100_000);
  expect(followed.total_length).toBeLessThan(160_000);
  const files = (await hal.get(`/api/tasks/${t.id}/files`)).json() as { path: string; selected: boolean }[];
  expect(files.map((f) => [f.path, f.selected])).toEqual([
    ['later/one.bin', false],
    ['later/two.bin', true],
  ]);
  await hal.put(`/api/tasks/${t.id}/status`, { status: 'stop' });
});

it('a seeding torrent is done for its owner: fetched where it lies, no slot or current-task room taken, moved when seeding ends', async () => {
  const admin = as(c, await c.adminCookie());
  expect((await admin.put('/api/config', { max_current_tasks_per_user: 1 })).statusCode).toBe(200);
  try {
    const ida = as(c, (await c.createUser('ida')).cookie);
    const data = patternBytes(7, 150_000);
    const made = makeTorrent({
      name: 'seedlong.bin',
      content: data,
      webSeedUrl: server.url('/seedlong.bin'),
    });
    server.addFile('/seedlong.bin', data);
    // aria2 takes fractions of a minute: about 9 s of seeding.
    const r = await ida.post('/api/tasks/torrent', {
      torrent: made.base64,
      options: { 'seed-time': '0.15' },
    });
    expect(r.statusCode, r.body).toBe(201);
    const t = r.json() as Task;
    const seeding = await ida.waitTask(t.id, (x) => x.seeding, 'the torrent to seed');
    // aria2 reads the file where it downloaded it until seeding ends.
    expect(seeding.artifact_token).not.toBeNull();
    expect(seeding.artifact_path).toMatch(/^\.incomplete\/.+\/seedlong\.bin$/);
    const fetched = await ida.get(`/api/tasks/artifacts/${seeding.artifact_token}`);
    expect(fetched.statusCode).toBe(200);
    expect(fetched.rawPayload.equals(data)).toBe(true);

    // The one download slot and the one current task of the limit are free for a real download.
    server.addFile('/while-seeding.bin', { size: 400_000 }, { throttle: 40_000 });
    const http = await ida.add(server.url('/while-seeding.bin'));
    const running = await ida.waitTask(http.id, (x) => x.status === 'active', 'the download to start');
    expect(running.waiting_reason).toBeNull();
    expect((await ida.task(t.id)).seeding).toBe(true);
    // The counts behind "waiting for a free slot, N of M in use" leave the seeding torrent out.
    const stats = (await ida.get('/api/stats')).json();
    expect(stats.waiting_counts).toEqual({
      user_limit: { running: 1, limit: 3 },
      slots: { running: 1, limit: 1 },
    });

    // Seeding ends: complete, moved into the user's folder, the same link still downloads it.
    const done = await ida.waitTask(t.id, (x) => x.status === 'complete', 'seeding to end', 40_000);
    expect(done).toMatchObject({ seeding: false, artifact_path: 'seedlong.bin' });
    expect(done.artifact_token).toBe(seeding.artifact_token);
    const again = await ida.get(`/api/tasks/artifacts/${seeding.artifact_token}`);
    expect(again.rawPayload.equals(data)).toBe(true);
    await ida.put(`/api/tasks/${http.id}/status`, { status: 'stop' });
  } finally {
    await admin.put('/api/config', { max_current_tasks_per_user: 1000 });
  }
});

it('a task waiting for a slot comes with the counts that say how many are in use', async () => {
  const jo = as(c, (await c.createUser('jo')).cookie);
  server.addFile('/slot-a.bin', { size: 400_000 }, { throttle: 40_000 });
  server.addFile('/slot-b.bin', { size: 400_000 }, { throttle: 40_000 });
  const a = await jo.add(server.url('/slot-a.bin'));
  await jo.waitTask(a.id, (x) => x.status === 'active', 'the first to run');
  const b = await jo.add(server.url('/slot-b.bin'));
  await jo.waitTask(b.id, (x) => x.waiting_reason === 'slots', 'the second to wait for a slot');
  const stats = (await jo.get('/api/stats')).json();
  expect(stats.waiting_counts).toEqual({
    user_limit: { running: 1, limit: 3 },
    slots: { running: 1, limit: 1 },
  });
  await jo.put(`/api/tasks/${a.id}/status`, { status: 'stop' });
  await jo.put(`/api/tasks/${b.id}/status`, { status: 'stop' });
});
