/**
 * A real HTTP file server on 127.0.0.1:<free port> for integration tests: aria2c (and the
 * controller's HEAD size check) download from it, and tests steer and inspect it per path.
 *
 *   const server = await startFileServer();
 *   server.addFile('/a.bin', Buffer.from('hello'));                 // in memory
 *   server.addFile('/huge.iso', { size: 20 * 1024 ** 3 });          // generated on the fly, never held in memory
 *   server.addFile('/slow.bin', { size: 1 << 20 }, { throttle: 64 * 1024 }); // stays active for ~16 s
 *   server.addFile('/gone.bin', data, { status: 404 });            // 404 until...
 *   server.update('/gone.bin', { status: undefined });             // ...now it is served
 *   aria2.addUri([server.url('/a.bin')]);
 *   server.url('/secret.bin', 'user:pass')                         // http://user:pass@127.0.0.1:port/secret.bin
 *   server.requestsFor('/a.bin')                                   // [{ method, path, range, authorization, status, ... }]
 *   expect(fs.readFileSync(file)).toEqual(server.content('/slow.bin')) // or patternBytes(0, size)
 *   await server.close();                                          // also destroys open connections
 *
 * Per-path options (`FileOptions`, changeable at any time with `update`; `throttle` and `cutAfter`
 * also apply to responses already in flight):
 * - `status`: answer every request for the path with this status and a short text body (404, 500, ...).
 * - `headStatus`: the same for HEAD only (a server that refuses HEAD but serves GET).
 * - `ranges` (default true): `Accept-Ranges: bytes` and `206` with `Content-Range` for a single
 *   `Range: bytes=a-b | a- | -n`; `416` when unsatisfiable. false: Range is ignored (`200`, whole body,
 *   `Accept-Ranges: none`), like a server that cannot resume.
 * - `contentLength` (default true): send `Content-Length` on GET and HEAD. false: GET is chunked and
 *   HEAD carries no length (size unknown until the download ends).
 * - `throttle`: body bytes per second (sent in slices every 50 ms), so a download stays active.
 * - `cutAfter`: close the connection after this many body bytes of each GET response (counted from the
 *   start of that response's body, so from the range start of a 206), simulating a download cut off
 *   half-way. Clear it with `update(path, { cutAfter: undefined })` to let a retry finish.
 * - `auth`: `'user:pass'` for HTTP basic auth; a missing or wrong Authorization header gets `401` with
 *   `WWW-Authenticate: Basic realm="test"`.
 * - `redirect`: answer `302` with this `Location` (a path on this server or a full URL).
 * - `hang`: accept the request and never answer (until `close()`), for timeouts. `'get'`: only GET
 *   requests hang while HEAD is answered, so a download's size is known to a HEAD but never to aria2.
 * - `statusTimes`: with `status`, only the first N GET requests get it, then the file is served
 *   (a server that answers 503 twice and then serves).
 * - `contentType` (default `application/octet-stream`) and extra `headers` (e.g. `Content-Disposition`).
 * Checks run in the order hang, auth, status/headStatus, redirect, then the file is served.
 * Unknown paths are `404`. Query strings are ignored when matching (they are logged in `url`).
 *
 * Every request is logged in `server.requests` (method, decoded path, raw url, Range header,
 * Authorization header, all headers, the status answered and the body bytes sent so far), so a test
 * can assert, for example, that a retried download sent `Range: bytes=N-`.
 */
import http from 'node:http';
import type net from 'node:net';
import { freePort } from '../../src/aria2/daemon.js';

