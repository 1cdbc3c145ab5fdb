/**
 * The download-daemon gateway's aria2 implementation (Aria2Gateway) against a real aria2c and a local
 * HTTP file server: batch verbs with an outcome per id, field sets, the snapshot, events, and errors
 * that name the node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Gateway } from '../../src/aria2/gateway.js';
import { type DownloadEvent, GatewayError } from '../../src/gateway/types.js';
import { newGid } from '../../src/services/handover.js';
import { startTestAria2, type TestAria2, waitFor } from '../helpers/aria2.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { makeTorrent } from '../helpers/torrent.js';

const SLOW_SIZE = 4 * 1024 * 1024;
const SLOW_RATE = 64 * 1024;
/** A well-formed gid aria2 has never heard of. */
const UNKNOWN = 'ffffffffffffff01';

describe('Aria2Gateway with a real aria2c', () => {
  let aria2: TestAria2;
  let server: FileServer;
  let gateway: Aria2Gateway;
  const events: DownloadEvent[] = [];
  let files = 0;

  beforeAll(async () => {
    server = await startFileServer();
    aria2 = await startTestAria2({ session: true, extraArgs: ['--max-concurrent-downloads=1'] });
    gateway = new Aria2Gateway('local', new Aria2Client({ url: aria2.url, secret: aria2.secret }));
    gateway.on('download', (e) => events.push(e));
    await gateway.start();
  });

  afterAll(async () => {
    await gateway?.close();
    await aria2?.stop();
    await server?.close();
  });

  function slowUrl(): string {
    const name = `/gw-slow-${++files}.bin`;
    server.addFile(name, { size: SLOW_SIZE }, { throttle: SLOW_RATE });
    return server.url(name);
  }

  it('adds a batch paused under chosen gids, with their statuses, and one bad add fails alone', async () => {
    const [a, b] = [newGid(), newGid()];
    const added = await gateway.add([
      { uris: [slowUrl()], gid: a, paused: true, options: { dir: aria2.dir } },
      // The same gid twice: aria2 refuses the second one only.
      { uris: [slowUrl()], gid: a, paused: true },
      { uris: [slowUrl()], gid: b, paused: true },
    ]);
    expect(added).toHaveLength(3);
    expect(added[0]).toMatchObject({ ok: true, value: { gid: a, status: { gid: a, status: 'paused' } } });
    expect(added[1]!.ok).toBe(false);
    const error = (added[1] as { error: GatewayError }).error;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.kind).toBe('refused');
    expect(error.node).toBe('local');
    expect(error.message).toMatch(/^download daemon local: add failed: /);
    expect(added[2]).toMatchObject({ ok: true, value: { gid: b, status: { status: 'paused' } } });
    const raw = await aria2.rpc<{ status: string; dir: string }>('aria2.tellStatus', [a, ['status', 'dir']]);
    expect(raw).toEqual({ status: 'paused', dir: aria2.dir });
    await gateway.stop([a, b]);
  });

  it('reads the statuses of many gids for a field set; an unknown gid is not_found', async () => {
    const [gid] = await gateway.add([{ uris: [slowUrl()], gid: newGid(), paused: true }]);
    const id = (gid as { value: { gid: string } }).value.gid;
    const [state, unknown, sync] = await gateway.statuses([id, UNKNOWN, id], 'state');
    expect(state).toMatchObject({ ok: true, value: { gid: id, status: 'paused', totalLength: 0 } });
    expect(unknown!.ok).toBe(false);
    expect((unknown as { error: GatewayError }).error.kind).toBe('not_found');
    expect((unknown as { error: GatewayError }).error.answered).toBe(true);
    expect(sync!.ok).toBe(true);
    // `state` leaves the folder and files out; `sync` brings them.
    expect((state as { value: { dir?: string } }).value.dir).toBeUndefined();
    const [full] = await gateway.statuses([id], 'sync');
    expect((full as { value: { dir?: string; files: unknown[] } }).value.dir).toBe(aria2.dir);
    expect((full as { value: { files: unknown[] } }).value.files).toHaveLength(1);
    await expect(gateway.status(UNKNOWN, 'progress')).rejects.toMatchObject({ kind: 'not_found' });
    await gateway.stop([id]);
  });

  it('pauses, resumes, stops and forgets in batches, one outcome per gid', async () => {
    const [one, two] = [newGid(), newGid()];
    await gateway.add([
      { uris: [slowUrl()], gid: one },
      { uris: [slowUrl()], gid: two },
    ]);
    const paused = await gateway.pause([one, UNKNOWN, two]);
    expect(paused.map((r) => r.ok)).toEqual([true, false, true]);
    await waitFor(
      async () => (await gateway.status(one, 'state')).status === 'paused',
      10_000,
      'the pause to take effect',
    );
    const resumed = await gateway.resume([UNKNOWN, one]);
    expect(resumed.map((r) => r.ok)).toEqual([false, true]);
    const stopped = await gateway.stop([one, two, UNKNOWN]);
    expect(stopped.map((r) => r.ok)).toEqual([true, true, false]);
    // A stopped download keeps its result (until forgotten) or, if it never ran, is gone at once.
    const stoppedOrGone = async () =>
      (await gateway.statuses([one, two], 'state')).every((r) => !r.ok || r.value.status === 'removed');
    await waitFor(stoppedOrGone, 10_000, 'the stops to take effect');
    const forgotten = await gateway.forget([one, UNKNOWN]);
    expect(forgotten.map((r) => r.ok)).toEqual([true, false]);
    const after = await gateway.statuses([one, two], 'state');
    expect(after.map((r) => r.ok)).toEqual([false, false]);
  });

  it("reads aria2's whole state in one snapshot: active, waiting in queue order, stopped, session", async () => {
    const [a, w1, w2] = [newGid(), newGid(), newGid()];
    await gateway.add([
      { uris: [slowUrl()], gid: a },
      { uris: [slowUrl()], gid: w1 },
      { uris: [slowUrl()], gid: w2 },
    ]);
    await waitFor(
      async () => (await gateway.status(a, 'state')).status === 'active',
      10_000,
      'the first download to start',
    );
    const landed = await gateway.move(w2, 0);
    expect(landed).toBe(0);
    const snap = await gateway.snapshot({
      active: 'progress',
      waiting: 'ids',
      stopped: 'state',
      session: true,
    });
    expect(snap.active!.map((s) => s.gid)).toContain(a);
    const order = snap.waiting!.map((s) => s.gid);
    expect(order.indexOf(w2)).toBeLessThan(order.indexOf(w1));
    expect(snap.waiting!.find((s) => s.gid === w1)!.status).toBe('waiting');
    expect(Array.isArray(snap.stopped)).toBe(true);
    expect(snap.sessionId).toBe(await gateway.sessionId());
    const some = await gateway.snapshot({ waiting: 'state' });
    expect(some.active).toBeNull();
    expect(some.sessionId).toBeNull();
    await gateway.stop([a, w1, w2]);
  });

  it('changes options per download and globally, each change with its own outcome', async () => {
    const gid = newGid();
    await gateway.add([{ uris: [slowUrl()], gid, paused: true }]);
    const changed = await gateway.changeOptions([
      { gid, options: { 'max-download-limit': '12345' } },
      { gid: UNKNOWN, options: { 'max-download-limit': '1' } },
    ]);
    expect(changed.map((r) => r.ok)).toEqual([true, false]);
    const opts = await aria2.rpc<Record<string, string>>('aria2.getOption', [gid]);
    expect(opts['max-download-limit']).toBe('12345');
    await gateway.changeGlobalOptions({ 'max-overall-upload-limit': '54321' });
    const global = await aria2.rpc<Record<string, string>>('aria2.getGlobalOption');
    expect(global['max-overall-upload-limit']).toBe('54321');
    await gateway.changeGlobalOptions({ 'max-overall-upload-limit': '0' });
    await expect(gateway.changeGlobalOptions({ 'no-such-option': 'x' })).resolves.toBeUndefined();
    await gateway.stop([gid]);
  });

  it('finishes a .torrent download from its web seed, with events and files', async () => {
    const content = Buffer.alloc(40_000, 7);
    server.addFile('/gw-seed/gw.bin', content);
    const t = makeTorrent({ name: 'gw.bin', content, webSeedUrl: `${server.origin}/gw-seed/` });
    const gid = newGid();
    const [added] = await gateway.add([{ torrent: t.torrent, gid, options: { 'seed-time': '0' } }]);
    expect(added!.ok).toBe(true);
    await waitFor(
      async () => (await gateway.status(gid, 'state')).status === 'complete',
      20_000,
      'the torrent to finish',
    );
    const done = await gateway.status(gid, 'detail');
    expect(done).toMatchObject({
      status: 'complete',
      infoHash: t.infoHash,
      metadata: false,
      totalLength: 40_000,
    });
    expect(done.bittorrent?.info?.name).toBe('gw.bin');
    await waitFor(
      () => events.some((e) => e.gid === gid && e.kind === 'complete'),
      10_000,
      'the complete event',
    );
    expect(events.some((e) => e.gid === gid && e.kind === 'started')).toBe(true);
    const [listed, unknown] = await gateway.files([gid, UNKNOWN]);
    expect(listed).toMatchObject({ ok: true, value: [{ index: 1, length: 40_000, selected: true }] });
    expect(path.basename((listed as { value: { path: string }[] }).value[0]!.path)).toBe('gw.bin');
    expect(unknown!.ok).toBe(false);
    // aria2 keeps no peer data of a finished download: refused, for that gid alone.
    const [peers, noPeers] = await gateway.peers([UNKNOWN, gid]);
    expect(peers!.ok).toBe(false);
    expect(noPeers).toMatchObject({ ok: false, error: { kind: 'refused', operation: 'peers' } });
    expect(fs.readFileSync(path.join(aria2.dir, 'gw.bin')).equals(content)).toBe(true);
  });

  it('tells the servers of a running HTTP download', async () => {
    const gid = newGid();
    await gateway.add([{ uris: [slowUrl()], gid }]);
    await waitFor(
      async () => {
        const [s] = await gateway.servers([gid]);
        return s?.ok && s.value.length > 0 ? s.value : null;
      },
      10_000,
      'a server connection',
    ).then((servers) => {
      expect(servers[0]).toMatchObject({ fileIndex: 1 });
      expect(servers[0]!.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/gw-slow-/);
    });
    await gateway.stop([gid]);
  });

  it('a restarted aria2 has a new session id; while it is away calls fail as unavailable, naming the node', async () => {
    await gateway.saveSession();
    const before = await gateway.sessionId();
    await aria2.kill('SIGKILL');
    await waitFor(() => !gateway.connected, 10_000, 'the gateway to notice');
    expect(gateway.health()).toEqual({ connected: false, version: null });
    const failure = await gateway.statuses([UNKNOWN], 'state').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({ node: 'local', kind: 'unavailable', answered: false });
    await expect(gateway.sessionId()).rejects.toMatchObject({ kind: 'unavailable' });
    await aria2.restart();
    await waitFor(() => gateway.connected, 20_000, 'the gateway to reconnect');
    expect(gateway.health().version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await gateway.sessionId()).not.toBe(before);
  });
});
