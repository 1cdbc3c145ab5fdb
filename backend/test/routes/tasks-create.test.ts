import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GiB } from '../../src/config/index.js';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestController, type TestController } from '../helpers/controller.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const TASK_KEYS = [
  'artifact_path',
  'artifact_token',
  'attempt',
  'completed_length',
  'created_at',
  'download_speed',
  'error',
  'gid',
  'id',
  'name',
  'next_retry_at',
  'owner_id',
  'phase',
  'position',
  'seeding',
  'status',
  'total_length',
  'updated_at',
  'upload_speed',
  'uri',
  'waiting_reason',
];

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

async function total(client: ApiClient): Promise<number> {
  return (await client.get('/api/tasks?limit=1')).json().total;
}

async function setConfig(patch: Record<string, unknown>): Promise<void> {
  const res = await admin.put('/api/config', patch);
  expect(res.statusCode, res.body).toBe(200);
}

describe('POST /api/tasks', () => {
  it('answers 201 with the whole Task (never queued), and the download lands in <user>/ with the same bytes', async () => {
    const data = patternBytes(0, 150_000);
    server.addFile('/create/a.bin', data);
    const res = await alice.post('/api/tasks', { uri: server.url('/create/a.bin') });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json() as Task;
    expect(Object.keys(created).sort()).toEqual(TASK_KEYS);
    expect(created).toMatchObject({
      owner_id: aliceId,
      uri: server.url('/create/a.bin'),
      name: 'a.bin',
      error: null,
      artifact_path: null,
      artifact_token: null,
    });
    expect(created.gid).toMatch(/^[0-9a-f]{16}$/);
    expect(['active', 'waiting', 'complete']).toContain(created.status);
    expect(created.created_at).toMatch(ISO);
    expect(created.updated_at).toMatch(ISO);

    const done = await alice.waitTask(created.id, (t) => t.status === 'complete', 'the download to finish');
    expect(done).toMatchObject({
      name: 'a.bin',
      total_length: data.length,
      completed_length: data.length,
      download_speed: 0,
      error: null,
      artifact_path: 'a.bin',
    });
    // ≥128 bits, URL-safe.
    expect(done.artifact_token).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    const userDir = path.join(c.config.downloadDir, String(aliceId));
    expect(fs.readFileSync(path.join(userDir, 'a.bin')).equals(data)).toBe(true);
    expect(fs.existsSync(path.join(userDir, '.incomplete', 'a.bin'))).toBe(false);
    expect(fs.existsSync(path.join(userDir, '.incomplete', 'a.bin.aria2'))).toBe(false);
    // The size check sent a HEAD before aria2's GET.
    expect(server.requestsFor('/create/a.bin').map((r) => r.method)[0]).toBe('HEAD');
  });

  it('a second download of the same name finishes as name_1.ext; the first file is untouched', async () => {
    const data = patternBytes(1000, 41_000);
    server.addFile('/create/again/a.bin', data);
    const t = await alice.add(server.url('/create/again/a.bin'));
    const done = await alice.waitTask(t.id, (x) => x.status === 'complete');
    expect(done.artifact_path).toBe('a_1.bin');
    const userDir = path.join(c.config.downloadDir, String(aliceId));
    expect(fs.readFileSync(path.join(userDir, 'a_1.bin')).equals(data)).toBe(true);
    expect(fs.statSync(path.join(userDir, 'a.bin')).size).toBe(150_000);
  });

  it('passes the whitelisted options to aria2: out names the file, header and user-agent reach the server', async () => {
    const data = patternBytes(7, 20_007);
    server.addFile('/create/opts.bin', data);
    const t = await alice.add(server.url('/create/opts.bin'), {
      out: 'renamed.dat',
      header: ['X-Test-Header: yes'],
      'user-agent': 'tasks-test-agent',
      split: 2,
      'max-connection-per-server': 2,
      'max-download-limit': '10M',
      checksum: `sha-256=${(await import('node:crypto')).createHash('sha256').update(data).digest('hex')}`,
    });
    expect(t.name).toBe('renamed.dat');
    const done = await alice.waitTask(t.id, (x) => x.status === 'complete');
    expect(done.artifact_path).toBe('renamed.dat');
    expect(
      fs.readFileSync(path.join(c.config.downloadDir, String(aliceId), 'renamed.dat')).equals(data),
    ).toBe(true);
    const gets = server.requestsFor('/create/opts.bin').filter((r) => r.method === 'GET');
    expect(gets.length).toBeGreaterThan(0);
    expect(gets[0]!.headers['x-test-header']).toBe('yes');
    expect(gets[0]!.headers['user-agent']).toBe('tasks-test-agent');
  });

  it('a wrong checksum ends in error with aria2 reason; the row stays for a retry', async () => {
    server.addFile('/create/sum.bin', patternBytes(0, 5000));
    const t = await alice.add(server.url('/create/sum.bin'), { checksum: `sha-1=${'0'.repeat(40)}` });
    const failed = await alice.waitTask(t.id, (x) => x.status === 'error');
    expect(failed.error).toEqual(expect.any(String));
    expect(failed.error!.length).toBeGreaterThan(0);
    expect(failed.artifact_token).toBeNull();
  });

  it('bad bodies, unknown options, bad schemes and unsafe names are 422 naming the problem; nothing is created', async () => {
    const before = await total(alice);
    const good = server.url('/create/a.bin');
    const cases: [unknown, RegExp][] = [
      [{}, /uri/],
      [{ uri: 42 }, /uri/],
      [{ uri: '' }, /uri/],
      [{ uri: good, extra: 1 }, /extra|key|unrecognized/i],
      [{ uri: good, options: { dir: '/tmp' } }, /options|dir/],
      [{ uri: good, options: { 'on-download-complete': '/bin/sh' } }, /options/],
      [{ uri: good, options: { out: '../evil.bin' } }, /out/],
      [{ uri: good, options: { out: 'sub/evil.bin' } }, /out/],
      [{ uri: good, options: { out: '..' } }, /out/],
      [{ uri: good, options: { out: '..\\evil' } }, /out/],
      [{ uri: good, options: { split: 100 } }, /split/],
      [{ uri: good, options: { header: ['X: a\r\nInjected: b'] } }, /header/],
      [{ uri: good, options: { checksum: 'crc=1' } }, /checksum/],
      [{ uri: 'file:///etc/passwd' }, /scheme/],
      [{ uri: 'javascript:alert(1)' }, /scheme/],
      [{ uri: 'gopher://example.com/x' }, /scheme/],
      [{ uri: 'not a uri' }, /uri/],
      [{ uri: 'http://' }, /uri/],
      [{ uri: 'magnet:?dn=no-hash' }, /magnet/],
      [{ uri: `http://example.com/${'a'.repeat(16 * 1024)}` }, /uri/],
    ];
    for (const [payload, detail] of cases) {
      const res = await alice.post('/api/tasks', payload);
      expect(res.statusCode, `${JSON.stringify(payload).slice(0, 100)} -> ${res.body}`).toBe(422);
      expect(res.json().detail, JSON.stringify(payload).slice(0, 100)).toMatch(detail);
    }
    const notJson = await alice.request({
      method: 'POST',
      url: '/api/tasks',
      headers: { 'content-type': 'application/json' },
      payload: '{"uri": ',
    });
    expect(notJson.statusCode).toBe(422);
    expect(notJson.json().detail).toEqual(expect.any(String));
    expect(await total(alice)).toBe(before);
  });

  it('without a session is 401 Not authenticated', async () => {
    const res = await as(c).post('/api/tasks', { uri: server.url('/create/a.bin') });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ detail: 'Not authenticated' });
  });

  it('a magnet link is accepted (no host to guard) and named from dn', async () => {
    const hash = 'c'.repeat(40);
    const t = await alice.add(`magnet:?xt=urn:btih:${hash}&dn=Some+Movie`);
    expect(t.name).toBe('Some Movie');
    expect(['active', 'waiting']).toContain(t.status);
    const del = await alice.del(`/api/tasks/${t.id}`);
    expect(del.statusCode).toBe(204);
  });

  it('a URI with credentials: the HEAD sends them, aria2 downloads with them, every answer masks them', async () => {
    const data = patternBytes(5, 30_005);
    server.addFile('/create/secret.bin', data, { auth: 'carol:s3cr3t' });
    const uri = server.url('/create/secret.bin', 'carol:s3cr3t');
    const masked = `http://***:***@127.0.0.1:${server.port}/create/secret.bin`;
    const t = await alice.add(uri);
    expect(t.uri).toBe(masked);
    const done = await alice.waitTask(t.id, (x) => x.status === 'complete');
    expect(done.uri).toBe(masked);
    const expectedAuth = `Basic ${Buffer.from('carol:s3cr3t').toString('base64')}`;
    const reqs = server.requestsFor('/create/secret.bin');
    expect(reqs.find((r) => r.method === 'HEAD')?.authorization).toBe(expectedAuth);
    expect(reqs.some((r) => r.method === 'GET' && r.status === 200)).toBe(true);
    const list = await alice.get('/api/tasks');
    expect(list.body).not.toContain('s3cr3t');
    expect(list.body).toContain(masked);
    const detail = await alice.get(`/api/tasks/${t.id}/detail`);
    expect(detail.body).not.toContain('s3cr3t');
    expect(detail.body).not.toContain('carol');
  });

  it('a HEAD that fails or gives no length leaves the size unknown: the task is created', async () => {
    server.addFile('/create/nohead.bin', patternBytes(0, 10_000), { headStatus: 405 });
    const t = await alice.add(server.url('/create/nohead.bin'));
    await alice.waitTask(t.id, (x) => x.status === 'complete');
    server.addFile('/create/nolength.bin', patternBytes(0, 10_000), { contentLength: false });
    const u = await alice.add(server.url('/create/nolength.bin'));
    const done = await alice.waitTask(u.id, (x) => x.status === 'complete');
    expect(
      fs.readFileSync(path.join(c.config.downloadDir, String(aliceId), done.artifact_path!)).length,
    ).toBe(10_000);
  });

  it('the HEAD follows at most 5 redirects; a loop leaves the size unknown and the task is created', async () => {
    server.addFile('/create/loop', Buffer.alloc(0), { redirect: '/create/loop' });
    const res = await alice.post('/api/tasks', { uri: server.url('/create/loop') });
    expect(res.statusCode, res.body).toBe(201);
    expect(server.requestsFor('/create/loop').filter((r) => r.method === 'HEAD')).toHaveLength(6);
    const failed = await alice.waitTask(res.json().id, (x) => x.status === 'error', 'aria2 to give up');
    expect(failed.error).toEqual(expect.any(String));
  });

  it('a HEAD that never answers times out (5 s) and the task is still created', async () => {
    server.addFile('/create/hang.bin', patternBytes(0, 1000), { hang: true });
    const res = await alice.post('/api/tasks', { uri: server.url('/create/hang.bin') });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().status).not.toBe('queued');
    expect((await alice.del(`/api/tasks/${res.json().id}`)).statusCode).toBe(204);
  });
});