export interface FileOptions {
  status?: number;
  headStatus?: number;
  ranges?: boolean;
  contentLength?: boolean;
  throttle?: number;
  cutAfter?: number;
  auth?: string;
  redirect?: string;
  hang?: boolean | 'get';
  /** With `status`: only the first this many GETs get it (HEADs too while any remain); then it serves. */
  statusTimes?: number;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A file's bytes: a Buffer, or `{ size }` for generated content (see `patternBytes`). */
export type FileContent = Buffer | { size: number };

export interface RequestRecord {
  method: string;
  /** The decoded path, without the query string. */
  path: string;
  /** The raw request target, query string included. */
  url: string;
  range: string | undefined;
  authorization: string | undefined;
  headers: http.IncomingHttpHeaders;
  /** The status answered; 0 while a `hang` request waits. */
  status: number;
  /** Body bytes handed to the socket so far (not necessarily received by the client). */
  bytesSent: number;
}

export interface FileServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The URL of a path (segments percent-encoded); `credentials` 'user:pass' puts them in the URL. */
  url(path: string, credentials?: string): string;
  /** Adds or replaces a file; a path must start with '/'. */
  addFile(path: string, content: FileContent, options?: FileOptions): void;
  /** Changes some options of a file; a key set to undefined goes back to its default. */
  update(path: string, options: Partial<FileOptions>): void;
  removeFile(path: string): void;
  /** The file's whole content (generated content materialised: mind huge sizes), to compare with a download. */
  content(path: string): Buffer;
  readonly requests: readonly RequestRecord[];
  requestsFor(path: string): RequestRecord[];
  clearRequests(): void;
  /** Stops listening and destroys every open connection (hanging and throttled ones included). */
  close(): Promise<void>;
}

interface Entry {
  content: FileContent;
  options: FileOptions;
}

const SLICE_MS = 50;
const CHUNK = 64 * 1024;

/**
 * Deterministic bytes of a generated file: byte i depends only on i (not periodic at small sizes), so a
 * resumed download that stitches ranges together can be compared with `patternBytes(0, size)`.
 */
export function patternBytes(start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(Math.max(0, end - start));
  for (let i = start; i < end; i++) {
    // A cheap integer hash of the offset (Knuth's multiplicative), low byte.
    out[i - start] = (Math.imul(i ^ (i >>> 16), 2654435761) >>> 13) & 0xff;
  }
  return out;
}

function sizeOf(content: FileContent): number {
  return Buffer.isBuffer(content) ? content.length : content.size;
}

