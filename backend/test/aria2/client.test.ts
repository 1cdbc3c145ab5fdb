/**
 * The aria2 gateway (Aria2Client) against a real aria2c and a local HTTP file server, plus a fake
 * WebSocket server for the faults a real aria2 cannot produce on demand (no answer, a dropped call).
 */
import fs from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Aria2Client, type Aria2Notification } from '../../src/aria2/client.js';
import { Aria2Error } from '../../src/aria2/errors.js';
import { parseTorrent } from '../../src/domain/torrent.js';
import { startTestAria2, type TestAria2, waitFor } from '../helpers/aria2.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { makeMultiFileTorrent, makeTorrent } from '../helpers/torrent.js';

const SLOW_SIZE = 4 * 1024 * 1024;
const SLOW_RATE = 64 * 1024; // ~64 s for the whole file: it stays active for the length of a test

interface Recorder {
  events: string[];
  notes: Aria2Notification[];
  notesFor(gid: string): string[];
}

function record(client: Aria2Client): Recorder {
  const events: string[] = [];
  const notes: Aria2Notification[] = [];
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', (reason) => events.push(`disconnected: ${reason}`));
  client.on('notification', (n) => notes.push(n));
  return { events, notes, notesFor: (gid) => notes.filter((n) => n.gid === gid).map((n) => n.method) };
}

async function rejection(promise: Promise<unknown>): Promise<Aria2Error> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(Aria2Error);
    return err as Aria2Error;
  }
  throw new Error('expected the call to fail');
}

