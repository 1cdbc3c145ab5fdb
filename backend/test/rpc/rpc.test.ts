/**
 * The aria2-compatible `/jsonrpc`, driven by a real aria2 client from the npm registry (`aria2`) over
 * HTTP and WebSocket: every method as one user's, two users' tokens kept apart (gids, lists and
 * notifications), aria2's error shape, the quota on an add, and no server path in any answer.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Aria2 from 'aria2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RpcMethods } from '../../src/rpc/methods.js';
import { RpcServer } from '../../src/rpc/transport.js';
import { type FileServer, patternBytes } from '../helpers/file-server.js';
import { type ControllerFixture, useController } from '../helpers/fixture.js';
import { makeTorrent } from '../helpers/torrent.js';
import { waitFor } from '../helpers/wait.js';

type Status = Record<string, unknown> & { gid: string; status: string; files?: { path: string }[] };

let fx: ControllerFixture;
let server: FileServer;
let port: number;
let dataDir: string;
const tokens: Record<string, string> = {};
/** Every answer the clients got, to look for server paths in. */
const seen: unknown[] = [];

function client(name: string, secret = tokens[name]): Aria2 {
  const a = new Aria2({ host: '127.0.0.1', port, secret, path: '/jsonrpc' });
  a.on('input', (m: unknown) => seen.push(m));
  return a;
}

const actorOf = (name: string) => ({ id: fx.users[name]!.id, username: name, is_admin: false, quota: 0 });

/** A new API token of the user, through the tokens service. */
async function tokenOf(name: string): Promise<{ id: number; token: string }> {
  return fx.c.app.deps.services.tokens.create(actorOf(name), `rpc ${name}`);
}

/** A raw JSON-RPC POST, to see the HTTP status and body aria2 clients get. */
async function post(body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, json: await res.json() };
}

async function waitStatus(a: Aria2, gid: string, check: (s: Status) => boolean, what: string) {
  return waitFor(
    async () => {
      const s = await a.call<Status>('tellStatus', gid);
      return check(s) ? s : null;
    },
    20_000,
    what,
  );
}

fx = useController({ users: ['alice', 'bob', { name: 'carol', quota: 1000 }] }, async (f) => {
  server = f.server;
  dataDir = f.c.dataDir;
  await f.c.app.listen({ host: '127.0.0.1', port: 0 });
  port = (f.c.app.server.address() as AddressInfo).port;
});

beforeAll(async () => {
  for (const name of ['alice', 'bob', 'carol']) tokens[name] = (await tokenOf(name)).token;
  server.addFile('/small.bin', patternBytes(0, 4096));
  server.addFile('/slow.bin', { size: 4 * 1024 * 1024 }, { throttle: 64 * 1024 });
  server.addFile('/big.bin', { size: 64 * 1024 });
});

