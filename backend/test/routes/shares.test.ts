import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Share } from '../../src/contracts/shares.js';
import { sqliteFile, startTestController, type TestController } from '../helpers/controller.js';
import { patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let alice: ApiClient;
let aliceId: number;
let bob: ApiClient;
let anon: ApiClient;
let scratch: string;
const data = patternBytes(0, 50_000);

beforeAll(async () => {
  c = await startTestController();
  const a = await c.createUser('alice');
  aliceId = a.id;
  alice = as(c, a.cookie);
  bob = as(c, (await c.createUser('bob')).cookie);
  anon = as(c);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shares-unzip-'));
  fs.mkdirSync(home('Photos', 'trip'), { recursive: true });
  fs.writeFileSync(home('Photos', 'a.jpg'), patternBytes(1, 1001));
  fs.writeFileSync(home('Photos', 'trip', 'b.jpg'), patternBytes(2, 2002));
});
afterAll(async () => {
  await c?.destroy();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function home(...parts: string[]): string {
  return path.join(c.config.downloadDir, String(aliceId), ...parts);
}

let n = 0;
/** A fresh file in alice's folder and a share of it. */
async function shared(body: Record<string, unknown> = {}): Promise<Share & { name: string }> {
  const name = `file-${++n}.bin`;
  fs.writeFileSync(home(name), data);
  const res = await alice.post('/api/shares', { path: name, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return { ...(res.json() as Share), name };
}

describe('POST/GET/DELETE /api/shares', () => {
  it('creates a Share with a /s/<token> url of 256 bits; the database keeps only its hash', async () => {
    const { name: _name, ...s } = await shared({ max_downloads: 3 });
    expect(s).toEqual({
      id: expect.any(Number),
      path: _name,
      url: expect.stringMatching(/^\/s\/[A-Za-z0-9_-]{43}$/),
      expires_at: null,
      has_password: false,
      max_downloads: 3,
      downloads: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const token = s.url.slice(3);
    const row = await c.db.selectFrom('shares').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const dbFile = fs.readFileSync(sqliteFile(c.config));
    expect(dbFile.includes(Buffer.from(token))).toBe(false);
  });

  it('lists only the caller’s own shares, with the same url; another user cannot revoke them', async () => {
    const s = await shared();
    const mine = (await alice.get('/api/shares')).json() as Share[];
    const { name: _name, ...plain } = s;
    expect(mine.find((x) => x.id === s.id)).toEqual(plain);
    expect((await bob.get('/api/shares')).json()).toEqual([]);
    const foreign = await bob.del(`/api/shares/${s.id}`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ detail: 'Share not found' });
    expect((await anon.get(s.url)).statusCode).toBe(200);
    expect((await anon.get('/api/shares')).statusCode).toBe(401);
  });

  it('bad input is 422 naming the field; a missing path 404; another user’s path is not reachable', async () => {
    fs.writeFileSync(home('x.txt'), 'x');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ path: '../x.txt' }, /^Invalid path/],
      [{ path: '' }, /^Invalid path/],
      [{ path: 'x.txt', max_downloads: 0 }, /max_downloads/],
      [{ path: 'x.txt', max_downloads: 1.5 }, /max_downloads/],
      [{ path: 'x.txt', expires_at: 'tomorrow' }, /expires_at/],
      [{ path: 'x.txt', expires_at: '2000-01-01T00:00:00Z' }, /^Invalid expires_at: it is in the past/],
      [{ path: 'x.txt', password: '' }, /password/],
      [{ path: 'x.txt', extra: true }, /extra|Unrecognized/i],
    ];
    for (const [body, why] of cases) {
      const res = await alice.post('/api/shares', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().detail, JSON.stringify(body)).toMatch(why);
    }
    expect((await alice.post('/api/shares', { path: 'ghost.txt' })).statusCode).toBe(404);
    expect((await bob.post('/api/shares', { path: 'x.txt' })).statusCode).toBe(404);
    expect((await alice.get('/api/shares')).json().some((s: Share) => s.path === 'x.txt')).toBe(false);
  });
});

describe('GET /s/<token>', () => {
  it('serves the file without an account, with Range; a full download is counted, a resumed range is not', async () => {
    const s = await shared();
    const res = await anon.get(s.url);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(data)).toBe(true);
    expect(res.headers['content-disposition']).toContain(`filename="${s.name}"`);
    expect(res.headers['cache-control']).toBe('private, no-store');
    const part = await anon.request({ method: 'GET', url: s.url, headers: { range: 'bytes=10-19' } });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${data.length}`);
    expect(part.rawPayload.equals(data.subarray(10, 20))).toBe(true);
    const bad = await anon.request({ method: 'GET', url: s.url, headers: { range: 'bytes=999999-' } });
    expect(bad.statusCode).toBe(416);
    const head = await anon.request({ method: 'HEAD', url: s.url });
    expect(head.statusCode).toBe(200);
    const listed = ((await alice.get('/api/shares')).json() as Share[]).find((x) => x.id === s.id)!;
    expect(listed.downloads).toBe(1);
  });

  it('a folder downloads as a zip', async () => {
    const res = await alice.post('/api/shares', { path: 'Photos' });
    const got = await anon.get(res.json().url);
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('application/zip');
    const file = path.join(scratch, 'photos.zip');
    fs.writeFileSync(file, got.rawPayload);
    const listing = execFileSync('unzip', ['-l', file]).toString();
    expect(listing).toContain('Photos/a.jpg');
    expect(listing).toContain('Photos/trip/b.jpg');
    execFileSync('unzip', ['-q', file, '-d', path.join(scratch, 'photos')]);
    expect(
      fs.readFileSync(path.join(scratch, 'photos', 'Photos', 'trip', 'b.jpg')).equals(patternBytes(2, 2002)),
    ).toBe(true);
  });

  it('exhausted after max_downloads: 410 This link has expired', async () => {
    const s = await shared({ max_downloads: 2 });
    expect((await anon.get(s.url)).statusCode).toBe(200);
    expect((await anon.get(s.url)).statusCode).toBe(200);
    const third = await anon.get(s.url);
    expect(third.statusCode).toBe(410);
    expect(third.json()).toEqual({ detail: 'This link has expired' });
    // Parallel downloads cannot pass the count either.
    const t = await shared({ max_downloads: 3 });
    const all = await Promise.all(Array.from({ length: 8 }, () => anon.get(t.url)));
    expect(all.filter((r) => r.statusCode === 200).length).toBe(3);
    expect(all.filter((r) => r.statusCode === 410).length).toBe(5);
  });

  it('expired: 410; revoked: 410 and gone from the list', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const s = await shared({ expires_at: future });
    expect(s.expires_at).toBe(future.replace(/\.\d{3}Z$/, 'Z'));
    expect((await anon.get(s.url)).statusCode).toBe(200);
    await c.db
      .updateTable('shares')
      .set({ expires_at: '2001-01-01T00:00:00Z' })
      .where('id', '=', s.id)
      .execute();
    const expired = await anon.get(s.url);
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toEqual({ detail: 'This link has expired' });

    const r = await shared();
    expect((await alice.del(`/api/shares/${r.id}`)).statusCode).toBe(204);
    const revoked = await anon.get(r.url);
    expect(revoked.statusCode).toBe(410);
    expect(revoked.json()).toEqual({ detail: 'This link has expired' });
    expect(((await alice.get('/api/shares')).json() as Share[]).some((x) => x.id === r.id)).toBe(false);
    expect((await alice.del(`/api/shares/${r.id}`)).statusCode).toBe(404);
  });

  it('a browser asking for HTML gets a page with the sentence', async () => {
    const r = await shared();
    await alice.del(`/api/shares/${r.id}`);
    const res = await anon.request({ method: 'GET', url: r.url, headers: { accept: 'text/html,*/*' } });
    expect(res.statusCode).toBe(410);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('This link has expired');
  });

  it('unknown or malformed tokens are 404; a file gone is 404 and ends the share', async () => {
    for (const url of [
      `/s/${'A'.repeat(43)}`,
      '/s/short',
      '/s/..%2F..%2Fetc%2Fpasswd',
      `/s/${'b'.repeat(300)}`,
    ]) {
      const res = await anon.get(url);
      expect([404, 422], url).toContain(res.statusCode);
      expect(res.body).not.toContain('root:');
    }
    expect((await anon.get(`/s/${'A'.repeat(43)}`)).statusCode).toBe(404);
    const s = await shared();
    fs.rmSync(home(s.name));
    expect((await anon.get(s.url)).statusCode).toBe(404);
    const t = await shared();
    expect((await alice.del(`/api/files?path=${t.name}`)).statusCode).toBe(200);
    expect((await anon.get(t.url)).statusCode).toBe(404);
    expect(((await alice.get('/api/shares')).json() as Share[]).some((x) => x.id === t.id)).toBe(false);
  });

  it('deleting a finished task with its files ends the shares of its file', async () => {
    const server = await startFileServer();
    try {
      server.addFile('/t.bin', data);
      const added = await alice.add(server.url('/t.bin'));
      const done = await alice.waitTask(added.id, (x) => x.status === 'complete');
      const s = (await alice.post('/api/shares', { path: done.artifact_path })).json() as Share;
      expect((await anon.get(s.url)).statusCode).toBe(200);
      expect((await alice.del(`/api/tasks/${done.id}?delete_files=true`)).statusCode).toBe(204);
      expect((await anon.get(s.url)).statusCode).toBe(404);
      expect(((await alice.get('/api/shares')).json() as Share[]).some((x) => x.id === s.id)).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('moving the file (or its folder) updates the share, which keeps working', async () => {
    const s = await shared();
    fs.mkdirSync(home('Moved'), { recursive: true });
    expect((await alice.post('/api/files/move', { from: s.name, to: 'Moved/kept.bin' })).statusCode).toBe(
      200,
    );
    const listed = ((await alice.get('/api/shares')).json() as Share[]).find((x) => x.id === s.id)!;
    expect(listed.path).toBe('Moved/kept.bin');
    expect(listed.url).toBe(s.url);
    expect((await anon.get(s.url)).rawPayload.equals(data)).toBe(true);
    expect((await alice.post('/api/files/move', { from: 'Moved', to: 'Moved2' })).statusCode).toBe(200);
    expect(((await alice.get('/api/shares')).json() as Share[]).find((x) => x.id === s.id)!.path).toBe(
      'Moved2/kept.bin',
    );
    expect((await anon.get(s.url)).statusCode).toBe(200);
  });

  it('a share of a symlink that now points outside the folder is not served', async () => {
    const s = await shared();
    fs.rmSync(home(s.name));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'shares-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET');
    fs.symlinkSync(path.join(outside, 'secret.txt'), home(s.name));
    const res = await anon.get(s.url);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('TOP-SECRET');
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('answers carry the security headers', async () => {
    const s = await shared();
    const res = await anon.get(s.url);
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('A share with a password', () => {
  const cookieOf = (res: { cookies: { name: string; value: string; path?: string }[] }) =>
    res.cookies.find((k) => k.name === 'aria2_share');

  it('asks with a small page; a right password (JSON) grants this link only, by a cookie scoped to it', async () => {
    const s = await shared({ password: 'open sesame' });
    expect(s.has_password).toBe(true);
    const row = await c.db
      .selectFrom('shares')
      .select('password_hash')
      .where('id', '=', s.id)
      .executeTakeFirst();
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);

    const ask = await anon.get(s.url);
    expect(ask.statusCode).toBe(200);
    expect(ask.headers['content-type']).toMatch(/^text\/html/);
    expect(ask.body).toContain('<form method="post"');
    expect(ask.body).toContain('type="password"');
    expect(ask.rawPayload.equals(data)).toBe(false);

    const wrong = await anon.post(s.url, { password: 'nope' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toEqual({ detail: 'Wrong password' });
    expect(cookieOf(wrong)).toBeUndefined();

    const right = await anon.post(s.url, { password: 'open sesame' });
    expect(right.statusCode).toBe(204);
    const cookie = cookieOf(right)!;
    expect(cookie.path).toBe(s.url);
    const got = await anon.request({
      method: 'GET',
      url: s.url,
      headers: { cookie: `aria2_share=${cookie.value}` },
    });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(data)).toBe(true);
    const ranged = await anon.request({
      method: 'GET',
      url: s.url,
      headers: { cookie: `aria2_share=${cookie.value}`, range: 'bytes=0-9' },
    });
    expect(ranged.statusCode).toBe(206);

    // The grant is for that link: another password-protected link still asks.
    const other = await shared({ password: 'open sesame' });
    const elsewhere = await anon.request({
      method: 'GET',
      url: other.url,
      headers: { cookie: `aria2_share=${cookie.value}` },
    });
    expect(elsewhere.headers['content-type']).toMatch(/^text\/html/);
    // A forged cookie opens nothing.
    const forged = await anon.request({
      method: 'GET',
      url: s.url,
      headers: { cookie: `aria2_share=${Date.now() + 1e7}.${'A'.repeat(43)}` },
    });
    expect(forged.headers['content-type']).toMatch(/^text\/html/);
  });

  it('the page’s form posts back: 303 to the link with the cookie; a wrong one shows the page again', async () => {
    const s = await shared({ password: 'form-pass' });
    const wrong = await anon.request({
      method: 'POST',
      url: s.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'password=bad',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.headers['content-type']).toMatch(/^text\/html/);
    expect(wrong.body).toContain('Wrong password');
    const ok = await anon.request({
      method: 'POST',
      url: s.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'password=form-pass',
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe(s.url);
    expect(cookieOf(ok)).toBeDefined();
  });

  it('wrong passwords are rate-limited like sign-in: 429 with Retry-After, even for the right one', async () => {
    const s = await shared({ password: 'right-one' });
    for (let i = 0; i < 10; i++)
      expect((await anon.post(s.url, { password: `guess-${i}` })).statusCode).toBe(403);
    const limited = await anon.post(s.url, { password: 'right-one' });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(cookieOf(limited)).toBeUndefined();
  });

  it('POST on an expired or unknown link: 410 / 404; a bad body 422', async () => {
    const s = await shared({ password: 'pw', max_downloads: 1 });
    expect((await anon.post(s.url, { password: 1 })).statusCode).toBe(422);
    await alice.del(`/api/shares/${s.id}`);
    expect((await anon.post(s.url, { password: 'pw' })).statusCode).toBe(410);
    expect((await anon.post(`/s/${'Z'.repeat(43)}`, { password: 'pw' })).statusCode).toBe(404);
  });

  it('a foreign Origin cannot post a password (CSRF)', async () => {
    const s = await shared({ password: 'pw' });
    const res = await anon.request({
      method: 'POST',
      url: s.url,
      headers: { origin: 'http://evil.example' },
      payload: { password: 'pw' },
    });
    expect(res.statusCode).toBe(403);
  });
});