describe('Aria2Client with a real aria2c', () => {
  let aria2: TestAria2;
  let server: FileServer;
  let client: Aria2Client;
  let rec: Recorder;
  let slowCount = 0;

  beforeAll(async () => {
    server = await startFileServer();
    // One download at a time, so "active" and "waiting" are deterministic.
    aria2 = await startTestAria2({ session: true, extraArgs: ['--max-concurrent-downloads=1'] });
    // The http:// form of ARIA2_RPC_URL: the client speaks WebSocket to it anyway.
    client = new Aria2Client({ url: aria2.httpUrl, secret: aria2.secret });
    rec = record(client);
    await client.start();
  });

  afterEach(async () => {
    // Back to an empty aria2 between tests.
    const current = [
      ...(await aria2.rpc<{ gid: string }[]>('aria2.tellActive', [['gid']])),
      ...(await aria2.rpc<{ gid: string }[]>('aria2.tellWaiting', [0, 1000, ['gid']])),
    ];
    for (const { gid } of current) await aria2.rpc('aria2.forceRemove', [gid]).catch(() => undefined);
    await waitFor(
      async () =>
        (await aria2.rpc<unknown[]>('aria2.tellActive', [['gid']])).length === 0 &&
        (await aria2.rpc<unknown[]>('aria2.tellWaiting', [0, 1000, ['gid']])).length === 0,
      15_000,
      'aria2 to be idle',
    );
    await aria2.rpc('aria2.purgeDownloadResult');
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await aria2?.stop();
  });

  const statusOf = async (gid: string) => (await client.tellStatus(gid, ['status'])).status;
  const until = (gid: string, status: string) =>
    waitFor(async () => (await statusOf(gid)) === status, 20_000, `${gid} to be ${status}`);

  /** A small file, downloaded to completion. */
  async function completed(name = 'small.bin', size = 100_000) {
    const content = patternBytes(0, size);
    server.addFile(`/${name}`, content);
    const gid = await client.addUri([server.url(`/${name}`)]);
    await until(gid, 'complete');
    return { gid, content, file: path.join(aria2.dir, name) };
  }

  /** A throttled download that stays unfinished (queued behind others when the slot is taken). */
  async function slow(): Promise<string> {
    const name = `/slow-${++slowCount}.bin`;
    server.addFile(name, { size: SLOW_SIZE }, { throttle: SLOW_RATE });
    return client.addUri([server.url(name)]);
  }

  it('connects (http:// URL turned into WebSocket) and knows the version', async () => {
    expect(client.connected).toBe(true);
    const raw = await aria2.rpc<{ version: string }>('aria2.getVersion');
    expect(client.version).toBe(raw.version);
    const v = await client.getVersion();
    expect(v.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(v.enabledFeatures).toContain('BitTorrent');
    // A second start() on a connected client resolves at once (it used to wait forever).
    await expect(client.start()).resolves.toBeUndefined();
    expect(rec.events).toEqual(['connected']);
  });

  it('addUri, then tellStatus with and without a key set, numbers parsed as numbers', async () => {
    const content = patternBytes(0, 123_456);
    server.addFile('/status.bin', content);
    const dir = path.join(aria2.dir, 'status-test');
    const gid = await client.addUri([server.url('/status.bin')], { dir, out: 'renamed.bin' });
    expect(gid).toMatch(/^[0-9a-f]{16}$/);
    await until(gid, 'complete');

    const some = await client.tellStatus(gid, ['gid', 'status', 'totalLength', 'completedLength']);
    expect(some).toMatchObject({ gid, status: 'complete', totalLength: 123_456, completedLength: 123_456 });
    expect(some.dir).toBeUndefined(); // not asked for
    expect(some.files).toEqual([]);

    const all = await client.tellStatus(gid);
    expect(all.dir).toBe(dir);
    expect(all.totalLength).toBe(123_456);
    expect(typeof all.downloadSpeed).toBe('number');
    expect(typeof all.numPieces).toBe('number');
    expect(all.numPieces).toBeGreaterThan(0);
    expect(all.files).toEqual([
      expect.objectContaining({
        index: 1,
        path: path.join(dir, 'renamed.bin'),
        length: 123_456,
        completedLength: 123_456,
        selected: true,
      }),
    ]);
    expect(fs.readFileSync(path.join(dir, 'renamed.bin')).equals(content)).toBe(true);
  });

  it('tellActive, tellWaiting and tellStopped list the right downloads with numbers', async () => {
    const done = await completed();
    const active = await slow();
    const waiting = await slow();

    const activeList = await waitFor(
      async () => {
        const list = await client.tellActive(['gid', 'status', 'totalLength', 'completedLength']);
        return list[0]?.totalLength === SLOW_SIZE ? list : null;
      },
      20_000,
      'the slow download to know its size',
    );
    expect(activeList).toHaveLength(1);
    expect(activeList[0]).toMatchObject({ gid: active, status: 'active', totalLength: SLOW_SIZE });
    expect(typeof activeList[0]!.completedLength).toBe('number');

    const waitingList = await client.tellWaiting(0, 10, ['gid', 'status']);
    expect(waitingList.map((s) => [s.gid, s.status])).toEqual([[waiting, 'waiting']]);

    const stopped = await client.tellStopped(0, 10, ['gid', 'status', 'completedLength']);
    expect(stopped.map((s) => [s.gid, s.status, s.completedLength])).toEqual([
      [done.gid, 'complete', 100_000],
    ]);
  });

  it('pause and unpause', async () => {
    const gid = await slow();
    await until(gid, 'active');
    expect(await client.pause(gid)).toBe(gid);
    await until(gid, 'paused');
    expect(await client.unpause(gid)).toBe(gid);
    await waitFor(async () => ['waiting', 'active'].includes(await statusOf(gid)), 20_000, 'unpaused');
  });

  it('changePosition moves a waiting download and answers its new position', async () => {
    await slow();
    const [w1, w2, w3] = [await slow(), await slow(), await slow()];
    const order = async () => (await client.tellWaiting(0, 10, ['gid'])).map((s) => s.gid);
    expect(await order()).toEqual([w1, w2, w3]);
    expect(await client.changePosition(w3!, 0, 'POS_SET')).toBe(0);
    expect(await order()).toEqual([w3, w1, w2]);
    expect(await client.changePosition(w3!, 1, 'POS_CUR')).toBe(1);
    expect(await order()).toEqual([w1, w3, w2]);
    expect(await client.changePosition(w1!, 0, 'POS_END')).toBe(2);
    expect(await order()).toEqual([w3, w2, w1]);
  });

  it('forceRemove works on current downloads, removeDownloadResult on stopped ones', async () => {
    const gid = await slow();
    await until(gid, 'active');
    const early = await rejection(client.removeDownloadResult(gid));
    expect(early.method).toBe('aria2.removeDownloadResult');

    expect(await client.forceRemove(gid)).toBe(gid);
    await until(gid, 'removed');
    const again = await rejection(client.forceRemove(gid));
    expect(again.method).toBe('aria2.forceRemove');

    expect(await client.removeDownloadResult(gid)).toBe('OK');
    const gone = await rejection(client.tellStatus(gid));
    expect(gone.method).toBe('aria2.tellStatus');
    expect(gone.code).toBe(1);
    expect(gone.message).toBe(`aria2 aria2.tellStatus failed: GID ${gid} is not found`);
  });

  it('getFiles gives typed files', async () => {
    const { gid, file } = await completed('files.bin', 54_321);
    const files = await client.getFiles(gid);
    expect(files).toEqual([
      {
        index: 1,
        path: file,
        length: 54_321,
        completedLength: 54_321,
        selected: true,
        uris: expect.arrayContaining([expect.objectContaining({ uri: server.url('/files.bin') })]),
      },
    ]);
    expect(files[0]!.uris.every((u) => u.uri === server.url('/files.bin'))).toBe(true);
  });

  it('getGlobalStat counts active, waiting and stopped downloads as numbers', async () => {
    await completed();
    const active = await slow();
    await slow();
    await until(active, 'active');
    const stat = await client.getGlobalStat();
    expect(stat).toMatchObject({ numActive: 1, numWaiting: 1, numStopped: 1 });
    expect(typeof stat.downloadSpeed).toBe('number');
    expect(typeof stat.uploadSpeed).toBe('number');
  });

  it('getSessionInfo gives the session id', async () => {
    const info = await client.getSessionInfo();
    expect(info.sessionId).toMatch(/^[0-9a-f]{40}$/);
    expect(info).toEqual(await aria2.rpc('aria2.getSessionInfo'));
  });

  it('changeGlobalOption changes a global option', async () => {
    expect(await client.changeGlobalOption({ 'max-overall-download-limit': '1M' })).toBe('OK');
    const options = await aria2.rpc<Record<string, string>>('aria2.getGlobalOption');
    expect(options['max-overall-download-limit']).toBe('1048576');
    expect(await client.changeGlobalOption({ 'max-overall-download-limit': '0' })).toBe('OK');
    expect(
      (await aria2.rpc<Record<string, string>>('aria2.getGlobalOption'))['max-overall-download-limit'],
    ).toBe('0');
  });

  it('saveSession writes unfinished downloads to the session file', async () => {
    const gid = await slow();
    expect(await client.saveSession()).toBe('OK');
    const session = fs.readFileSync(aria2.sessionFile!, 'utf8');
    expect(session).toContain(server.url(`/slow-${slowCount}.bin`));
    expect(session).toContain(`gid=${gid}`);
  });

  it('addTorrent downloads a torrent from its web seed; aria2 agrees with parseTorrent on the info hash', async () => {
    const content = patternBytes(0, 200_000);
    server.addFile('/seed/movie.bin', content);
    const t = makeTorrent({ name: 'movie.bin', content, webSeedUrl: server.url('/seed/movie.bin') });
    const dir = path.join(aria2.dir, 'torrent-test');
    const gid = await client.addTorrent(t.base64, [], { dir });
    await until(gid, 'complete');
    const s = await client.tellStatus(gid, ['infoHash', 'bittorrent', 'totalLength']);
    expect(s.infoHash).toBe(t.infoHash);
    expect(s.infoHash).toBe(parseTorrent(t.torrent).infoHash);
    expect(s.bittorrent?.info?.name).toBe('movie.bin');
    expect(s.totalLength).toBe(200_000);
    expect(fs.readFileSync(path.join(dir, 'movie.bin')).equals(content)).toBe(true);
    await waitFor(
      () => rec.notesFor(gid).includes('aria2.onBtDownloadComplete'),
      10_000,
      'onBtDownloadComplete',
    );
  });

  it('addTorrent of a multi-file torrent fetches each file from the web seed folder', async () => {
    const t = makeMultiFileTorrent({
      name: 'album',
      files: [
        { path: 'cd1/track 1.flac', content: patternBytes(0, 50_000) },
        { path: 'cover.jpg', content: patternBytes(7, 30_007) },
      ],
      webSeedUrl: server.url('/mseed/'),
    });
    for (const f of t.files) server.addFile(`/mseed/${f.seedPath}`, f.content);
    const dir = path.join(aria2.dir, 'multi-torrent-test');
    const gid = await client.addTorrent(t.base64, [], { dir });
    await until(gid, 'complete');
    expect((await client.tellStatus(gid, ['infoHash'])).infoHash).toBe(t.infoHash);
    const files = await client.getFiles(gid);
    expect(files.map((f) => [f.path, f.length])).toEqual(
      t.files.map((f) => [path.join(dir, f.path), f.content.length]),
    );
    for (const f of t.files) expect(fs.readFileSync(path.join(dir, f.path)).equals(f.content)).toBe(true);
  });

  it('multicall: each call succeeds or fails on its own', async () => {
    const { gid } = await completed();
    const results = await client.multicall([
      { method: 'aria2.getVersion' },
      { method: 'aria2.tellStatus', params: ['ffffffffffffffff'] },
      { method: 'aria2.tellStatus', params: [gid, ['status']] },
      { method: 'aria2.getGlobalStat' },
    ]);
    expect(results).toHaveLength(4);
    expect(results[0]).toEqual({ ok: true, value: expect.objectContaining({ version: client.version }) });
    const failed = results[1]!;
    expect(failed.ok).toBe(false);
    if (failed.ok) return;
    expect(failed.error).toBeInstanceOf(Aria2Error);
    expect(failed.error.method).toBe('aria2.tellStatus');
    expect(failed.error.code).toBe(1);
    expect(failed.error.message).toMatch(/GID ffffffffffffffff is not found/);
    expect(results[2]).toEqual({ ok: true, value: { status: 'complete' } });
    expect(results[3]).toEqual({ ok: true, value: expect.objectContaining({ numStopped: '1' }) });
    expect(await client.multicall([])).toEqual([]);
  });

  it('a failed call is an Aria2Error naming the method', async () => {
    const err = await rejection(client.call('aria2.noSuchMethod'));
    expect(err.method).toBe('aria2.noSuchMethod');
    expect(err.message).toMatch(/^aria2 aria2\.noSuchMethod failed: /);
    const status = await rejection(client.tellStatus('0123456789abcdef'));
    expect(status.message).toBe('aria2 aria2.tellStatus failed: GID 0123456789abcdef is not found');
  });

  it('notifies onDownloadStart then onDownloadComplete for a real download', async () => {
    const { gid } = await completed('notified.bin');
    await waitFor(() => rec.notesFor(gid).includes('aria2.onDownloadComplete'), 10_000, 'onDownloadComplete');
    expect(rec.notesFor(gid)).toEqual(['aria2.onDownloadStart', 'aria2.onDownloadComplete']);
  });

  it('notifies onDownloadError for a 404', async () => {
    server.addFile('/missing.bin', Buffer.from('x'), { status: 404 });
    const gid = await client.addUri([server.url('/missing.bin')]);
    await waitFor(() => rec.notesFor(gid).includes('aria2.onDownloadError'), 20_000, 'onDownloadError');
    expect(rec.notesFor(gid)).toEqual(['aria2.onDownloadStart', 'aria2.onDownloadError']);
    const s = await client.tellStatus(gid, ['status', 'errorCode', 'errorMessage']);
    expect(s).toMatchObject({ status: 'error', errorCode: '3', errorMessage: 'Resource not found' });
  });

  it('notifies onDownloadPause and onDownloadStop', async () => {
    const paused = await slow();
    const stopped = await slow();
    await until(paused, 'active');
    await client.pause(paused);
    await waitFor(() => rec.notesFor(paused).includes('aria2.onDownloadPause'), 10_000, 'onDownloadPause');
    // The freed slot goes to the next download, which is then stopped while it runs.
    await until(stopped, 'active');
    await client.forceRemove(stopped);
    await waitFor(() => rec.notesFor(stopped).includes('aria2.onDownloadStop'), 10_000, 'onDownloadStop');
    expect(rec.notesFor(paused)).toEqual(['aria2.onDownloadStart', 'aria2.onDownloadPause']);
    expect(rec.notesFor(stopped)).toEqual(['aria2.onDownloadStart', 'aria2.onDownloadStop']);
  });

  it('with a wrong secret: disconnected naming aria2.getVersion, never connected', async () => {
    const wrong = new Aria2Client({
      url: aria2.url,
      secret: 'wrong-secret',
      minBackoffMs: 50,
      maxBackoffMs: 200,
    });
    const r = record(wrong);
    try {
      void wrong.start();
      await waitFor(() => r.events.length > 0, 15_000, 'the handshake to fail');
      expect(r.events[0]).toBe('disconnected: aria2 aria2.getVersion failed: Unauthorized');
      expect(wrong.connected).toBe(false);
      expect(wrong.version).toBeNull();
      const call = await rejection(wrong.getSessionInfo());
      expect(call.method).toBe('aria2.getSessionInfo');
    } finally {
      await wrong.close();
    }
    expect(r.events).not.toContain('connected');
  });
});

describe('Aria2Client when aria2 is killed and restarted', () => {
  let aria2: TestAria2;
  let client: Aria2Client;

  beforeAll(async () => {
    aria2 = await startTestAria2();
  });
  afterAll(async () => {
    await client?.close();
    await aria2?.stop();
  });

  it('emits disconnected, fails calls fast while away, then reconnects by itself', async () => {
    // A long call timeout: a call that hung would fail with the timeout message, not "not connected".
    client = new Aria2Client({
      url: aria2.url,
      secret: aria2.secret,
      timeoutMs: 30_000,
      minBackoffMs: 50,
      maxBackoffMs: 500,
    });
    const r = record(client);
    await client.start();
    const before = (await client.getSessionInfo()).sessionId;

    await aria2.kill('SIGKILL');
    await waitFor(() => r.events.includes('disconnected: connection closed'), 10_000, 'disconnected');
    expect(client.connected).toBe(false);
    const away = await rejection(client.getVersion());
    expect(away.method).toBe('aria2.getVersion');
    expect(away.reason).toBe('aria2 is not connected');

    await aria2.restart();
    await waitFor(() => client.connected, 15_000, 'the client to reconnect');
    expect(r.events[0]).toBe('connected');
    expect(r.events.at(-1)).toBe('connected');
    expect(r.events.filter((e) => e === 'connected')).toHaveLength(2);
    const after = (await client.getSessionInfo()).sessionId;
    expect(after).not.toBe(before);
    expect((await client.getVersion()).version).toBe(client.version);
  });
});

/** A WebSocket server standing in for aria2; `answer` returns the result, or undefined to stay silent. */
async function startFakeAria2(
  answer: (msg: { id: number; method: string; params: unknown[] }, socket: WebSocket) => unknown,
  options: { holdUpgrade?: Promise<void> } = {},
) {
  const received: { id: number; method: string; params: unknown[] }[] = [];
  /** The TCP sockets of the upgrade requests seen, answered or held. */
  const upgrades: Socket[] = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) => {
      upgrades.push(info.req.socket);
      if (options.holdUpgrade) void options.holdUpgrade.then(() => done(true));
      else done(true);
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  wss.on('connection', (socket) => {
    socket.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      received.push(msg);
      const result = answer(msg, socket);
      if (result !== undefined && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      }
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/jsonrpc`,
    received,
    upgrades,
    wss,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

const VERSION = { version: '1.36.0', enabledFeatures: [] };

describe('Aria2Client against a fake aria2 (faults on demand)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(
    answer: Parameters<typeof startFakeAria2>[0],
    clientOptions: Partial<ConstructorParameters<typeof Aria2Client>[0]> = {},
    serverOptions: Parameters<typeof startFakeAria2>[1] = {},
  ) {
    const fake = await startFakeAria2(answer, serverOptions);
    cleanups.push(fake.close);
    const client = new Aria2Client({
      url: fake.url,
      secret: 's3cret',
      minBackoffMs: 50,
      maxBackoffMs: 200,
      ...clientOptions,
    });
    cleanups.push(() => client.close());
    return { fake, client, rec: record(client) };
  }

  it('a call with no answer fails with an Aria2Error naming the timeout; the connection stays', async () => {
    const { client } = await setUp((msg) => (msg.method === 'aria2.getVersion' ? VERSION : undefined), {
      timeoutMs: 300,
    });
    await client.start();
    const err = await rejection(client.call('aria2.tellActive'));
    expect(err.method).toBe('aria2.tellActive');
    expect(err.message).toBe('aria2 aria2.tellActive failed: no answer from aria2 within 300 ms');
    expect(client.connected).toBe(true);
  });

  it('a server that never answers the handshake is never reported connected', async () => {
    const { client, rec } = await setUp(() => undefined, { timeoutMs: 200 });
    void client.start();
    await waitFor(() => rec.events.length > 0, 10_000, 'the handshake to time out');
    expect(rec.events[0]).toBe(
      'disconnected: aria2 aria2.getVersion failed: no answer from aria2 within 200 ms',
    );
    expect(client.connected).toBe(false);
    expect(rec.events).not.toContain('connected');
  });

  it('a call in flight when the connection drops fails at once, not at its timeout', async () => {
    const { client } = await setUp(
      (msg, socket) => {
        if (msg.method === 'aria2.getVersion') return VERSION;
        socket.terminate();
        return undefined;
      },
      { timeoutMs: 30_000 },
    );
    await client.start();
    const err = await rejection(client.tellActive());
    expect(err.method).toBe('aria2.tellActive');
    expect(err.reason).toBe('connection to aria2 closed');
  });

  it('the token goes first in every call, and inside each call of a multicall but not around it', async () => {
    const { client, fake } = await setUp((msg) => {
      if (msg.method === 'aria2.getVersion') return VERSION;
      if (msg.method === 'system.multicall') return [['OK'], { code: 1, message: 'GID x is not found' }];
      return 'OK';
    });
    await client.start();
    await client.pause('abc');
    const results = await client.multicall([
      { method: 'aria2.saveSession' },
      { method: 'aria2.tellStatus', params: ['x'] },
    ]);
    expect(results[0]).toEqual({ ok: true, value: 'OK' });
    expect(results[1]?.ok).toBe(false);
    expect(fake.received.find((m) => m.method === 'aria2.pause')?.params).toEqual(['token:s3cret', 'abc']);
    expect(fake.received.find((m) => m.method === 'system.multicall')?.params).toEqual([
      [
        { methodName: 'aria2.saveSession', params: ['token:s3cret'] },
        { methodName: 'aria2.tellStatus', params: ['token:s3cret', 'x'] },
      ],
    ]);
  });

  it('close() fails pending calls and stops reconnecting', async () => {
    const { client, fake, rec } = await setUp(
      (msg) => (msg.method === 'aria2.getVersion' ? VERSION : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    await client.start();
    const pending = rejection(client.tellActive());
    await waitFor(
      () => fake.received.some((m) => m.method === 'aria2.tellActive'),
      5_000,
      'the call to arrive',
    );
    await client.close();
    const err = await pending;
    expect(err.reason).toBe('aria2 client closed');
    expect(client.connected).toBe(false);
    await waitFor(() => fake.wss.clients.size === 0, 5_000, 'the server to see the connection closed');
    expect(rec.events.filter((e) => e === 'connected')).toHaveLength(1);
  });

  it('close() during a connection attempt leaves no connection behind', async () => {
    let release!: () => void;
    const holdUpgrade = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { client, fake, rec } = await setUp(
      (msg) => (msg.method === 'aria2.getVersion' ? VERSION : undefined),
      {},
      {
        holdUpgrade,
      },
    );
    void client.start();
    await waitFor(() => fake.upgrades.length === 1, 5_000, 'the upgrade request to be held');
    await client.close();
    release();
    // Either the client ended its attempt (the server sees the socket closed), or, wrongly, the
    // upgrade completed and the client went on to the handshake.
    await waitFor(
      () => fake.received.length > 0 || fake.upgrades[0]!.destroyed,
      5_000,
      'the attempt to end or go on',
    );
    expect(fake.received).toEqual([]);
    expect(fake.wss.clients.size).toBe(0);
    expect(client.connected).toBe(false);
    expect(rec.events).not.toContain('connected');
  });
});
