import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GiB } from '../../src/config/index.js';
import type { Task } from '../../src/contracts/tasks.js';
import { type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';

const MiB = 1024 * 1024;

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let alice: ApiClient;
let aliceId: number;

useController({ users: ['alice'] }, (fx) => {
  ({ c, server, admin } = fx);
  aliceId = fx.users.alice!.id;
  alice = fx.api('alice');
});

const userPath = (userId: number, ...parts: string[]) =>
  path.join(c.config.downloadDir, String(userId), ...parts);

async function setConfig(patch: Record<string, unknown>): Promise<void> {
  const res = await admin.put('/api/config', patch);
  expect(res.statusCode, res.body).toBe(200);
}

/** A multipart/form-data body with a file part and optional text fields. */
function multipart(
  file: { field: string; name: string; data: Buffer } | null,
  fields: Record<string, string> = {},
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----tasks-test-${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\n` +
          'Content-Type: application/x-bittorrent\r\n\r\n',
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Serves `data` as a web seed and returns a torrent of it. */
function seeded(name: string, data: Buffer, seedOptions = {}) {
  server.addFile(`/seed/${name}`, data, seedOptions);
  return makeTorrent({ name, content: data, webSeedUrl: server.url(`/seed/${name}`) });
}

describe('A .torrent URL follows to the real download', () => {
  it('downloads the torrent content offline through its web seed, into <user>/', async () => {
    const data = patternBytes(0, 200_000);
    const t = seeded('film.mkv', data);
    server.addFile('/t/film.torrent', t.torrent, { contentType: 'application/x-bittorrent' });
    const created = await alice.add(server.url('/t/film.torrent'));
    expect(created.uri).toBe(server.url('/t/film.torrent'));
    const done = await alice.waitTask(created.id, (x) => x.status === 'complete', 'the followed download');
    expect(done).toMatchObject({
      name: 'film.mkv',
      total_length: data.length,
      completed_length: data.length,
      artifact_path: 'film.mkv',
      error: null,
    });
    expect(done.gid).not.toBe(created.gid);
    expect(fs.readFileSync(userPath(aliceId, 'film.mkv')).equals(data)).toBe(true);
    const detail = (await alice.get(`/api/tasks/${created.id}/detail`)).json();
    expect(detail.detail.info_hash).toBe(t.infoHash);
    expect(detail.detail.bittorrent).toMatchObject({ name: 'film.mkv', mode: 'single' });
    // Nothing of the download is left behind in .incomplete/ (the .torrent file included).
    expect(fs.existsSync(userPath(aliceId, '.incomplete', created.gid!))).toBe(false);
    // Only the caller's folder holds it, and the used space counts the content.
    expect((await alice.get('/api/stats')).json().used_space).toBe(data.length);
  });
});

describe('Deleting a followed .torrent URL download with its files', () => {
  it('removes the partial content and the fetched .torrent: the task folder is gone', async () => {
    const data = patternBytes(0, 1 * MiB);
    const t = seeded('partial.bin', data, { throttle: 64 * 1024 });
    server.addFile('/t/partial.torrent', t.torrent, { contentType: 'application/x-bittorrent' });
    const created = await alice.add(server.url('/t/partial.torrent'));
    const folder = userPath(aliceId, '.incomplete', created.gid!);
    await alice.waitTask(
      created.id,
      (x) => x.name === 'partial.bin' && x.status === 'active' && x.completed_length > 0,
      'the followed download to run',
    );
    expect(fs.existsSync(path.join(folder, 'partial.bin'))).toBe(true);
    const res = await alice.del(`/api/tasks/${created.id}?delete_files=true`);
    expect(res.statusCode).toBe(204);
    expect(fs.existsSync(folder)).toBe(false);
  });
});

describe('POST /api/tasks/torrent', () => {
  it('base64 JSON: 201 with uri "[torrent]", the name and size from the file; completes offline', async () => {
    const data = patternBytes(10, 150_010);
    const t = seeded('upload.iso', data);
    const res = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json() as Task;
    expect(created).toMatchObject({ uri: '[torrent]', name: 'upload.iso', total_length: data.length });
    expect(created.status).not.toBe('queued');
    const done = await alice.waitTask(created.id, (x) => x.status === 'complete');
    expect(done.artifact_path).toBe('upload.iso');
    expect(fs.readFileSync(userPath(aliceId, 'upload.iso')).equals(data)).toBe(true);
  });

  it('multipart with a torrent file field (and options): 201 and completes', async () => {
    const data = patternBytes(20, 60_020);
    const t = seeded('multi.bin', data);
    const body = multipart(
      { field: 'torrent', name: 'multi.torrent', data: t.torrent },
      {
        options: JSON.stringify({ 'max-download-limit': '10M' }),
      },
    );
    const res = await alice.request({ method: 'POST', url: '/api/tasks/torrent', ...body });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ uri: '[torrent]', name: 'multi.bin', total_length: data.length });
    const done = await alice.waitTask(res.json().id, (x) => x.status === 'complete');
    expect(fs.readFileSync(userPath(aliceId, done.artifact_path!)).equals(data)).toBe(true);
  });

  it('an invalid torrent or body is 422, and nothing is created', async () => {
    const before = (await alice.get('/api/tasks?limit=1')).json().total;
    const good = seeded('never.bin', patternBytes(0, 100));
    const cases: [unknown, RegExp][] = [
      [{ torrent: Buffer.from('hello world').toString('base64') }, /^Invalid torrent/],
      [{ torrent: Buffer.from('d4:infoi1ee').toString('base64') }, /^Invalid torrent/],
      [{ torrent: Buffer.from('de').toString('base64') }, /^Invalid torrent/],
      [{ torrent: '!!! not base64 !!!' }, /torrent/],
      [{ torrent: '' }, /torrent/],
      [{}, /torrent/],
      [{ torrent: good.base64, extra: true }, /extra|key|unrecognized/i],
      [{ torrent: good.base64, options: { dir: '/etc' } }, /options|dir/],
    ];
    for (const [payload, detail] of cases) {
      const res = await alice.post('/api/tasks/torrent', payload);
      expect(res.statusCode, `${JSON.stringify(payload).slice(0, 60)} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toMatch(detail);
    }
    const multipartCases = [
      multipart({ field: 'torrent', name: 'bad.torrent', data: Buffer.from('garbage') }),
      multipart({ field: 'file', name: 'x.torrent', data: good.torrent }),
      multipart(null, { note: 'no file' }),
      multipart({ field: 'torrent', name: 'x.torrent', data: good.torrent }, { options: '{not json' }),
      multipart({ field: 'torrent', name: 'x.torrent', data: good.torrent }, { options: '{"dir":"/etc"}' }),
    ];
    for (const body of multipartCases) {
      const res = await alice.request({ method: 'POST', url: '/api/tasks/torrent', ...body });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().detail).toEqual(expect.any(String));
    }
    // A malformed form is bad input too, never a 500.
    for (const [type, raw] of [
      ['multipart/form-data', 'no boundary'],
      ['multipart/form-data; boundary=XX', 'garbage'],
      [
        'multipart/form-data; boundary=XX',
        '--XX\r\nContent-Disposition: form-data; name="torrent"; filename="a"\r\n\r\ncut',
      ],
    ]) {
      const res = await alice.request({
        method: 'POST',
        url: '/api/tasks/torrent',
        headers: { 'content-type': type! },
        payload: raw!,
      });
      expect(res.statusCode, `${type} ${raw} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toMatch(/^Invalid body/);
    }
    expect((await alice.get('/api/tasks?limit=1')).json().total).toBe(before);
  });

  it('a torrent over the maximum task size or the quota is 403 with the sizes', async () => {
    const t = seeded('sized.bin', patternBytes(0, 3 * MiB));
    await setConfig({ max_task_size: 1 * MiB });
    try {
      const res = await alice.post('/api/tasks/torrent', { torrent: t.base64 });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ detail: 'File size 0.00 GB exceeds limit 0.00 GB' });
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
    const small = as(c, (await c.createUser('small', { quota: 2 * MiB })).cookie);
    const res = await small.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(res.statusCode).toBe(403);
    expect(res.json().detail).toMatch(/^File size \d+\.\d\d GB exceeds your available space \d+\.\d\d GB$/);
    expect((await small.get('/api/tasks')).json().total).toBe(0);
  });

  it('a torrent file over 16 MiB is 413, as JSON or multipart', async () => {
    const big = Buffer.alloc(16 * MiB + 1, 0x61);
    const json = await alice.post('/api/tasks/torrent', { torrent: big.toString('base64') });
    expect(json.statusCode, json.body.slice(0, 200)).toBe(413);
    expect(json.json().detail).toEqual(expect.any(String));
    const body = multipart({ field: 'torrent', name: 'big.torrent', data: big });
    const form = await alice.request({ method: 'POST', url: '/api/tasks/torrent', ...body });
    expect(form.statusCode, form.body.slice(0, 200)).toBe(413);
    expect(form.json().detail).toEqual(expect.any(String));
  });

  it('without a session is 401', async () => {
    const res = await as(c).post('/api/tasks/torrent', { torrent: 'AAAA' });
    expect(res.statusCode).toBe(401);
  });
});

describe('The size re-check once aria2 learns the size', () => {
  it('a server that refuses HEAD: the download over the maximum size is cancelled', async () => {
    await setConfig({ max_task_size: 1 * GiB });
    try {
      server.addFile('/size/nohead.iso', { size: 3 * GiB }, { headStatus: 405, throttle: 64 * 1024 });
      const t = await alice.add(server.url('/size/nohead.iso'));
      const failed = await alice.waitTask(t.id, (x) => x.status === 'error', 'the cancel');
      expect(failed.error).toBe('Cancelled: size 3.00 GB exceeds limit 1.00 GB');
      expect(failed.download_speed).toBe(0);
      await waitFor(
        async () => (await c.aria2.tellActive(['gid'])).every((s) => s.gid !== t.gid),
        10_000,
        'aria2 to stop it',
      );
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });

  it("a server that refuses HEAD: the download over the user's quota is cancelled", async () => {
    const user = as(c, (await c.createUser('quota2', { quota: 2 * GiB })).cookie);
    server.addFile('/size/quota.iso', { size: 3 * GiB }, { headStatus: 405, throttle: 64 * 1024 });
    const t = await user.add(server.url('/size/quota.iso'));
    const failed = await user.waitTask(t.id, (x) => x.status === 'error', 'the cancel');
    expect(failed.error).toBe('Cancelled: size 3.00 GB exceeds your available space 2.00 GB');
  });

  it('a server that sends no length at all: the download is cancelled once it grows over the maximum', async () => {
    await setConfig({ max_task_size: 256 * 1024 });
    try {
      server.addFile('/size/chunked.bin', { size: 64 * MiB }, { contentLength: false, throttle: 512 * 1024 });
      const t = await alice.add(server.url('/size/chunked.bin'));
      const failed = await alice.waitTask(t.id, (x) => x.status === 'error', 'the cancel', 30_000);
      expect(failed.error).toMatch(/^Cancelled: size \d+\.\d\d GB exceeds limit 0\.00 GB$/);
      await waitFor(
        async () => (await c.aria2.tellActive(['gid'])).every((s) => s.gid !== t.gid),
        10_000,
        'aria2 to stop it',
      );
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });

  it('a .torrent URL whose content is over the maximum size is cancelled after the follow', async () => {
    const data = patternBytes(0, 2 * MiB);
    const t = seeded('toolarge.bin', data, { throttle: 64 * 1024 });
    server.addFile('/t/toolarge.torrent', t.torrent, { contentType: 'application/x-bittorrent' });
    await setConfig({ max_task_size: 1 * MiB });
    try {
      const created = await alice.add(server.url('/t/toolarge.torrent'));
      const failed = await alice.waitTask(created.id, (x) => x.status === 'error', 'the cancel');
      expect(failed.error).toMatch(/^Cancelled: size \d+\.\d\d GB exceeds limit \d+\.\d\d GB$/);
      expect(failed.name).toBe('toolarge.bin');
      await waitFor(
        async () => (await c.aria2.tellActive(['gid'])).every((s) => s.gid !== failed.gid),
        10_000,
        'aria2 to stop it',
      );
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });
});
