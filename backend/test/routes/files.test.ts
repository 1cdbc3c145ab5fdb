import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Entry, FileList } from '../../src/contracts/files.js';
import type { Task } from '../../src/contracts/tasks.js';
import type { TestController } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;
let bobId: number;
let outside: string;
let scratch: string;

useController({ users: [{ name: 'alice', quota: 10 * 1024 * 1024 }, 'bob'] }, (fx) => {
  ({ c, server } = fx);
  aliceId = fx.users.alice!.id;
  alice = fx.api('alice');
  bobId = fx.users.bob!.id;
  bob = fx.api('bob');
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'files-outside-'));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'files-unzip-'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET-OUTSIDE');
});
afterAll(async () => {
  for (const d of [outside, scratch]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

const home = (id: number, ...parts: string[]) => path.join(c.config.downloadDir, String(id), ...parts);
const q = (paths: string[]) => paths.map((p) => `path=${encodeURIComponent(p)}`).join('&');

async function download(client: ApiClient, p: string, data: Buffer): Promise<Task> {
  server.addFile(p, data);
  const t = await client.add(server.url(p));
  return client.waitTask(t.id, (x) => x.status === 'complete', `${p} to finish`);
}

async function list(client: ApiClient, p = ''): Promise<FileList> {
  const res = await client.get(`/api/files?path=${encodeURIComponent(p)}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as FileList;
}

const used = async (client: ApiClient) => (await list(client)).used_space;

/** Unzips a zip (with Info-ZIP's unzip) into a fresh folder; returns every file's bytes by path. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const dir = fs.mkdtempSync(path.join(scratch, 'z-'));
  const file = path.join(dir, 'archive.zip');
  fs.writeFileSync(file, zip);
  execFileSync('unzip', ['-q', file, '-d', path.join(dir, 'out')]);
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.set(r, fs.readFileSync(path.join(d, e.name)));
    }
  };
  walk(path.join(dir, 'out'), '');
  return out;
}

describe('GET /api/files', () => {
  it('lists folders first, then by name, with sizes, times, task ids, used space and quota', async () => {
    const data = patternBytes(0, 5000);
    const t = await download(alice, '/l/b-file.bin', data);
    fs.mkdirSync(home(aliceId, 'z-folder', 'inner'), { recursive: true });
    fs.writeFileSync(home(aliceId, 'z-folder', 'one.txt'), 'x'.repeat(100));
    fs.writeFileSync(home(aliceId, 'z-folder', 'inner', 'two.txt'), 'y'.repeat(23));
    fs.writeFileSync(home(aliceId, 'a-file.txt'), 'a');
    const res = await list(alice);
    expect(res.path).toBe('');
    expect(res.quota).toBe(10 * 1024 * 1024);
    const names = res.entries.map((e) => e.name);
    // .incomplete sorts among the folders (it holds the task folders)
    const dirs = res.entries.filter((e) => e.type === 'dir').map((e) => e.name);
    expect(names.slice(0, dirs.length)).toEqual(dirs);
    expect(dirs).toEqual([...dirs].sort());
    expect(names.slice(dirs.length)).toEqual(['a-file.txt', t.artifact_path]);
    const folder = res.entries.find((e) => e.name === 'z-folder')!;
    expect(folder).toEqual({
      name: 'z-folder',
      path: 'z-folder',
      type: 'dir',
      size: 123,
      modified_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      task_id: null,
    });
    const file = res.entries.find((e) => e.name === t.artifact_path)!;
    expect(file).toMatchObject({ type: 'file', size: 5000, task_id: null, path: t.artifact_path });
    const inner = await list(alice, 'z-folder');
    expect(inner.path).toBe('z-folder');
    expect(inner.entries.map((e) => [e.path, e.type])).toEqual([
      ['z-folder/inner', 'dir'],
      ['z-folder/one.txt', 'file'],
    ]);
  });

  it('a file is not a folder (422), a missing path is 404, no session is 401', async () => {
    fs.writeFileSync(home(aliceId, 'plain.txt'), 'p');
    const file = await alice.get('/api/files?path=plain.txt');
    expect(file.statusCode).toBe(422);
    expect(file.json().detail).toMatch(/^Invalid path/);
    const missing = await alice.get('/api/files?path=nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'Path not found' });
    expect((await as(c).get('/api/files')).statusCode).toBe(401);
  });

  it("used_space is on every User: me, and the admin's list", async () => {
    const me = (await alice.get('/api/auth/me')).json();
    expect(me.used_space).toBe(await used(alice));
    const admin = as(c, await c.adminCookie());
    const users = (await admin.get('/api/users')).json() as { id: number; used_space: number }[];
    expect(users.find((u) => u.id === aliceId)!.used_space).toBe(me.used_space);
    expect(users.every((u) => Number.isInteger(u.used_space))).toBe(true);
    expect((await admin.get(`/api/users/${aliceId}`)).json().used_space).toBe(me.used_space);
  });
});

describe('Bad paths are 422 naming the field and change nothing', () => {
  const bad: [string, RegExp][] = [
    ['../x', /\.\. segments/],
    ['a/../../x', /\.\. segments/],
    ['./a', /\. or \.\./],
    ['/etc', /relative/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['a\\b', /separator/],
    ['a\u0001b', /control character/],
    ['a\nb', /control character/],
    ['a\u0000b', /control character/],
    ['\ud800x', /well-formed Unicode/],
    [`${'a'.repeat(300)}`, /255 bytes/],
    [`${'abcdefgh/'.repeat(500)}x`, /4 KiB/],
  ];

  it('in a query', async () => {
    for (const [p, why] of bad.filter(([p]) => !p.includes('\ud800'))) {
      const res = await alice.get(`/api/files?path=${encodeURIComponent(p)}`);
      expect(res.statusCode, p).toBe(422);
      expect(res.json().detail, p).toMatch(/^Invalid path: /);
      expect(res.json().detail, p).toMatch(why);
    }
  });

  it('in a JSON body: the field is named, nothing is created', async () => {
    const before = fs.readdirSync(home(aliceId)).sort();
    for (const [p, why] of bad) {
      const folder = await alice.post('/api/files/folder', { path: p });
      expect(folder.statusCode, p).toBe(422);
      expect(folder.json().detail, p).toMatch(why);
      expect(folder.json().detail).toMatch(/^Invalid path: /);
      const move = await alice.post('/api/files/move', { from: 'plain.txt', to: p });
      expect(move.statusCode, p).toBe(422);
      expect(move.json().detail).toMatch(/^Invalid to: /);
      const from = await alice.post('/api/files/move', { from: p, to: 'x' });
      expect(from.json().detail).toMatch(/^Invalid from: /);
    }
    expect(fs.readdirSync(home(aliceId)).sort()).toEqual(before);
    expect(fs.existsSync(home(aliceId, 'plain.txt'))).toBe(true);
  });

  it('wrong types, unknown fields, and more than 1000 paths are 422', async () => {
    expect((await alice.post('/api/files/folder', { path: 1 })).statusCode).toBe(422);
    expect((await alice.post('/api/files/folder', { path: 'x', extra: 1 })).statusCode).toBe(422);
    expect((await alice.post('/api/files/move', { from: 'plain.txt' })).statusCode).toBe(422);
    const many = Array.from({ length: 1001 }, (_, i) => `f${i}`);
    const res = await alice.del(`/api/files?${q(many)}`);
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toMatch(/path/);
    expect((await alice.get(`/api/files/archive?${q(many)}`)).statusCode).toBe(422);
    expect((await alice.del('/api/files')).statusCode).toBe(422);
  });

  it('the folder itself cannot be moved, deleted or shared', async () => {
    expect((await alice.del('/api/files?path=')).statusCode).toBe(422);
    expect((await alice.post('/api/files/move', { from: '', to: 'x' })).statusCode).toBe(422);
    expect(fs.existsSync(home(aliceId))).toBe(true);
  });
});

describe('Symlinks and other users', () => {
  beforeAll(() => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), home(aliceId, 'evil-link.txt'));
    fs.symlinkSync(outside, home(aliceId, 'evil-dir'));
    fs.mkdirSync(home(bobId), { recursive: true });
    fs.writeFileSync(home(bobId, 'bob-secret.txt'), 'TOP-SECRET-BOB');
    fs.symlinkSync(home(bobId), home(aliceId, 'to-bob'));
    fs.writeFileSync(home(aliceId, 'target.txt'), 'inside target');
    fs.symlinkSync(home(aliceId, 'target.txt'), home(aliceId, 'good-link.txt'));
  });

  it('links pointing out of the folder are not listed, served, archived or followed', async () => {
    const names = (await list(alice)).entries.map((e) => e.name);
    expect(names).not.toContain('evil-link.txt');
    expect(names).not.toContain('evil-dir');
    expect(names).not.toContain('to-bob');
    for (const p of ['evil-link.txt', 'evil-dir/secret.txt', 'to-bob/bob-secret.txt', 'evil-dir']) {
      const res = await alice.get(`/api/files/content?path=${encodeURIComponent(p)}`);
      expect(res.statusCode, p).toBe(404);
      expect(res.body).not.toContain('TOP-SECRET');
      expect((await alice.get(`/api/files/archive?path=${encodeURIComponent(p)}`)).statusCode).toBe(404);
      expect((await alice.get(`/api/files?path=${encodeURIComponent(p)}`)).statusCode).toBe(404);
      expect((await alice.post('/api/files/move', { from: 'plain.txt', to: `${p}/x` })).statusCode).toBe(404);
      expect((await alice.post('/api/files/folder', { path: `${p}/new` })).statusCode).toBe(404);
    }
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
  });

  it('a path swapped for a link after its check is caught at open: the open handle is checked', async () => {
    const storage = c.storage;
    // As if the check had passed and the name then became a link out of the folder…
    await expect(storage.openInside(aliceId, home(aliceId, 'evil-link.txt'))).rejects.toThrow(
      'Path not found',
    );
    // …or a folder on the way did.
    await expect(
      storage.openInside(aliceId, path.join(home(aliceId, 'evil-dir'), 'secret.txt')),
    ).rejects.toThrow('Path not found');
    const ok = await storage.openInside(aliceId, home(aliceId, 'target.txt'));
    expect(ok.stat.size).toBe('inside target'.length);
    await ok.handle.close();
  });

  it('a link inside the folder works as what it points to', async () => {
    const res = await alice.get('/api/files/content?path=good-link.txt');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('inside target');
  });

  it('deleting or moving a link acts on the link, never on what it points to', async () => {
    const del = await alice.del('/api/files?path=evil-link.txt');
    expect(del.statusCode, del.body).toBe(200);
    expect(fs.existsSync(path.join(outside, 'secret.txt'))).toBe(true);
    expect(fs.existsSync(home(aliceId, 'evil-link.txt'))).toBe(false);
    const move = await alice.post('/api/files/move', { from: 'to-bob', to: 'renamed-link' });
    expect(move.statusCode, move.body).toBe(200);
    expect(fs.lstatSync(home(aliceId, 'renamed-link')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(home(bobId, 'bob-secret.txt'), 'utf8')).toBe('TOP-SECRET-BOB');
    await alice.del('/api/files?path=renamed-link&path=evil-dir');
    expect(fs.existsSync(outside)).toBe(true);
  });

  it("another user's files are out of reach: bob sees only his own folder", async () => {
    const own = await list(bob);
    expect(own.entries.map((e) => e.name)).toEqual(['bob-secret.txt']);
    expect((await bob.get('/api/files/content?path=plain.txt')).statusCode).toBe(404);
    expect((await bob.get(`/api/files?path=${encodeURIComponent(`../${aliceId}`)}`)).statusCode).toBe(422);
    expect((await bob.del('/api/files?path=plain.txt')).statusCode).toBe(404);
    expect(fs.existsSync(home(aliceId, 'plain.txt'))).toBe(true);
  });
});

describe('GET /api/files/content and /api/files/archive', () => {
  const data = patternBytes(0, 64_000);
  beforeAll(() => {
    fs.mkdirSync(home(aliceId, 'Album', 'disc2'), { recursive: true });
    fs.writeFileSync(home(aliceId, 'Album', 'track1.flac'), data);
    fs.writeFileSync(home(aliceId, 'Album', 'disc2', 'track2.flac'), patternBytes(7, 9000));
    fs.writeFileSync(home(aliceId, 'naïve "q".bin'), data);
  });

  it('a file: whole, with Content-Disposition; Range 206, open and suffix ranges; 416', async () => {
    const url = `/api/files/content?path=${encodeURIComponent('naïve "q".bin')}`;
    const whole = await alice.get(url);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(data)).toBe(true);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-length']).toBe(String(data.length));
    expect(whole.headers['content-disposition']).toBe(
      `attachment; filename="na_ve _q_.bin"; filename*=UTF-8''${encodeURIComponent('naïve "q".bin')}`,
    );
    const part = await alice.request({ method: 'GET', url, headers: { range: 'bytes=100-199' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
    expect(part.rawPayload.equals(data.subarray(100, 200))).toBe(true);
    const tail = await alice.request({ method: 'GET', url, headers: { range: 'bytes=-16' } });
    expect(tail.rawPayload.equals(data.subarray(data.length - 16))).toBe(true);
    const open = await alice.request({ method: 'GET', url, headers: { range: 'bytes=63990-' } });
    expect(open.rawPayload.equals(data.subarray(63_990))).toBe(true);
    const bad = await alice.request({ method: 'GET', url, headers: { range: `bytes=${data.length}-` } });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${data.length}`);
    const etag = String(whole.headers.etag);
    const cached = await alice.request({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(cached.statusCode).toBe(304);
  });

  it('a folder streams as <name>.zip with every file, stored', async () => {
    const res = await alice.get('/api/files/content?path=Album');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toContain('filename="Album.zip"');
    const files = unzip(res.rawPayload);
    expect([...files.keys()].sort()).toEqual(['Album/disc2/track2.flac', 'Album/track1.flac']);
    expect(files.get('Album/track1.flac')!.equals(data)).toBe(true);
    expect(files.get('Album/disc2/track2.flac')!.equals(patternBytes(7, 9000))).toBe(true);
  });

  it('a selection streams as one zip, each item under its own name', async () => {
    const res = await alice.get(`/api/files/archive?${q(['Album', 'naïve "q".bin', 'Album/track1.flac'])}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    const files = unzip(res.rawPayload);
    expect([...files.keys()].sort()).toEqual(
      ['Album/disc2/track2.flac', 'Album/track1.flac', 'naïve "q".bin', 'track1.flac'].sort(),
    );
    expect(files.get('naïve "q".bin')!.equals(data)).toBe(true);
    const missing = await alice.get(`/api/files/archive?${q(['Album', 'nope'])}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'Path not found' });
  });

  it('the session cookie alone opens them (a browser link)', async () => {
    const res = await c.app.inject({
      method: 'GET',
      url: '/api/files/content?path=Album%2Ftrack1.flac',
      headers: { cookie: alice.cookie! },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('Move, new folder, delete', () => {
  it('POST /api/files/folder: 201 Entry; 409 when it exists; 404 without its parent', async () => {
    const res = await alice.post('/api/files/folder', { path: 'New Folder' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'New Folder', path: 'New Folder', type: 'dir', size: 0 });
    expect(fs.statSync(home(aliceId, 'New Folder')).isDirectory()).toBe(true);
    const again = await alice.post('/api/files/folder', { path: 'New Folder' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: 'A file with that name already exists' });
    const orphan = await alice.post('/api/files/folder', { path: 'no/such/parent' });
    expect(orphan.statusCode).toBe(404);
    expect(orphan.json()).toEqual({ detail: 'Path not found' });
  });

  it('a finished task whose artifact moves keeps pointing at it (and its token still downloads)', async () => {
    const data = patternBytes(3, 4003);
    const t = await download(alice, '/m/moving.bin', data);
    const res = await alice.post('/api/files/move', { from: t.artifact_path, to: 'New Folder/moved.bin' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: 'moved.bin',
      path: 'New Folder/moved.bin',
      type: 'file',
      size: 4000,
    });
    const after = await alice.task(t.id);
    expect(after.artifact_path).toBe('New Folder/moved.bin');
    expect(after.artifact_token).toBe(t.artifact_token);
    const got = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(data)).toBe(true);
    // The folder holding it moves too: the task follows again.
    const folder = await alice.post('/api/files/move', { from: 'New Folder', to: 'Renamed' });
    expect(folder.statusCode).toBe(200);
    expect((await alice.task(t.id)).artifact_path).toBe('Renamed/moved.bin');
  });

  it('move refusals: 409 name taken, 404 missing from or parent, 422 into itself', async () => {
    fs.writeFileSync(home(aliceId, 'taken.txt'), 't');
    fs.writeFileSync(home(aliceId, 'mover.txt'), 'm');
    const taken = await alice.post('/api/files/move', { from: 'mover.txt', to: 'taken.txt' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ detail: 'A file with that name already exists' });
    expect(fs.readFileSync(home(aliceId, 'taken.txt'), 'utf8')).toBe('t');
    expect((await alice.post('/api/files/move', { from: 'ghost.txt', to: 'x.txt' })).statusCode).toBe(404);
    expect((await alice.post('/api/files/move', { from: 'mover.txt', to: 'ghost/x.txt' })).statusCode).toBe(
      404,
    );
    const self = await alice.post('/api/files/move', { from: 'Renamed', to: 'Renamed/inside' });
    expect(self.statusCode).toBe(422);
    expect(fs.existsSync(home(aliceId, 'Renamed', 'moved.bin'))).toBe(true);
  });

  it('deleting frees quota at once; a finished task keeps its row with artifact null', async () => {
    const data = patternBytes(0, 30_000);
    const t = await download(alice, '/d/deleted.bin', data);
    const before = await used(alice);
    const res = await alice.del(`/api/files?path=${encodeURIComponent(t.artifact_path!)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ deleted: 1, freed: 30_000 });
    expect(await used(alice)).toBe(before - 30_000);
    expect((await alice.get('/api/stats')).json().used_space).toBe(before - 30_000);
    const row = await alice.task(t.id);
    expect(row.status).toBe('complete');
    expect(row.artifact_path).toBeNull();
    expect(row.artifact_token).toBeNull();
    expect((await alice.get(`/api/tasks/artifacts/${t.artifact_token}`)).statusCode).toBe(404);
    // Deleting the task now frees nothing more.
    expect((await alice.del(`/api/tasks/${t.id}?delete_files=true`)).statusCode).toBe(204);
    expect(await used(alice)).toBe(before - 30_000);
  });

  it('several paths at once; a path inside another goes with it; a missing one deletes nothing', async () => {
    fs.mkdirSync(home(aliceId, 'bulk'), { recursive: true });
    fs.writeFileSync(home(aliceId, 'bulk', 'a'), 'aaaa');
    fs.writeFileSync(home(aliceId, 'bulk-b'), 'bb');
    const none = await alice.del(`/api/files?${q(['bulk', 'ghost'])}`);
    expect(none.statusCode).toBe(404);
    expect(fs.existsSync(home(aliceId, 'bulk', 'a'))).toBe(true);
    const res = await alice.del(`/api/files?${q(['bulk', 'bulk/a', 'bulk-b'])}`);
    expect(res.json()).toEqual({ deleted: 2, freed: 6 });
    expect(fs.existsSync(home(aliceId, 'bulk'))).toBe(false);
  });
});

describe('Files a current download writes', () => {
  let t: Task;
  beforeAll(async () => {
    server.addFile('/run/slow.bin', { size: 4 << 20 }, { throttle: 64 * 1024 });
    t = await alice.add(server.url('/run/slow.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0, 'the download to run');
  });
  afterAll(async () => {
    await alice.del(`/api/tasks/${t.id}?delete_files=true`);
  });

  it('show under .incomplete/ with their task_id', async () => {
    const inc = await list(alice, '.incomplete');
    const mine = inc.entries.find((e: Entry) => e.task_id === t.id);
    expect(mine, JSON.stringify(inc.entries)).toBeTruthy();
    expect(mine!.type).toBe('dir');
    const inner = await list(alice, mine!.path);
    expect(inner.entries.map((e) => [e.name, e.task_id])).toContainEqual(['slow.bin', t.id]);
  });

  it('cannot be moved or deleted (409 In use by a running download), nor anything moved into them', async () => {
    const inc = await list(alice, '.incomplete');
    const dir = inc.entries.find((e) => e.task_id === t.id)!.path;
    for (const p of [dir, `${dir}/slow.bin`, '.incomplete']) {
      const del = await alice.del(`/api/files?path=${encodeURIComponent(p)}`);
      expect(del.statusCode, p).toBe(409);
      expect(del.json()).toEqual({ detail: 'In use by a running download' });
      const move = await alice.post('/api/files/move', { from: p, to: 'stolen' });
      expect(move.statusCode, p).toBe(409);
      expect(move.json()).toEqual({ detail: 'In use by a running download' });
    }
    fs.writeFileSync(home(aliceId, 'intruder.txt'), 'i');
    const into = await alice.post('/api/files/move', { from: 'intruder.txt', to: `${dir}/intruder.txt` });
    expect(into.statusCode).toBe(409);
    // One refused path in a list deletes nothing.
    const mixed = await alice.del(`/api/files?${q(['intruder.txt', dir])}`);
    expect(mixed.statusCode).toBe(409);
    expect(fs.existsSync(home(aliceId, 'intruder.txt'))).toBe(true);
    expect((await alice.task(t.id)).status).toBe('active');
  });
});

describe('Files a deleted task leaves stay visible and count until deleted', () => {
  it('a finished download whose task is deleted without its files: listed, counted, then freed', async () => {
    const data = patternBytes(0, 20_000);
    const t = await download(bob, '/left/finished.bin', data);
    const before = await used(bob);
    expect((await bob.del(`/api/tasks/${t.id}`)).statusCode).toBe(204);
    const res = await list(bob);
    expect(res.entries.map((e) => e.name)).toContain(t.artifact_path);
    expect(res.used_space).toBe(before);
    const del = await bob.del(`/api/files?path=${encodeURIComponent(t.artifact_path!)}`);
    expect(del.json()).toEqual({ deleted: 1, freed: 20_000 });
    expect(await used(bob)).toBe(before - 20_000);
  });

  it('a stopped download whose history is cleared: its partial file shows under .incomplete and frees on delete', async () => {
    server.addFile('/left/partial.bin', { size: 2 << 20 }, { throttle: 128 * 1024 });
    const t = await bob.add(server.url('/left/partial.bin'));
    await bob.waitTask(t.id, (x) => x.status === 'active' && x.completed_length > 0);
    expect((await bob.put(`/api/tasks/${t.id}/status`, { status: 'stop' })).statusCode).toBe(200);
    expect((await bob.del('/api/tasks')).json().deleted).toBeGreaterThan(0);
    const usedWithPartial = await used(bob);
    expect(usedWithPartial).toBeGreaterThan(0);
    const inc = await list(bob, '.incomplete');
    expect(inc.entries.length).toBe(1);
    const del = await bob.del(`/api/files?path=${encodeURIComponent(inc.entries[0]!.path)}`);
    expect(del.statusCode).toBe(200);
    expect(del.json().freed).toBeGreaterThanOrEqual(usedWithPartial);
    // What is left is bob-secret.txt, which the test wrote behind the controller's back.
    expect(await used(bob)).toBe(0);
  });
});