describe('/jsonrpc over HTTP', () => {
  it('adds a download with addUri and reports it as aria2 does: strings, status words, virtual paths', async () => {
    const alice = client('alice');
    const gid = await alice.call<string>('addUri', [server.url('/small.bin')], { dir: '/downloads' });
    expect(gid).toMatch(/^[0-9a-f]{16}$/);
    const done = await waitStatus(alice, gid, (s) => s.status === 'complete', 'the download to complete');
    expect(done).toMatchObject({ gid, status: 'complete', totalLength: '4096', completedLength: '4096' });
    expect(done.dir).toBe('/downloads');
    expect(done.files![0]!.path).toBe('/downloads/small.bin');
    for (const v of Object.values(done)) if (typeof v !== 'object') expect(typeof v).toBe('string');
    // The same task as the REST API shows it: the gid is the task's gid.
    const rest = (await fx.api('alice').get('/api/tasks?view=all')).json().items;
    expect(rest.find((t: { gid: string }) => t.gid === gid)).toMatchObject({ status: 'complete' });

    expect(await alice.call('tellStatus', gid, ['gid', 'status'])).toEqual({ gid, status: 'complete' });
    const files = await alice.call<{ path: string; length: string }[]>('getFiles', gid);
    expect(files).toEqual([
      expect.objectContaining({ index: '1', path: '/downloads/small.bin', length: '4096' }),
    ]);
    const stopped = await alice.call<Status[]>('tellStopped', 0, 100, ['gid', 'status']);
    expect(stopped).toContainEqual({ gid, status: 'complete' });
    expect(await alice.call<Status[]>('tellStopped', -1, 1, ['gid'])).toEqual([{ gid }]);
  });

  it('pauses, resumes, moves, changes options of and removes a running download', async () => {
    const alice = client('alice');
    const gid = await alice.call<string>('addUri', [server.url('/slow.bin')], {
      'max-download-limit': '64K',
      header: 'X-Test: 1',
    });
    await waitStatus(alice, gid, (s) => s.status === 'active', 'the download to run');
    const active = await alice.call<Status[]>('tellActive', ['gid', 'status', 'totalLength']);
    expect(active.map((s) => s.gid)).toContain(gid);
    expect(await alice.call('getUris', gid)).toEqual([{ uri: server.url('/slow.bin'), status: 'used' }]);
    const servers = await alice.call<unknown[]>('getServers', gid);
    expect(Array.isArray(servers)).toBe(true);
    expect(await alice.call('getPeers', gid)).toEqual([]);

    expect(await alice.call('changeOption', gid, { 'max-download-limit': '32K' })).toBe('OK');
    const options = await alice.call<Record<string, unknown>>('getOption', gid);
    expect(options).toMatchObject({ 'max-download-limit': '32K', header: ['X-Test: 1'] });
    expect(String(options.dir)).toMatch(/^\/downloads\//);

    await expect(alice.call('changePosition', gid, 0, 'POS_SET')).rejects.toMatchObject({
      code: 1,
      message: 'Only a waiting download can be moved',
    });
    expect(await alice.call('pause', gid)).toBe(gid);
    await waitStatus(alice, gid, (s) => s.status === 'paused', 'the download to pause');
    const waiting = await alice.call<Status[]>('tellWaiting', 0, 100, ['gid', 'status']);
    expect(waiting).toContainEqual({ gid, status: 'paused' });
    expect(await alice.call('unpause', gid)).toBe(gid);
    await waitStatus(alice, gid, (s) => s.status === 'active' || s.status === 'waiting', 'it to resume');
    expect(await alice.call('pauseAll')).toBe('OK');
    await waitStatus(alice, gid, (s) => s.status === 'paused', 'pauseAll to pause it');
    expect(await alice.call('unpauseAll')).toBe('OK');
    await waitStatus(alice, gid, (s) => s.status !== 'paused', 'unpauseAll to resume it');

    expect(await alice.call('forceRemove', gid)).toBe(gid);
    await waitStatus(alice, gid, (s) => s.status === 'removed', 'the download to stop');
    expect(await alice.call('removeDownloadResult', gid)).toBe('OK');
    await expect(alice.call('tellStatus', gid)).rejects.toMatchObject({
      code: 1,
      message: `GID ${gid} is not found`,
    });
  });

  it('adds a torrent with addTorrent', async () => {
    const alice = client('alice');
    const content = Buffer.from('rpc torrent content '.repeat(200));
    server.addFile('/seed/rpc.txt', content);
    const t = makeTorrent({ name: 'rpc.txt', content, webSeedUrl: server.url('/seed/rpc.txt') });
    const gid = await alice.call<string>('addTorrent', t.base64, [], {});
    const done = await waitStatus(alice, gid, (s) => s.status === 'complete', 'the torrent to complete');
    expect(done.infoHash).toBe(t.infoHash);
    expect(done.files![0]!.path).toBe('/downloads/rpc.txt');
  });

  it('answers the daemon-wide methods for the user alone, changing nothing', async () => {
    const alice = client('alice');
    const before = (await fx.admin.get('/api/config')).json();
    expect(await alice.call('changeGlobalOption', { 'max-concurrent-downloads': '1' })).toBe('OK');
    expect((await fx.admin.get('/api/config')).json()).toEqual(before);
    for (const m of ['saveSession', 'shutdown', 'forceShutdown']) expect(await alice.call(m)).toBe('OK');
    expect(fx.c.aria2.connected).toBe(true);
    expect(await alice.call('getGlobalOption')).toMatchObject({ dir: '/downloads' });
    expect(await alice.call('getVersion')).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+/) });
    expect(await alice.call('getSessionInfo')).toEqual({
      sessionId: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    const stat = await alice.call<Record<string, string>>('getGlobalStat');
    expect(Object.keys(stat).sort()).toEqual(
      ['downloadSpeed', 'numActive', 'numStopped', 'numStoppedTotal', 'numWaiting', 'uploadSpeed'].sort(),
    );
    for (const v of Object.values(stat)) expect(v).toMatch(/^\d+$/);
    // The client's own listMethods() takes the prefixes off; the raw call shows aria2's names.
    const methods = await alice.call<string[]>('system.listMethods');
    expect(methods).toEqual(expect.arrayContaining(['aria2.addUri', 'aria2.tellActive', 'system.multicall']));
    expect(await alice.call('system.listNotifications')).toContain('aria2.onDownloadComplete');
  });

  it("replays AriaNg's poll: tellActive and tellWaiting in one multicall with its key list, tellStopped, getGlobalStat", async () => {
    const alice = client('alice');
    const keys = [
      'gid',
      'totalLength',
      'completedLength',
      'uploadSpeed',
      'downloadSpeed',
      'connections',
      'numSeeders',
      'seeder',
      'status',
      'errorCode',
      'verifiedLength',
      'verifyIntegrityPending',
    ];
    const [active, waiting] = await alice.multicall<[[Status[]], [Status[]]]>([
      ['tellActive', keys],
      ['tellWaiting', 0, 1000, keys],
    ]);
    expect(Array.isArray(active[0])).toBe(true);
    expect(Array.isArray(waiting[0])).toBe(true);
    const stopped = await alice.call<Status[]>('tellStopped', 0, 1000, keys);
    expect(stopped.length).toBeGreaterThan(0);
    for (const s of stopped) {
      expect(Object.keys(s).every((k) => keys.includes(k))).toBe(true);
      expect(s.totalLength).toMatch(/^\d+$/);
    }
    expect(await alice.call('getGlobalStat')).toHaveProperty('numActive');
  });

  it("clients polling together get the same lists, and a change of the user's downloads shows in the very next call", async () => {
    const alice = client('alice');
    const other = client('alice');
    const gid = await alice.call<string>('addUri', [server.url('/slow.bin')], {
      'max-download-limit': '16K',
    });
    await waitStatus(alice, gid, (s) => s.status === 'active', 'the download to run');
    const keys = ['gid', 'status'];
    const [mine, theirs] = await Promise.all([
      alice.call<Status[]>('tellActive', keys),
      other.call<Status[]>('tellActive', keys),
    ]);
    expect(mine).toContainEqual({ gid, status: 'active' });
    expect(theirs).toEqual(mine);
    // In one request, so all three come within moments of one another.
    const [before, paused, after, waiting] = await alice.multicall<
      [[Status[]], [string], [Status[]], [Status[]]]
    >([
      ['tellActive', keys],
      ['pause', gid],
      ['tellActive', keys],
      ['tellWaiting', 0, 100, keys],
    ]);
    expect(before[0]).toContainEqual({ gid, status: 'active' });
    expect(paused[0]).toBe(gid);
    expect(after[0].map((s) => s.gid)).not.toContain(gid);
    expect(waiting[0]).toContainEqual({ gid, status: 'paused' });
    expect(await alice.call('forceRemove', gid)).toBe(gid);
    await waitStatus(alice, gid, (s) => s.status === 'removed', 'the download to stop');
    expect(await alice.call('removeDownloadResult', gid)).toBe('OK');
  });

  it("tellActive polled with AriaNg's keys reads the rows once while only progress changes, and again once a download leaves the list", async () => {
    // An RPC server of its own on the controller's services, to count its reads of the database.
    const { tasks, stats, settings, views } = fx.c.app.deps.services;
    const methods = new RpcMethods({ tasks, stats, settings, views }, fx.c.app.log);
    const rpc = new RpcServer(methods, {
      authenticate: (secret) => fx.c.app.deps.services.tokens.authenticate(secret),
      events: fx.c.app.deps.events,
    });
    try {
      const keys = ['gid', 'status', 'completedLength'];
      const tellActive = async () => {
        const text = JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'aria2.tellActive',
          params: [`token:${tokens.alice}`, keys],
        });
        return ((await rpc.answer(text, { bound: null, unauthorized: false })).body as { result: Status[] })
          .result;
      };
      const alice = client('alice');
      server.addFile('/poll-a.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
      server.addFile('/poll-b.bin', { size: 4 * 1024 * 1024 }, { throttle: 32 * 1024 });
      const a = await alice.call<string>('addUri', [server.url('/poll-a.bin')]);
      const b = await alice.call<string>('addUri', [server.url('/poll-b.bin')]);
      const progress = (list: Status[]) => Number(list.find((s) => s.gid === a)?.completedLength ?? -1);
      const first = await waitFor(
        async () => {
          const list = await tellActive();
          return list.some((s) => s.gid === b) && progress(list) > 0 ? list : null;
        },
        20_000,
        'both downloads running',
      );
      const reads = methods.activeReads;
      // The sync's progress reaches the kept rows through the task events, with no read of the database.
      const later = await waitFor(
        async () => {
          const list = await tellActive();
          return progress(list) > progress(first) ? list : null;
        },
        20_000,
        'progress in a later poll',
      );
      expect(later.map((s) => s.gid).sort()).toEqual([a, b].sort());
      expect(methods.activeReads).toBe(reads);
      // A download that leaves the list is gone from the very next call, read again.
      await alice.call('pause', a);
      const after = await tellActive();
      expect(after.map((s) => s.gid)).not.toContain(a);
      expect(after.map((s) => s.gid)).toContain(b);
      expect(methods.activeReads).toBe(reads + 1);
      for (const gid of [a, b]) await alice.call('forceRemove', gid);
    } finally {
      rpc.close();
    }
  });

  it('purgeDownloadResult clears only the caller’s stopped results', async () => {
    const bob = client('bob');
    server.addFile('/bob-purge.bin', Buffer.from('bob purge'));
    const gid = await bob.call<string>('addUri', [server.url('/bob-purge.bin')]);
    await waitStatus(bob, gid, (s) => s.status === 'complete', "Bob's download to complete");
    const aliceStopped = await client('alice').call<Status[]>('tellStopped', 0, 1000, ['gid']);
    expect(await bob.call('purgeDownloadResult')).toBe('OK');
    expect(await bob.call('tellStopped', 0, 1000, ['gid'])).toEqual([]);
    expect(await client('alice').call('tellStopped', 0, 1000, ['gid'])).toEqual(aliceStopped);
  });
});