describe('Checks before adding (403)', () => {
  it('free disk under the minimum: Insufficient disk space, remaining X.XX GB', async () => {
    await setConfig({ min_free_disk: 1024 ** 5 });
    try {
      server.addFile('/checks/small.bin', patternBytes(0, 100));
      const before = await total(alice);
      const res = await alice.post('/api/tasks', { uri: server.url('/checks/small.bin') });
      expect(res.statusCode).toBe(403);
      const detail = res.json().detail as string;
      const m = /^Insufficient disk space, remaining (\d+\.\d\d) GB$/.exec(detail);
      expect(m, detail).not.toBeNull();
      const s = fs.statfsSync(c.config.downloadDir);
      expect(Math.abs(Number(m![1]) - (s.bavail * s.bsize) / GiB)).toBeLessThan(0.1);
      // Checked first, before any HEAD: the disk rule wins over a size that is also too big.
      server.addFile('/checks/huge-first.bin', { size: 50 * GiB });
      const both = await alice.post('/api/tasks', { uri: server.url('/checks/huge-first.bin') });
      expect(both.json().detail).toMatch(/^Insufficient disk space/);
      expect(await total(alice)).toBe(before);
    } finally {
      await setConfig({ min_free_disk: 0 });
    }
  });

  it('a HEAD size over the maximum task size: File size X.XX GB exceeds limit Y.YY GB (no GET, no row)', async () => {
    await setConfig({ max_task_size: 1 * GiB });
    try {
      server.addFile('/checks/big.iso', { size: 3 * GiB });
      const before = await total(alice);
      const res = await alice.post('/api/tasks', { uri: server.url('/checks/big.iso') });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ detail: 'File size 3.00 GB exceeds limit 1.00 GB' });
      expect(server.requestsFor('/checks/big.iso').map((r) => r.method)).toEqual(['HEAD']);
      expect(await total(alice)).toBe(before);
      // The HEAD follows redirects.
      server.addFile('/checks/to-big', Buffer.alloc(0), { redirect: '/checks/big.iso' });
      const redirected = await alice.post('/api/tasks', { uri: server.url('/checks/to-big') });
      expect(redirected.statusCode).toBe(403);
      expect(redirected.json().detail).toBe('File size 3.00 GB exceeds limit 1.00 GB');
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });

  it("a HEAD size over the user's space left: File size X.XX GB exceeds your available space Y.YY GB", async () => {
    const dave = await c.createUser('dave', { quota: 2 * GiB });
    const client = as(c, dave.cookie);
    server.addFile('/checks/three.iso', { size: 3 * GiB });
    const res = await client.post('/api/tasks', { uri: server.url('/checks/three.iso') });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: 'File size 3.00 GB exceeds your available space 2.00 GB' });
    expect(await total(client)).toBe(0);
    // The maximum task size is checked before the quota.
    await setConfig({ max_task_size: 1 * GiB });
    try {
      const both = await client.post('/api/tasks', { uri: server.url('/checks/three.iso') });
      expect(both.json()).toEqual({ detail: 'File size 3.00 GB exceeds limit 1.00 GB' });
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });

  it('a user whose quota is used up: Your storage quota is used up, whatever the size', async () => {
    const erin = await c.createUser('erin', { quota: 0 });
    const client = as(c, erin.cookie);
    server.addFile('/checks/fill.bin', patternBytes(0, 100_000));
    const t = await client.add(server.url('/checks/fill.bin'));
    await client.waitTask(t.id, (x) => x.status === 'complete');
    const stats = (await client.get('/api/stats')).json();
    expect(stats.used_space).toBe(100_000);
    // The admin lowers the quota under what the folder holds.
    const put = await admin.put(`/api/users/${erin.id}`, { quota: 50_000 });
    expect(put.statusCode, put.body).toBe(200);
    server.addFile('/checks/tiny.bin', patternBytes(0, 10));
    server.addFile('/checks/unknown.bin', patternBytes(0, 10), { headStatus: 404 });
    for (const p of ['/checks/tiny.bin', '/checks/unknown.bin']) {
      const res = await client.post('/api/tasks', { uri: server.url(p) });
      expect(res.statusCode, p).toBe(403);
      expect(res.json()).toEqual({ detail: 'Your storage quota is used up' });
    }
    const batch = await client.post('/api/tasks/batch', { uris: [server.url('/checks/tiny.bin')] });
    expect(batch.json()).toEqual({
      created: [],
      failed: [{ uri: server.url('/checks/tiny.bin'), detail: 'Your storage quota is used up' }],
    });
    expect(await total(client)).toBe(1);
  });
});

