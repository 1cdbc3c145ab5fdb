import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatFs } from '../../src/services/storage.js';
import { startTestAria2, type TestAria2 } from '../helpers/aria2.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

// Two real aria2c, each with its own folder, as the nodes `a` and `b` of ARIA2_NODES. Node b's folder
// is reached by the controller through a mount of its own (a symlink here), as on a shared mount.
let c: TestController;
let server: FileServer;
let nodeA: TestAria2;
let nodeB: TestAria2;
let mountB: string;
let tmp: string;
let admin: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceId: number;
let bobId: number;
/** What each node's disk has free, by mount: the choice of a new user's node follows it. */
const free = new Map<string, number>();

beforeAll(async () => {
  server = await startFileServer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-nodes-'));
  nodeA = await startTestAria2({ dir: path.join(tmp, 'a') });
  nodeB = await startTestAria2({ dir: path.join(tmp, 'b') });
  mountB = path.join(tmp, 'mnt-b');
  fs.symlinkSync(nodeB.dir, mountB);
  free.set(nodeA.dir, 10e9);
  free.set(mountB, 20e9);
  const statfs: StatFs = async (dir) => ({
    blocks: 100e9 / 4096,
    bsize: 4096,
    bavail: (free.get(dir) ?? 0) / 4096,
  });
  c = await startTestController(
    {
      ARIA2_NODES: JSON.stringify([
        { id: 'a', rpc_url: nodeA.httpUrl, secret: nodeA.secret, dir: nodeA.dir },
        { id: 'b', rpc_url: nodeB.httpUrl, secret: nodeB.secret, dir: nodeB.dir, mount: mountB },
      ]),
    },
    { statfs },
  );
  admin = as(c, await c.adminCookie());
  const a = await c.createUser('alice', { node: 'a' });
  const b = await c.createUser('bob', { node: 'b' });
  aliceId = a.id;
  bobId = b.id;
  alice = as(c, a.cookie);
  bob = as(c, b.cookie);
});