function slice(content: FileContent, start: number, end: number): Buffer {
  return Buffer.isBuffer(content) ? content.subarray(start, end) : patternBytes(start, end);
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/** A single byte range of `size`, 'unsatisfiable', or null when the header is absent, odd or multiple. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  if (start >= size || end <= start) return 'unsatisfiable';
  return { start, end };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the response can take more data, or is gone. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** 'user:pass' as URL userinfo, each part percent-encoded (the password may hold ':' or '@'). */
function userinfo(credentials: string): string {
  const i = credentials.indexOf(':');
  if (i < 0) return `${encodeURIComponent(credentials)}@`;
  return `${encodeURIComponent(credentials.slice(0, i))}:${encodeURIComponent(credentials.slice(i + 1))}@`;
}

/** Starts a file server on a free loopback port. */
export async function startFileServer(): Promise<FileServer> {
  const files = new Map<string, Entry>();
  const requests: RequestRecord[] = [];
  const sockets = new Set<net.Socket>();
  let closing = false;

  const entry = (path: string): Entry => {
    const e = files.get(path);
    if (!e) throw new Error(`file server: no file at ${path}`);
    return e;
  };

  async function sendBody(
    res: http.ServerResponse,
    content: FileContent,
    start: number,
    end: number,
    o: FileOptions,
    rec: RequestRecord,
  ) {
    let aborted = false;
    res.on('close', () => {
      aborted = true;
    });
    let pos = start;
    while (pos < end && !aborted && !closing) {
      // Read on every slice: `update` reaches responses in flight (lifting a throttle speeds them up).
      const sliceSize = o.throttle ? Math.max(1, Math.floor((o.throttle * SLICE_MS) / 1000)) : CHUNK;
      let n = Math.min(end - pos, sliceSize);
      if (o.cutAfter !== undefined) n = Math.min(n, o.cutAfter - rec.bytesSent);
      if (n <= 0) break;
      const ok = res.write(slice(content, pos, pos + n));
      pos += n;
      rec.bytesSent += n;
      if (!ok && !aborted) await drained(res);
      if (o.throttle && pos < end) await sleep(SLICE_MS);
    }
    if (aborted || closing) return;
    if (pos < end) {
      // Cut off: flush what was written, then end the TCP connection without completing the response.
      res.socket?.end();
      return;
    }
    res.end();
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const rawPath = rawUrl.split('?')[0] ?? '/';
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    const rec: RequestRecord = {
      method,
      path,
      url: rawUrl,
      range: req.headers.range,
      authorization: req.headers.authorization,
      headers: req.headers,
      status: 0,
      bytesSent: 0,
    };
    requests.push(rec);
    const answer = (status: number, headers: Record<string, string | number> = {}, body = '') => {
      rec.status = status;
      const text = Buffer.from(body);
      res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': text.length, ...headers });
      res.end(method === 'HEAD' ? undefined : text);
    };

    const file = files.get(path);
    if (!file) return answer(404, {}, 'Not Found');
    const o = file.options;
    if (o.hang === true || (o.hang === 'get' && method !== 'HEAD')) return;
    if (o.auth !== undefined) {
      const expected = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        return answer(401, { 'WWW-Authenticate': 'Basic realm="test"' }, 'Unauthorized');
      }
    }
    if (method === 'HEAD' && o.headStatus !== undefined)
      return answer(o.headStatus, {}, `status ${o.headStatus}`);
    if (o.status !== undefined && (o.statusTimes === undefined || o.statusTimes > 0)) {
      if (o.statusTimes !== undefined && method === 'GET') o.statusTimes--;
      return answer(o.status, {}, `status ${o.status}`);
    }
    if (o.redirect !== undefined) return answer(302, { Location: o.redirect }, 'Found');
    if (method !== 'GET' && method !== 'HEAD')
      return answer(405, { Allow: 'GET, HEAD' }, 'Method Not Allowed');

    const size = sizeOf(file.content);
    const ranges = o.ranges !== false;
    const withLength = o.contentLength !== false;
    const headers: Record<string, string | number> = {
      'Content-Type': o.contentType ?? 'application/octet-stream',
      'Accept-Ranges': ranges ? 'bytes' : 'none',
      ...o.headers,
    };
    let start = 0;
    let end = size;
    let status = 200;
    const range = ranges ? parseRange(req.headers.range, size) : null;
    if (range === 'unsatisfiable') {
      return answer(416, { 'Content-Range': `bytes */${size}` }, 'Range Not Satisfiable');
    }
    if (range) {
      ({ start, end } = range);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    if (withLength) headers['Content-Length'] = end - start;
    rec.status = status;
    res.writeHead(status, headers);
    if (method === 'HEAD') {
      res.end();
      return;
    }
    void sendBody(res, file.content, start, end, o, rec);
  }

  const server = http.createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    origin,
    url(path, credentials) {
      if (!path.startsWith('/')) throw new Error(`file server: a path starts with '/': ${path}`);
      const auth = credentials ? userinfo(credentials) : '';
      return `http://${auth}127.0.0.1:${port}${encodePath(path)}`;
    },
    addFile(path, content, options = {}) {
      if (!path.startsWith('/')) throw new Error(`file server: a path starts with '/': ${path}`);
      files.set(path, { content, options: { ...options } });
    },
    update(path, options) {
      Object.assign(entry(path).options, options);
    },
    removeFile(path) {
      files.delete(path);
    },
    content(path) {
      const { content } = entry(path);
      return slice(content, 0, sizeOf(content));
    },
    requests,
    requestsFor: (path) => requests.filter((r) => r.path === path),
    clearRequests() {
      requests.length = 0;
    },
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** A URL on a loopback port where nothing listens: a download from it fails with "connection refused". */
export async function refusedUrl(path = '/file.bin'): Promise<string> {
  return `http://127.0.0.1:${await freePort()}${path}`;
}