describe('POST /api/tasks/batch', () => {
  it('each URI succeeds or fails on its own; failed URIs are masked; the created ones download', async () => {
    server.addFile('/batch/one.bin', patternBytes(0, 3000));
    server.addFile('/batch/two.bin', patternBytes(3000, 7000));
    await setConfig({ max_task_size: 1 * GiB });
    try {
      server.addFile('/batch/huge.iso', { size: 2 * GiB });
      const res = await alice.post('/api/tasks/batch', {
        uris: [
          server.url('/batch/one.bin'),
          'ftp2://user:hunter2@example.com/x',
          server.url('/batch/huge.iso'),
          server.url('/batch/two.bin'),
        ],
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { created: Task[]; failed: { uri: string; detail: string }[] };
      expect(body.created.map((t) => t.name)).toEqual(['one.bin', 'two.bin']);
      expect(body.failed).toEqual([
        { uri: 'ftp2://***:***@example.com/x', detail: expect.stringMatching(/scheme/) },
        { uri: server.url('/batch/huge.iso'), detail: 'File size 2.00 GB exceeds limit 1.00 GB' },
      ]);
      expect(res.body).not.toContain('hunter2');
      for (const t of body.created) {
        expect(t.status).not.toBe('queued');
        const done = await alice.waitTask(t.id, (x) => x.status === 'complete');
        expect(done.total_length).toBe(t.name === 'one.bin' ? 3000 : 4000);
      }
    } finally {
      await setConfig({ max_task_size: 10 * GiB });
    }
  });

  it('an empty list, a non-list, or an unknown option is 422', async () => {
    for (const payload of [
      { uris: [] },
      { uris: 'x' },
      { uris: ['http://example.com/a'], options: { dir: '/' } },
    ]) {
      const res = await alice.post('/api/tasks/batch', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().detail).toMatch(/uris|options/);
    }
  });

  it('without a session is 401', async () => {
    const res = await as(c).post('/api/tasks/batch', { uris: ['http://example.com/a'] });
    expect(res.statusCode).toBe(401);
  });
});

describe('Network guard (ALLOW_PRIVATE_NETWORK=false)', () => {
  let g: TestController;
  let user: ApiClient;
  let gAdmin: ApiClient;

  beforeAll(async () => {
    g = await startTestController({ ALLOW_PRIVATE_NETWORK: 'false' });
    gAdmin = as(g, await g.adminCookie());
    user = as(g, (await g.createUser('guarded')).cookie);
  });
  afterAll(async () => {
    await g?.destroy();
  });

  it('refuses loopback, private and link-local hosts, and a hostname that resolves to loopback, with 422', async () => {
    server.addFile('/guard/a.bin', patternBytes(0, 100));
    server.clearRequests();
    const uris = [
      server.url('/guard/a.bin'),
      `http://localhost:${server.port}/guard/a.bin`,
      `http://[::1]:${server.port}/guard/a.bin`,
      'http://10.1.2.3/a.bin',
      'http://192.168.1.1/a.bin',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/a.bin',
      'ftp://127.0.0.1/a.bin',
      `http://2130706433:${server.port}/guard/a.bin`,
      `http://0x7f.1:${server.port}/guard/a.bin`,
      `http://127.1:${server.port}/guard/a.bin`,
      `http://[::ffff:127.0.0.1]:${server.port}/guard/a.bin`,
      `http://localhost.:${server.port}/guard/a.bin`,
      `http://u:p@127.0.0.1:${server.port}/guard/a.bin`,
    ];
    for (const uri of uris) {
      const res = await user.post('/api/tasks', { uri });
      expect(res.statusCode, `${uri} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toMatch(/^Invalid uri: /);
    }
    // Nothing reached the server: neither the HEAD nor aria2.
    expect(server.requestsFor('/guard/a.bin')).toEqual([]);
    expect((await user.get('/api/tasks')).json().total).toBe(0);
    const batch = await user.post('/api/tasks/batch', { uris: [server.url('/guard/a.bin')] });
    expect(batch.json().created).toEqual([]);
    expect(batch.json().failed).toHaveLength(1);
  });

  it('a magnet has no host and passes', async () => {
    const res = await user.post('/api/tasks', { uri: `magnet:?xt=urn:btih:${'d'.repeat(40)}` });
    expect(res.statusCode, res.body).toBe(201);
    expect((await user.del(`/api/tasks/${res.json().id}`)).statusCode).toBe(204);
  });

  it('allowing private networks through /api/config applies at once', async () => {
    const put = await gAdmin.put('/api/config', { allow_private_network: true });
    expect(put.json().allow_private_network).toBe(true);
    const t = await user.add(server.url('/guard/a.bin'));
    await user.waitTask(t.id, (x) => x.status === 'complete');
    await gAdmin.put('/api/config', { allow_private_network: false });
    const res = await user.post('/api/tasks', { uri: server.url('/guard/a.bin') });
    expect(res.statusCode).toBe(422);
  });
});

describe('The sync engine and a slow hand-over', () => {
  it('a download that starts and finishes while its hand-over is still being recorded still completes', async () => {
    // Fault injection: the hand-over's bookkeeping ends 500 ms late (a busy disk or database), so
    // aria2's start and complete notifications arrive while the row is still being handed over.
    const handing = c.handingOver;
    const realDelete = handing.delete.bind(handing);
    handing.delete = (id: number) => {
      setTimeout(() => realDelete(id), 500);
      return true;
    };
    try {
      server.addFile('/slowrecord/tiny.bin', patternBytes(0, 100));
      const t = await alice.add(server.url('/slowrecord/tiny.bin'));
      handing.delete = realDelete;
      const done = await alice.waitTask(
        t.id,
        (x) => x.status === 'complete',
        'the download to finish',
        10_000,
      );
      expect(done.artifact_token).toEqual(expect.any(String));
    } finally {
      handing.delete = realDelete;
    }
  });
});

describe('MIN_FREE_DISK over the free disk (the variable)', () => {
  it('refuses every add with 403 Insufficient disk space, remaining X.XX GB', async () => {
    const d = await startTestController({ MIN_FREE_DISK: String(1024 ** 5) });
    try {
      const user = as(d, (await d.createUser('diskless')).cookie);
      const sentence = /^Insufficient disk space, remaining \d+\.\d\d GB$/;
      const one = await user.post('/api/tasks', { uri: `magnet:?xt=urn:btih:${'e'.repeat(40)}` });
      expect(one.statusCode).toBe(403);
      expect(one.json().detail).toMatch(sentence);
      const batch = (await user.post('/api/tasks/batch', { uris: [server.url('/create/a.bin')] })).json();
      expect(batch.created).toEqual([]);
      expect(batch.failed[0].detail).toMatch(sentence);
      expect((await user.get('/api/tasks')).json().total).toBe(0);
    } finally {
      await d.destroy();
    }
  });
});