afterAll(async () => {
  await server?.close();
  await c?.destroy();
  await nodeA?.stop();
  await nodeB?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The gids a test daemon holds, in any state. */
async function gidsOf(node: TestAria2): Promise<string[]> {
  const keys = [['gid']];
  const lists = await Promise.all([
    node.rpc<{ gid: string }[]>('aria2.tellActive', keys),
    node.rpc<{ gid: string }[]>('aria2.tellWaiting', [0, 1000, ...keys]),
    node.rpc<{ gid: string }[]>('aria2.tellStopped', [0, 1000, ...keys]),
  ]);
  return lists.flat().map((s) => s.gid);
}

describe('several aria2 daemons (ARIA2_NODES)', () => {
  it('health and stats/machine list both nodes, with their disks and users', async () => {
    const health = (await as(c).get('/api/health')).json();
    expect(health.status).toBe('ok');
    expect(health.nodes.map((n: { id: string }) => n.id)).toEqual(['a', 'b']);
    for (const n of health.nodes)
      expect(n).toMatchObject({ connected: true, version: expect.stringMatching(/^\d/) });

    const res = await admin.get('/api/stats/machine');
    expect(res.statusCode, res.body).toBe(200);
    const machine = res.json();
    const byId = new Map(machine.nodes.map((n: { id: string }) => [n.id, n]));
    // The admin was created first, on the node with the most free space (b).
    expect(byId.get('a')).toMatchObject({ connected: true, users: 1, disk_free: 10e9, disk_total: 100e9 });
    expect(byId.get('b')).toMatchObject({ connected: true, users: 2, disk_free: 20e9, disk_used: 80e9 });
  });

  it('a new user lives on the named node, or on the node with the most free space; an unknown node is 400', async () => {
    const named = await admin.post('/api/users', {
      username: 'carol',
      password: 'user-password-1',
      node: 'a',
    });
    expect(named.statusCode, named.body).toBe(201);
    expect(named.json().node).toBe('a');

    free.set(nodeA.dir, 30e9);
    const roomiest = await admin.post('/api/users', { username: 'dave', password: 'user-password-1' });
    expect(roomiest.statusCode, roomiest.body).toBe(201);
    expect(roomiest.json().node).toBe('a');
    free.set(nodeA.dir, 10e9);
    const other = await admin.post('/api/users', { username: 'erin', password: 'user-password-1' });
    expect(other.json().node).toBe('b');

    const before = (await admin.get('/api/users')).json().length;
    const unknown = await admin.post('/api/users', {
      username: 'frank',
      password: 'user-password-1',
      node: 'zz',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().detail).toMatch(/^Invalid node/);
    const users = (await admin.get('/api/users')).json();
    expect(users.length).toBe(before);
    // Fixed from then on: the list shows each user's node.
    expect(users.find((u: { username: string }) => u.username === 'bob').node).toBe('b');
  });

  it("each user's download runs on their node and lands in that node's folder", async () => {
    const dataA = patternBytes(0, 120_000);
    const dataB = patternBytes(7, 90_000);
    server.addFile('/nodes/alice.bin', dataA);
    server.addFile('/nodes/bob.bin', dataB);
    const ta = await alice.add(server.url('/nodes/alice.bin'));
    const tb = await bob.add(server.url('/nodes/bob.bin'));
    const doneA = await alice.waitTask(ta.id, (t) => t.status === 'complete', "alice's download on node a");
    const doneB = await bob.waitTask(tb.id, (t) => t.status === 'complete', "bob's download on node b");
    expect(doneA.artifact_path).toBe('alice.bin');
    expect(doneB.artifact_path).toBe('bob.bin');
    expect(fs.readFileSync(path.join(nodeA.dir, String(aliceId), 'alice.bin')).equals(dataA)).toBe(true);
    expect(fs.readFileSync(path.join(mountB, String(bobId), 'bob.bin')).equals(dataB)).toBe(true);
    expect(fs.existsSync(path.join(nodeA.dir, String(bobId)))).toBe(false);
    // Each daemon saw only its own users' downloads.
    const [onA, onB] = await Promise.all([gidsOf(nodeA), gidsOf(nodeB)]);
    expect(onA).not.toContain(tb.gid);
    expect(onB).not.toContain(ta.gid);
    // The file is served from the node's folder through the files API.
    const file = await bob.get('/api/files/content?path=bob.bin');
    expect(file.statusCode, file.body.slice(0, 200)).toBe(200);
    expect(file.rawPayload.equals(dataB)).toBe(true);
  });

  it('the global limits reach every node', async () => {
    const res = await admin.put('/api/config', { max_concurrent_downloads: 7 });
    expect(res.statusCode, res.body).toBe(200);
    for (const node of [nodeA, nodeB]) {
      const options = await node.rpc<Record<string, string>>('aria2.getGlobalOption');
      expect(options['max-concurrent-downloads']).toBe('7');
    }
  });

  it("a node that is away degrades only its users: the other user's adds and lists keep working", async () => {
    server.addFile('/nodes/slow.bin', { size: 4 * 1024 * 1024 }, { throttle: 64 * 1024 });
    const running = await bob.add(server.url('/nodes/slow.bin'));
    await bob.waitTask(running.id, (t) => t.status === 'active', "bob's slow download to run");
    await nodeB.kill('SIGKILL');
    await waitFor(() => !c.nodes.gatewayFor('b').connected, 10_000, 'node b to be seen away');
    const health = (await as(c).get('/api/health')).json();
    expect(health.status).toBe('degraded');
    expect(health.nodes).toEqual([
      { id: 'a', connected: true, version: expect.any(String) },
      { id: 'b', connected: false, version: null },
    ]);
    const machine = (await admin.get('/api/stats/machine')).json();
    expect(machine.nodes.find((n: { id: string }) => n.id === 'b').connected).toBe(false);

    // Bob's node is away: his add is recorded failed with the reason, his controls are 503.
    server.addFile('/nodes/away.bin', patternBytes(3, 50_000));
    const added = await bob.post('/api/tasks', { uri: server.url('/nodes/away.bin') });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ status: 'error', error: expect.stringMatching(/aria2/) });
    const pause = await bob.put(`/api/tasks/${running.id}/status`, { status: 'pause' });
    expect(pause.statusCode).toBe(503);
    expect(pause.json().detail).toMatch(/aria2/);

    // Alice's node answers: her add runs and completes, her list and controls work.
    server.addFile('/nodes/still.bin', patternBytes(5, 60_000));
    const t = await alice.add(server.url('/nodes/still.bin'));
    expect(t.status).not.toBe('error');
    const done = await alice.waitTask(
      t.id,
      (x) => x.status === 'complete',
      "alice's download while b is away",
    );
    expect(done.artifact_path).toBe('still.bin');
    const list = await alice.get('/api/tasks');
    expect(list.statusCode).toBe(200);
    expect(list.json().total).toBeGreaterThanOrEqual(2);

    // Node b comes back: its sync hands bob's download to it again and it goes on.
    await nodeB.restart();
    await waitFor(() => c.nodes.gatewayFor('b').connected, 15_000, 'node b to be back');
    expect((await as(c).get('/api/health')).json().status).toBe('ok');
    await waitFor(async () => (await gidsOf(nodeB)).length > 0, 15_000, "bob's download back on node b");
    expect((await bob.task(running.id)).status).not.toBe('error');
  });
});
