import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import type { TestController } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeMultiFileTorrent } from '../helpers/torrent.js';

let c: TestController;
let server: FileServer;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;
let outside: string;

useController({ users: ['alice', 'bob'] }, (fx) => {
  ({ c, server } = fx);
  aliceId = fx.users.alice!.id;
  alice = fx.api('alice');
  bob = fx.api('bob');
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tasks-files-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET-OUTSIDE-THE-USER-FOLDER');
});
afterAll(async () => {
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

const userPath = (...parts: string[]) => path.join(c.config.downloadDir, String(aliceId), ...parts);

async function download(p: string, data: Buffer, options?: Record<string, unknown>): Promise<Task> {
  server.addFile(p, data);
  const t = await alice.add(server.url(p), options);
  return alice.waitTask(t.id, (x) => x.status === 'complete', `${p} to finish`);
}

/** The entries of a zip (central directory), with the bytes of stored (uncompressed) entries. */
function readZip(zip: Buffer): Map<string, Buffer | null> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer | null>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    out.set(name, method === 0 ? zip.subarray(dataStart, dataStart + size) : null);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

describe('GET /api/tasks/artifacts/{token}: a finished file', () => {
  const data = patternBytes(0, 100_000);
  let t: Task;

  beforeAll(async () => {
    t = await download('/files/movie.mkv', data);
  });

  it('serves the whole file with its name, length, ETag and Last-Modified', async () => {
    const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(data)).toBe(true);
    expect(res.headers['content-length']).toBe(String(data.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="movie.mkv"; filename*=UTF-8''movie.mkv`,
    );
    expect(res.headers.etag).toMatch(/^(W\/)?"[^"]+"$/);
    expect(res.headers['last-modified']).toEqual(expect.any(String));
  });

  it('answers Range requests with 206 and Content-Range', async () => {
    const mid = await alice.request({
      method: 'GET',
      url: `/api/tasks/artifacts/${t.artifact_token}`,
      headers: { range: 'bytes=1000-1999' },
    });
    expect(mid.statusCode).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 1000-1999/${data.length}`);
    expect(mid.headers['content-length']).toBe('1000');
    expect(mid.rawPayload.equals(data.subarray(1000, 2000))).toBe(true);

    const open = await alice.request({
      method: 'GET',
      url: `/api/tasks/artifacts/${t.artifact_token}`,
      headers: { range: 'bytes=99000-' },
    });
    expect(open.statusCode).toBe(206);
    expect(open.headers['content-range']).toBe(`bytes 99000-99999/${data.length}`);
    expect(open.rawPayload.equals(data.subarray(99_000))).toBe(true);

    const suffix = await alice.request({
      method: 'GET',
      url: `/api/tasks/artifacts/${t.artifact_token}`,
      headers: { range: 'bytes=-10' },
    });
    expect(suffix.statusCode).toBe(206);
    expect(suffix.rawPayload.equals(data.subarray(data.length - 10))).toBe(true);

    const bad = await alice.request({
      method: 'GET',
      url: `/api/tasks/artifacts/${t.artifact_token}`,
      headers: { range: `bytes=${data.length}-` },
    });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${data.length}`);
    expect(bad.json()).toEqual({ detail: 'Range not satisfiable' });
  });

  it('a matching If-None-Match is 304 without a body', async () => {
    const first = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    const etag = String(first.headers.etag);
    const again = await alice.request({
      method: 'GET',
      url: `/api/tasks/artifacts/${t.artifact_token}`,
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
  });

  it('needs the owner: another user 404, no session 401', async () => {
    const foreign = await bob.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain('movie');
    const anon = await as(c).get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(anon.statusCode).toBe(401);
  });

  it('a non-ASCII or quoted name gets an ASCII fallback and the UTF-8 name', async () => {
    const u = await download('/files/other.bin', patternBytes(0, 100), { out: 'naïve "q".txt' });
    expect(u.artifact_path).toBe('naïve "q".txt');
    const res = await alice.get(`/api/tasks/artifacts/${u.artifact_token}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="na_ve _q_.txt"; filename*=UTF-8''${encodeURIComponent('naïve "q".txt')}`,
    );
  });
});

describe('Artifacts: path traversal and symlinks', () => {
  it('tokens that try to leave the folder, or are unknown, are 404 File not found', async () => {
    for (const token of [
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '....%2F....%2Fetc%2Fpasswd',
      'a'.repeat(32),
      encodeURIComponent(userPath('movie.mkv')),
    ]) {
      const res = await alice.get(`/api/tasks/artifacts/${token}`);
      expect(res.statusCode, token).toBe(404);
      expect(res.body).not.toContain('root:');
    }
    // A control character is no token at all: bad input, named.
    const nul = await alice.get(`/api/tasks/artifacts/${'a'.repeat(30)}%00`);
    expect(nul.statusCode).toBe(422);
    expect(nul.json().detail).toMatch(/token/);
    const long = await alice.get(`/api/tasks/artifacts/${'a'.repeat(300)}`);
    expect([404, 422]).toContain(long.statusCode);
  });

  it("a server's Content-Disposition name cannot place the file outside the user folder", async () => {
    const data = patternBytes(0, 3000);
    server.addFile('/files/cd.bin', data, {
      headers: { 'Content-Disposition': 'attachment; filename="../../../cd-escape.txt"' },
    });
    const t = await alice.add(server.url('/files/cd.bin'));
    const done = await alice.waitTask(t.id, (x) => x.status === 'complete');
    expect(done.artifact_path).not.toMatch(/\.\.|^\//);
    expect(fs.readFileSync(userPath(done.artifact_path!)).equals(data)).toBe(true);
    for (const dir of [c.config.downloadDir, c.config.dataDir, path.dirname(c.config.dataDir)]) {
      expect(fs.existsSync(path.join(dir, 'cd-escape.txt'))).toBe(false);
    }
  });

  it('a finished file replaced by a symlink that points outside the user folder is not served', async () => {
    const t = await download('/files/linked.bin', patternBytes(0, 1000));
    const file = userPath(t.artifact_path!);
    fs.rmSync(file);
    fs.symlinkSync(path.join(outside, 'secret.txt'), file);
    const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('TOP-SECRET');
    // A link that stays inside the folder is fine.
    fs.rmSync(file);
    fs.writeFileSync(userPath('inside.txt'), 'inside');
    fs.symlinkSync(userPath('inside.txt'), file);
    const inside = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(inside.statusCode).toBe(200);
    expect(inside.body).toBe('inside');
  });

  it("a symlink to another user's folder is not served either", async () => {
    const t = await download('/files/cross.bin', patternBytes(0, 1000));
    const bobDir = path.join(c.config.downloadDir, 'bob-like');
    fs.mkdirSync(bobDir, { recursive: true });
    fs.writeFileSync(path.join(bobDir, 'x.txt'), 'TOP-SECRET-OTHER');
    const file = userPath(t.artifact_path!);
    fs.rmSync(file);
    fs.symlinkSync(path.join(bobDir, 'x.txt'), file);
    const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('TOP-SECRET');
  });
});

describe('Artifacts: a finished folder (multi-file torrent) downloads as a zip', () => {
  const files = [
    { path: 'track1.flac', content: patternBytes(0, 40_000) },
    { path: 'disc2/track2.flac', content: patternBytes(40_000, 70_000) },
    { path: 'cover.jpg', content: patternBytes(70_000, 71_234) },
  ];
  let t: Task;

  beforeAll(async () => {
    const torrent = makeMultiFileTorrent({ name: 'Album', files, webSeedUrl: server.url('/seed/') });
    for (const f of torrent.files) server.addFile(`/seed/${f.seedPath}`, f.content);
    const res = await alice.post('/api/tasks/torrent', { torrent: torrent.base64 });
    expect(res.statusCode, res.body).toBe(201);
    t = await alice.waitTask(res.json().id, (x) => x.status === 'complete', 'the torrent to finish');
  });

  it('the folder lands in <user>/ and streams as <name>.zip with every file', async () => {
    expect(t.artifact_path).toBe('Album');
    expect(fs.statSync(userPath('Album')).isDirectory()).toBe(true);
    const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="Album.zip"; filename*=UTF-8''Album.zip`,
    );
    const entries = readZip(res.rawPayload);
    for (const f of files) {
      const got = entries.get(`Album/${f.path}`);
      expect(got, f.path).toBeTruthy();
      expect(got!.equals(f.content), f.path).toBe(true);
    }
    expect([...entries.keys()].filter((k) => !k.endsWith('/')).sort()).toEqual(
      files.map((f) => `Album/${f.path}`).sort(),
    );
  });

  it('a symlink inside the folder that points outside the user folder is left out of the zip', async () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), userPath('Album', 'evil.txt'));
    fs.symlinkSync(outside, userPath('Album', 'evil-dir'));
    fs.writeFileSync(userPath('notes.txt'), 'my notes');
    fs.symlinkSync(userPath('notes.txt'), userPath('Album', 'notes-link.txt'));
    const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.includes(Buffer.from('TOP-SECRET'))).toBe(false);
    const entries = readZip(res.rawPayload);
    expect(entries.has('Album/evil.txt')).toBe(false);
    expect([...entries.keys()].some((k) => k.startsWith('Album/evil-dir'))).toBe(false);
    expect(entries.get('Album/notes-link.txt')?.toString()).toBe('my notes');
  });

  it('the whole folder replaced by a symlink to the outside is 404', async () => {
    fs.renameSync(userPath('Album'), userPath('Album-real'));
    fs.symlinkSync(outside, userPath('Album'));
    try {
      const res = await alice.get(`/api/tasks/artifacts/${t.artifact_token}`);
      expect(res.statusCode).toBe(404);
      expect(res.rawPayload.includes(Buffer.from('TOP-SECRET'))).toBe(false);
    } finally {
      fs.rmSync(userPath('Album'));
      fs.renameSync(userPath('Album-real'), userPath('Album'));
    }
  });

  it('GET /files lists the torrent files relative to the task folder', async () => {
    const res = await alice.get(`/api/tasks/${t.id}/files`);
    expect(res.statusCode).toBe(200);
    const list = res.json() as { path: string; length: number; selected: boolean }[];
    expect(list.map((f) => f.path).sort()).toEqual(files.map((f) => `Album/${f.path}`).sort());
    for (const f of list) expect(f.selected).toBe(true);
  });

  it('deleting with files removes the whole folder and its used space', async () => {
    const before = (await alice.get('/api/stats')).json().used_space as number;
    // What the folder holds now: the download, and the links the test above put in it.
    const links = fs
      .readdirSync(userPath('Album'))
      .map((n) => fs.lstatSync(userPath('Album', n)))
      .filter((st) => st.isSymbolicLink())
      .reduce((sum, st) => sum + st.size, 0);
    const res = await alice.del(`/api/tasks/${t.id}?delete_files=true`);
    expect(res.statusCode).toBe(204);
    expect(fs.existsSync(userPath('Album'))).toBe(false);
    expect(fs.existsSync(path.join(outside, 'secret.txt'))).toBe(true);
    const after = (await alice.get('/api/stats')).json().used_space as number;
    expect(before - after).toBe(71_234 + links);
  });
});
