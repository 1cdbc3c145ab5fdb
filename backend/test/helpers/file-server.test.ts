/** The test file server itself: every other integration test leans on what it promises. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/aria2.js';
import { type FileServer, patternBytes, refusedUrl, startFileServer } from '../helpers/file-server.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The whole response arrived (false when the server cut it off). */
  complete: boolean;
  /** Sizes of the body chunks as they arrived. */
  chunks: number[];
}

function request(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', () => undefined); // "aborted" when cut: reported through `complete`
      res.on('close', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts),
          complete: res.complete,
          chunks: parts.map((p) => p.length),
        }),
      );
    });
    req.end();
  });
}

describe('startFileServer', () => {
  let server: FileServer;
  const data = patternBytes(0, 100);

  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves a file with its length and range support; HEAD gives the same headers and no body', async () => {
    server.addFile('/plain.bin', data);
    const get = await request(server.url('/plain.bin'));
    expect(get).toMatchObject({ status: 200, complete: true });
    expect(get.body).toEqual(data);
    expect(get.headers['content-length']).toBe('100');
    expect(get.headers['accept-ranges']).toBe('bytes');
    expect(get.headers['content-type']).toBe('application/octet-stream');
    const head = await request(server.url('/plain.bin'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('100');
    expect(head.body.length).toBe(0);
    expect(server.requestsFor('/plain.bin').map((r) => [r.method, r.status])).toEqual([
      ['GET', 200],
      ['HEAD', 200],
    ]);
  });

  it.each([
    ['bytes=10-19', 10, 20],
    ['bytes=90-', 90, 100],
    ['bytes=95-500', 95, 100],
    ['bytes=-5', 95, 100],
  ])('answers Range %s with 206 and Content-Range', async (range, start, end) => {
    server.addFile('/range.bin', data);
    const res = await request(server.url('/range.bin'), { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end - 1}/100`);
    expect(res.headers['content-length']).toBe(String(end - start));
    expect(res.body).toEqual(data.subarray(start, end));
    expect(server.requestsFor('/range.bin').at(-1)?.range).toBe(range);
  });

  it('answers an unsatisfiable range with 416', async () => {
    server.addFile('/range.bin', data);
    const res = await request(server.url('/range.bin'), { headers: { Range: 'bytes=100-' } });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */100');
  });

  it('ignores Range when ranges are off', async () => {
    server.addFile('/noranges.bin', data, { ranges: false });
    const res = await request(server.url('/noranges.bin'), { headers: { Range: 'bytes=10-19' } });
    expect(res.status).toBe(200);
    expect(res.headers['accept-ranges']).toBe('none');
    expect(res.body).toEqual(data);
  });

  it('can leave out Content-Length: HEAD without it, GET chunked', async () => {
    server.addFile('/nolength.bin', data, { contentLength: false });
    const head = await request(server.url('/nolength.bin'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBeUndefined();
    const get = await request(server.url('/nolength.bin'));
    expect(get.headers['content-length']).toBeUndefined();
    expect(get.headers['transfer-encoding']).toBe('chunked');
    expect(get.body).toEqual(data);
  });

  it('generates content by offset, so ranges stitch together', async () => {
    expect(Buffer.concat([patternBytes(0, 700), patternBytes(700, 5000)]).equals(patternBytes(0, 5000))).toBe(
      true,
    );
    expect(new Set(patternBytes(0, 4096)).size).toBeGreaterThan(200); // not a constant fill
    server.addFile('/generated.bin', { size: 300_000 });
    expect(server.content('/generated.bin').equals(patternBytes(0, 300_000))).toBe(true);
    const res = await request(server.url('/generated.bin'), { headers: { Range: 'bytes=123456-' } });
    expect(res.body.equals(patternBytes(123_456, 300_000))).toBe(true);
    const head = await request(server.url('/huge.bin'), { method: 'HEAD' });
    expect(head.status).toBe(404);
    server.addFile('/huge.bin', { size: 20 * 1024 ** 3 });
    expect((await request(server.url('/huge.bin'), { method: 'HEAD' })).headers['content-length']).toBe(
      String(20 * 1024 ** 3),
    );
  });

  it('answers a status override until it is cleared; headStatus only for HEAD', async () => {
    server.addFile('/flaky.bin', data, { status: 404 });
    expect((await request(server.url('/flaky.bin'))).status).toBe(404);
    server.update('/flaky.bin', { status: 503 });
    expect((await request(server.url('/flaky.bin'))).status).toBe(503);
    server.update('/flaky.bin', { status: undefined, headStatus: 405 });
    expect((await request(server.url('/flaky.bin'), { method: 'HEAD' })).status).toBe(405);
    const get = await request(server.url('/flaky.bin'));
    expect(get.status).toBe(200);
    expect(get.body).toEqual(data);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    expect((await request(server.url('/nothing-here'))).status).toBe(404);
    server.addFile('/post.bin', data);
    expect((await request(server.url('/post.bin'), { method: 'POST' })).status).toBe(405);
  });

  it('requires basic auth when asked, and logs the Authorization header', async () => {
    server.addFile('/private.bin', data, { auth: 'user:p@ss' });
    const none = await request(server.url('/private.bin'));
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="test"');
    const wrong = `Basic ${Buffer.from('user:nope').toString('base64')}`;
    expect((await request(server.url('/private.bin'), { headers: { Authorization: wrong } })).status).toBe(
      401,
    );
    const right = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    const ok = await request(server.url('/private.bin'), { headers: { Authorization: right } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(data);
    expect(server.requestsFor('/private.bin').map((r) => r.authorization)).toEqual([undefined, wrong, right]);
  });

  it('builds URLs with encoded paths and credentials', async () => {
    expect(server.url('/a b/ü.bin')).toBe(`${server.origin}/a%20b/%C3%BC.bin`);
    expect(server.url('/x.bin', 'user:p@ss:word')).toBe(
      `http://user:p%40ss%3Aword@127.0.0.1:${server.port}/x.bin`,
    );
    server.addFile('/a b/ü.bin', data);
    expect((await request(server.url('/a b/ü.bin'))).body).toEqual(data);
    expect(() => server.url('relative')).toThrow();
  });

  it('redirects when asked', async () => {
    server.addFile('/old.bin', data, { redirect: '/plain.bin' });
    const res = await request(server.url('/old.bin'));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/plain.bin');
  });

  it('cuts the connection after cutAfter body bytes, counted from the range start', async () => {
    server.addFile('/cut.bin', { size: 200_000 }, { cutAfter: 70_000 });
    const res = await request(server.url('/cut.bin'));
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBe(70_000);
    expect(res.body.equals(patternBytes(0, 70_000))).toBe(true);
    const ranged = await request(server.url('/cut.bin'), { headers: { Range: 'bytes=100000-' } });
    expect(ranged.status).toBe(206);
    expect(ranged.complete).toBe(false);
    expect(ranged.body.length).toBe(70_000);
    expect(ranged.body.equals(patternBytes(100_000, 170_000))).toBe(true);
    server.update('/cut.bin', { cutAfter: undefined });
    const whole = await request(server.url('/cut.bin'));
    expect(whole.complete).toBe(true);
    expect(whole.body.equals(patternBytes(0, 200_000))).toBe(true);
  });

  it('throttles in small slices, and lifting the throttle speeds up a response in flight', async () => {
    server.addFile('/slow.bin', { size: 1_000_000 }, { throttle: 10_000 });
    const pending = request(server.url('/slow.bin'));
    await waitFor(() => (server.requestsFor('/slow.bin')[0]?.bytesSent ?? 0) >= 1_000, 10_000, 'two slices');
    server.update('/slow.bin', { throttle: undefined });
    const res = await pending;
    expect(res.complete).toBe(true);
    expect(res.body.equals(patternBytes(0, 1_000_000))).toBe(true);
    // 10 000 B/s in 50 ms slices: the first chunks are 500 bytes.
    expect(res.chunks[0]).toBe(500);
  });

  it('close() ends hanging and throttled requests', async () => {
    const other = await startFileServer();
    other.addFile('/hang.bin', data, { hang: true });
    other.addFile('/slow.bin', { size: 10_000_000 }, { throttle: 1000 });
    const hanging = request(other.url('/hang.bin')).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const slow = request(other.url('/slow.bin'));
    await waitFor(() => other.requests.length === 2, 10_000, 'both requests to arrive');
    expect(other.requests.find((r) => r.path === '/hang.bin')?.status).toBe(0);
    await other.close();
    expect(await hanging).toMatch(/socket hang up|ECONNRESET/);
    expect((await slow).complete).toBe(false);
    await expect(request(other.url('/hang.bin'))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refusedUrl points where nothing listens', async () => {
    await expect(request(await refusedUrl())).rejects.toThrow(/ECONNREFUSED/);
  });
});