describe('errors in aria2’s shape', () => {
  it('a wrong secret is Unauthorized, after a delay, on its own and inside a multicall', async () => {
    const wrong = client('alice', 'a2c_wrong');
    await expect(wrong.call('tellActive')).rejects.toMatchObject({ code: 1, message: 'Unauthorized' });
    const raw = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'aria2.getVersion', params: [] }),
    );
    expect(raw).toEqual({
      status: 400,
      json: { id: 'x', jsonrpc: '2.0', error: { code: 1, message: 'Unauthorized' } },
    });
    const multi = await client('alice').multicall([['getVersion'], ['tellActive']]);
    expect(multi).toHaveLength(2);
    const mixed = await post(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'system.multicall',
        params: [
          [
            { methodName: 'aria2.getGlobalStat', params: ['token:nope'] },
            { methodName: 'aria2.getGlobalStat', params: [`token:${tokens.alice}`] },
          ],
        ],
      }),
    );
    const result = (mixed.json as { result: unknown[] }).result;
    expect(result[0]).toEqual({ code: 1, message: 'Unauthorized' });
    expect(result[1]).toEqual([expect.objectContaining({ numActive: expect.any(String) })]);
  });

  it('parse errors, invalid requests and unknown methods get JSON-RPC codes; a batch is answered call by call', async () => {
    expect(await post('{not json')).toEqual({
      status: 400,
      json: { id: null, jsonrpc: '2.0', error: { code: -32700, message: 'Parse error.' } },
    });
    expect(await post('"x"')).toMatchObject({ status: 400, json: { error: { code: -32600 } } });
    expect(await post(JSON.stringify({ id: 1, method: 'aria2.noSuch', params: [] }))).toMatchObject({
      status: 404,
      json: { id: 1, error: { code: -32601, message: 'Method not found.' } },
    });
    const batch = await post(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'aria2.getGlobalStat', params: [`token:${tokens.alice}`] },
        { jsonrpc: '2.0', id: 2, method: 'aria2.tellStatus', params: [`token:${tokens.alice}`, 'zz'] },
      ]),
    );
    expect(batch.status).toBe(200);
    const [one, two] = batch.json as { id: number; result?: unknown; error?: unknown }[];
    expect(one).toMatchObject({ id: 1, result: { numActive: expect.any(String) } });
    expect(two).toMatchObject({ id: 2, error: { code: 1, message: 'Invalid GID zz' } });
  });

  it('lets a browser client on another origin call it: the preflight and the answer allow any origin', async () => {
    const pre = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://ariang.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type');
    const res = await fetch(`http://127.0.0.1:${port}/jsonrpc`, {
      method: 'POST',
      headers: { origin: 'http://ariang.example', 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'aria2.getGlobalStat',
        params: [`token:${tokens.alice}`],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('refuses options outside the whitelist and a dir outside /downloads, adding nothing', async () => {
    const alice = client('alice');
    const before = (await fx.api('alice').get('/api/tasks?view=all')).json().total;
    await expect(
      alice.call('addUri', [server.url('/small.bin')], { 'all-proxy': 'http://x' }),
    ).rejects.toMatchObject({ code: 1, message: 'Invalid options.all-proxy: this option cannot be set' });
    await expect(alice.call('addUri', [server.url('/small.bin')], { out: '../x' })).rejects.toMatchObject({
      code: 1,
      message: expect.stringMatching(/^Invalid options\.out: /),
    });
    // A symlink inside Alice's folder that leads out of it.
    const outside = await mkdtemp(path.join(os.tmpdir(), 'rpc-outside-'));
    const aliceDir = path.join(dataDir, 'downloads', String(fx.users.alice!.id));
    await mkdir(aliceDir, { recursive: true });
    await symlink(outside, path.join(aliceDir, 'escape'));
    await writeFile(path.join(aliceDir, 'plain.txt'), 'a file');
    const refused: [string, string][] = [
      ['/etc', 'Invalid options.dir: must be /downloads or a folder inside it'],
      [dataDir, 'Invalid options.dir: must be /downloads or a folder inside it'],
      ['/downloadsx', 'Invalid options.dir: must be /downloads or a folder inside it'],
      ['/downloads/../etc', 'Invalid options.dir: it cannot contain . or .. segments'],
      ['/downloads/a/../../b', 'Invalid options.dir: it cannot contain . or .. segments'],
      ['/downloads/a\u0001b', 'Invalid options.dir: it contains a control character'],
      ['/downloads/escape', 'Invalid options.dir: it leads outside your folder'],
      ['/downloads/escape/deeper', 'Invalid options.dir: it leads outside your folder'],
      ['/downloads/plain.txt/x', 'Invalid options.dir: plain.txt is a file, not a folder'],
      ['/downloads/.incomplete/x', 'Invalid options.dir: running downloads have that folder to themselves'],
    ];
    for (const [dir, message] of refused) {
      await expect(alice.call('addUri', [server.url('/small.bin')], { dir }), dir).rejects.toMatchObject({
        code: 1,
        message,
      });
    }
    const t = makeTorrent({ name: 't.txt', content: Buffer.from('t'), webSeedUrl: server.url('/small.bin') });
    await expect(alice.call('addTorrent', t.base64, [], { dir: '/downloads/escape' })).rejects.toMatchObject({
      code: 1,
      message: 'Invalid options.dir: it leads outside your folder',
    });
    await expect(alice.call('addMetalink', 'bWV0YQ==', { dir: '/downloads/a' })).rejects.toMatchObject({
      code: 1,
    });
    expect((await fx.api('alice').get('/api/tasks?view=all')).json().total).toBe(before);
    expect(await readdir(outside)).toEqual([]);
    await unlink(path.join(aliceDir, 'escape'));
    await unlink(path.join(aliceDir, 'plain.txt'));
    await rm(outside, { recursive: true, force: true });
  });

  it("honours a dir inside /downloads: the download lands in that subfolder of the user's folder", async () => {
    const alice = client('alice');
    server.addFile('/sub.bin', patternBytes(7, 3007));
    const used = (await fx.api('alice').get('/api/files?path=')).json().used_space as number;
    const gid = await alice.call<string>('addUri', [server.url('/sub.bin')], {
      dir: '/downloads/movies/2024/',
    });
    const done = await waitStatus(alice, gid, (s) => s.status === 'complete', 'the download to complete');
    expect(done.dir).toBe('/downloads/movies/2024');
    expect(done.files![0]!.path).toBe('/downloads/movies/2024/sub.bin');
    const listed = (await fx.api('alice').get('/api/files?path=movies/2024')).json();
    expect(listed.entries).toEqual([
      expect.objectContaining({ name: 'sub.bin', path: 'movies/2024/sub.bin', size: 3000 }),
    ]);
    expect(listed.used_space).toBe(used + 3000);
    const task = (await fx.api('alice').get('/api/tasks?view=all'))
      .json()
      .items.find((x: { gid: string }) => x.gid === gid);
    expect(task.artifact_path).toBe('movies/2024/sub.bin');
    // Its running folder is gone with the folders above it.
    const aliceDir = path.join(dataDir, 'downloads', String(fx.users.alice!.id));
    expect(await readdir(path.join(aliceDir, '.incomplete'))).not.toContain('to');

    // A torrent, into a folder that already exists.
    const content = Buffer.from('subfolder torrent '.repeat(100));
    server.addFile('/seed/sub-t.txt', content);
    const t = makeTorrent({ name: 'sub-t.txt', content, webSeedUrl: server.url('/seed/sub-t.txt') });
    const tgid = await alice.call<string>('addTorrent', t.base64, [], { dir: '/downloads/movies' });
    const tdone = await waitStatus(alice, tgid, (s) => s.status === 'complete', 'the torrent to complete');
    expect(tdone.files![0]!.path).toBe('/downloads/movies/sub-t.txt');
    expect(await readFile(path.join(aliceDir, 'movies', 'sub-t.txt'))).toEqual(content);
  });

  it('a subfolder that became a symlink out while the download ran is not followed: it lands in the folder itself', async () => {
    const alice = client('alice');
    server.addFile('/later.bin', patternBytes(0, 96 * 1024), { throttle: 32 * 1024 });
    const gid = await alice.call<string>('addUri', [server.url('/later.bin')], { dir: '/downloads/later' });
    await waitStatus(alice, gid, (s) => s.status === 'active', 'the download to run');
    const outside = await mkdtemp(path.join(os.tmpdir(), 'rpc-later-'));
    const aliceDir = path.join(dataDir, 'downloads', String(fx.users.alice!.id));
    await symlink(outside, path.join(aliceDir, 'later'));
    const done = await waitStatus(alice, gid, (s) => s.status === 'complete', 'the download to complete');
    expect(done.files![0]!.path).toBe('/downloads/later.bin');
    expect(await readdir(outside)).toEqual([]);
    expect((await readFile(path.join(aliceDir, 'later.bin'))).length).toBe(96 * 1024);
    await unlink(path.join(aliceDir, 'later'));
    await rm(outside, { recursive: true, force: true });
  });

  it("an add over the user's quota is refused with the quota's sentence", async () => {
    const carol = client('carol');
    const err = await carol.call('addUri', [server.url('/big.bin')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    const rest = await fx.api('carol').post('/api/tasks', { uri: server.url('/big.bin') });
    expect(rest.statusCode).toBe(403);
    expect((err as { message: string }).message).toBe(rest.json().detail);
    expect((await fx.api('carol').get('/api/tasks?view=all')).json().total).toBe(0);
  });
});

describe('two users’ tokens', () => {
  it("Bob neither sees nor touches Alice's downloads", async () => {
    const alice = client('alice');
    const bob = client('bob');
    const gid = await alice.call<string>('addUri', [server.url('/slow.bin')], {
      'max-download-limit': '16K',
    });
    await waitStatus(alice, gid, (s) => s.status === 'active', "Alice's download to run");
    for (const [m, ...p] of [
      ['tellStatus', gid],
      ['pause', gid],
      ['remove', gid],
      ['forceRemove', gid],
      ['getFiles', gid],
      ['getOption', gid],
      ['changeOption', gid, { 'max-download-limit': '1K' }],
      ['removeDownloadResult', gid],
    ] as [string, ...unknown[]][]) {
      await expect(bob.call(m, ...p), m).rejects.toMatchObject({
        code: 1,
        message: `GID ${gid} is not found`,
      });
    }
    const lists = await bob.multicall<unknown[]>([
      ['tellActive', ['gid']],
      ['tellWaiting', 0, 1000, ['gid']],
      ['tellStopped', 0, 1000, ['gid']],
    ]);
    expect(JSON.stringify(lists)).not.toContain(gid);
    expect(await bob.call('pauseAll')).toBe('OK');
    expect((await alice.call<Status>('tellStatus', gid, ['status'])).status).toBe('active');
    expect((await bob.call<Record<string, string>>('getGlobalStat')).numActive).toBe('0');
    await alice.call('forceRemove', gid);
  });
});

describe('/jsonrpc over WebSocket', () => {
  let alice: Aria2;
  let bob: Aria2;
  const heard: Record<string, { method: string; gid: string }[]> = { alice: [], bob: [] };

  beforeAll(async () => {
    alice = client('alice');
    bob = client('bob');
    await alice.open();
    await bob.open();
    for (const [name, a] of [
      ['alice', alice],
      ['bob', bob],
    ] as const) {
      a.on('input', (m: { method?: string; params?: { gid: string }[] }) => {
        if (m.method?.startsWith('aria2.on')) heard[name]!.push({ method: m.method, gid: m.params![0]!.gid });
      });
      // The first call binds the socket to its token's user.
      await a.call('getVersion');
    }
  });
  afterAll(async () => {
    await alice?.close().catch(() => undefined);
    await bob?.close().catch(() => undefined);
  });

  it('answers calls on the socket and notifies the owner alone of their downloads', async () => {
    server.addFile('/ws.bin', Buffer.from('over the socket'));
    const gid = await alice.call<string>('addUri', [server.url('/ws.bin')]);
    await waitFor(
      () => heard.alice!.some((h) => h.gid === gid && h.method === 'aria2.onDownloadComplete'),
      20_000,
      'onDownloadComplete on Alice’s socket',
    );
    // Bob's own completion comes after Alice's on the same events: once he has heard it, he would have heard hers.
    server.addFile('/ws-bob.bin', Buffer.from('bob over the socket'));
    const bobs = await bob.call<string>('addUri', [server.url('/ws-bob.bin')]);
    await waitFor(
      () => heard.bob!.some((h) => h.gid === bobs && h.method === 'aria2.onDownloadComplete'),
      20_000,
      'onDownloadComplete on Bob’s socket',
    );
    expect(heard.bob!.map((h) => h.gid)).not.toContain(gid);
    expect(heard.alice!.map((h) => h.gid)).not.toContain(bobs);
  });

  it('notifies the start, pause and stop of a download', async () => {
    const gid = await alice.call<string>('addUri', [server.url('/slow.bin')], {
      'max-download-limit': '16K',
    });
    const heardOf = (method: string) => () => heard.alice!.some((h) => h.gid === gid && h.method === method);
    await waitFor(heardOf('aria2.onDownloadStart'), 20_000, 'onDownloadStart');
    await alice.call('pause', gid);
    await waitFor(heardOf('aria2.onDownloadPause'), 20_000, 'onDownloadPause');
    await alice.call('remove', gid);
    await waitFor(heardOf('aria2.onDownloadStop'), 20_000, 'onDownloadStop');
    expect(heard.bob!.map((h) => h.gid)).not.toContain(gid);
  });

  it("a socket bound to one user refuses another user's token", async () => {
    const raw = new WebSocket(`ws://127.0.0.1:${port}/jsonrpc`);
    await new Promise((resolve, reject) => {
      raw.once('open', resolve);
      raw.once('error', reject);
    });
    const answers: unknown[] = [];
    raw.on('message', (d) => answers.push(JSON.parse(String(d))));
    const send = (id: number, token: string) =>
      raw.send(
        JSON.stringify({ jsonrpc: '2.0', id, method: 'aria2.getGlobalStat', params: [`token:${token}`] }),
      );
    send(1, tokens.alice!);
    send(2, tokens.bob!);
    await waitFor(() => answers.length === 2, 10_000, 'both answers');
    expect(answers[0]).toMatchObject({ id: 1, result: { numActive: expect.any(String) } });
    expect(answers[1]).toMatchObject({ id: 2, error: { code: 1, message: 'Unauthorized' } });
    raw.terminate();
  });

  it('a revoked token closes its sockets and is Unauthorized from then on', async () => {
    const { id, token } = await tokenOf('alice');
    const a = client('alice', token);
    await a.open();
    await a.call('getVersion');
    const closed = new Promise<number>((resolve) =>
      a.once('close', (e: { code: number }) => resolve(e.code)),
    );
    await fx.c.app.deps.services.tokens.revoke(actorOf('alice'), id);
    expect(await closed).toBe(4401);
    await expect(client('alice', token).call('getVersion')).rejects.toMatchObject({
      message: 'Unauthorized',
    });
  });
});

describe('no server path', () => {
  it('appears in any answer the clients got', () => {
    expect(seen.length).toBeGreaterThan(20);
    const text = JSON.stringify(seen);
    expect(text).not.toContain(dataDir);
    expect(text).not.toContain('/tmp/');
  });
});
