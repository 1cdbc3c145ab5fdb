/**
 * Two controller instances (real processes, as an operator runs them) on one PostgreSQL database and
 * two real aria2c as the nodes of ARIA2_NODES, each instance on its own port and data folder. Always on
 * PostgreSQL (a database of its own on the run's throwaway cluster): a cluster that cannot start fails
 * this file, it never skips.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SocketMessage } from '../../src/contracts/socket.js';
import type { Task } from '../../src/contracts/tasks.js';
import { type Db, openDatabase } from '../../src/db/index.js';
import { LEASE_RENEW_MS } from '../../src/services/leases.js';
import { startTestAria2, type TestAria2 } from '../helpers/aria2.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../helpers/controller.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';
import { type ControllerProcess, spawnController } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

let tmp: string;
let server: FileServer;
let nodeA: TestAria2;
let nodeB: TestAria2;
let databaseUrl: string;
let db: Db;
let one: ControllerProcess;
let two: ControllerProcess;
let alice: string;
let aliceId: number;
/** The share secret an installation moved from SQLite brings in its DATA_DIR (here in both). */
const FILE_SECRET = 'ab'.repeat(32);

async function start(name: string, nodeArgs: string[] = []): Promise<ControllerProcess> {
  return spawnController({
    dataDir: path.join(tmp, name),
    nodeArgs,
    // Three processes start here, two at once: on a loaded machine each cold start takes a while.
    startTimeoutMs: 90_000,
    env: {
      DATABASE_URL: databaseUrl,
      ARIA2_NODES: JSON.stringify([
        { id: 'a', rpc_url: nodeA.httpUrl, secret: nodeA.secret, dir: nodeA.dir },
        { id: 'b', rpc_url: nodeB.httpUrl, secret: nodeB.secret, dir: nodeB.dir },
      ]),
    },
  });
}

/** The instance id holding a lease, or null. */
async function holderOf(lease: string): Promise<string | null> {
  const row = await db
    .selectFrom('leases')
    .select('holder')
    .where('name', '=', lease)
    .where('expires_at', '>=', Date.now())
    .executeTakeFirst();
  return row?.holder ?? null;
}

/** Instance ids are `<host>/<pid>/<random>`: which of the two processes holds the lease. */
const pidOf = (holder: string | null) => (holder ? Number(holder.split('/')[1]) : null);

/** The instance (of the two) that drives a node, and the other. */
async function driverOf(node: string): Promise<[ControllerProcess, ControllerProcess]> {
  const driver = pidOf(await holderOf(`sync:${node}`)) === one.pid ? one : two;
  return [driver, driver === one ? two : one];
}

/** The egress proxy address an instance runs (each records its own). */
async function proxyUrlOf(p: ControllerProcess): Promise<string | undefined> {
  const rows = await db.selectFrom('egress_proxies').select(['holder', 'url']).execute();
  return rows.find((r) => pidOf(r.holder) === p.pid)?.url;
}

const task = async (p: ControllerProcess, id: number, cookie = alice) =>
  (await p.api<Task>('GET', `/api/tasks/${id}`, undefined, cookie)).body;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-instances-'));
  server = await startFileServer();
  nodeA = await startTestAria2({ dir: path.join(tmp, 'node-a') });
  nodeB = await startTestAria2({ dir: path.join(tmp, 'node-b') });
  databaseUrl = await freshDatabaseUrl();
  for (const name of ['one', 'two']) {
    fs.mkdirSync(path.join(tmp, name), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(tmp, name, 'share-secret'), `${FILE_SECRET}\n`, { mode: 0o600 });
  }
  // Started together, as a deployment does: one creates the schema and the first admin, the other waits
  // for the migrations and finds the admin there.
  // Both are kept as soon as they answer, so afterAll stops the one that started when the other did not.
  const [first, second] = await Promise.allSettled([start('one'), start('two')]);
  if (first.status === 'fulfilled') one = first.value;
  if (second.status === 'fulfilled') two = second.value;
  if (first.status === 'rejected') throw first.reason;
  if (second.status === 'rejected') throw second.reason;
  db = await openDatabase({ kind: 'postgres', url: databaseUrl });
  const admin = await one.login('admin', ADMIN_PASSWORD);
  const created = await one.api<{ id: number }>(
    'POST',
    '/api/users',
    { username: 'alice', password: USER_PASSWORD, node: 'b' },
    admin,
  );
  expect(created.status).toBe(201);
  aliceId = created.body.id;
  alice = await one.login('alice', USER_PASSWORD);
}, 200_000);

afterAll(async () => {
  await one?.kill('SIGKILL');
  await two?.kill('SIGKILL');
  await db?.destroy();
  await nodeA?.stop();
  await nodeB?.stop();
  await server?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('two instances on one PostgreSQL', () => {
  it('one instance drives each node; a session made on one works on the other', async () => {
    const holders = [await holderOf('sync:a'), await holderOf('sync:b')];
    for (const h of holders) expect([one.pid, two.pid]).toContain(pidOf(h));
    const me = await two.api<{ username: string }>('GET', '/api/auth/me', undefined, alice);
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('alice');
  });

  it('a socket on one instance hears a task added on the other', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${two.port}/ws/tasks`, { headers: { cookie: alice } });
    const heard: SocketMessage[] = [];
    socket.on('message', (data) => heard.push(JSON.parse(data.toString()) as SocketMessage));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    try {
      server.addFile('/heard.bin', Buffer.alloc(2000, 1));
      const added = await one.api<Task>('POST', '/api/tasks', { uri: server.url('/heard.bin') }, alice);
      expect(added.status).toBe(201);
      const updates = () =>
        heard.flatMap((m) => (m.type === 'task_update' && m.task.id === added.body.id ? [m.task] : []));
      await waitFor(
        () => updates().some((t) => t.status === 'complete'),
        20_000,
        'the socket on two to hear it',
      );
      // Each change arrives once, not once per instance.
      const statuses = updates().map((t) => `${t.status}:${t.completed_length}`);
      expect(new Set(statuses).size).toBe(statuses.length);
    } finally {
      socket.close();
    }
  });

  it('a share made on one instance has the same link on the other, under the secret the database keeps', async () => {
    // heard.bin is in alice's folder since the test before.
    const made = await one.api<{ id: number; url: string }>(
      'POST',
      '/api/shares',
      { path: 'heard.bin' },
      alice,
    );
    expect(made.status).toBe(201);
    const listed = await two.api<{ id: number; url: string }[]>('GET', '/api/shares', undefined, alice);
    expect(listed.body.find((s) => s.id === made.body.id)?.url).toBe(made.body.url);
    expect((await two.api('GET', made.body.url)).status).toBe(200);
    // Created once from the file of the installation it was moved from, not a new random one.
    const stored = await db.selectFrom('secrets').select('value').where('name', '=', 'share').execute();
    expect(stored).toEqual([{ value: FILE_SECRET }]);
  });

  it('concurrent retries of one task through both instances make exactly one new task', async () => {
    server.addFile('/missing.bin', Buffer.alloc(10), { status: 404 });
    const added = await one.api<Task>('POST', '/api/tasks', { uri: server.url('/missing.bin') }, alice);
    await waitFor(
      async () => (await task(two, added.body.id)).status === 'error',
      20_000,
      'the task to fail',
    );
    server.update('/missing.bin', { status: undefined });
    // Five through each instance at once: one makes the new task; the others find it claimed (409) or,
    // arriving after the replacement, gone (404).
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? one : two).api<Task>('POST', `/api/tasks/${added.body.id}/retry`, {}, alice),
      ),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) expect([404, 409]).toContain(a.status);
    expect(answers.some((a) => a.status === 409)).toBe(true);
    const fresh = answers.find((a) => a.status === 200)!.body;
    const rows = await db
      .selectFrom('tasks')
      .select(['id', 'status'])
      .where('owner_id', '=', aliceId)
      .where('uri', '=', server.url('/missing.bin'))
      .execute();
    expect(rows.map((r) => r.id)).toEqual([fresh.id]);
    await waitFor(
      async () => (await task(one, fresh.id)).status === 'complete',
      20_000,
      'the retry to finish',
    );
  });

  it('counts sign-in failures across both instances', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    await one.api('POST', '/api/users', { username: 'carol', password: USER_PASSWORD }, admin);
    for (let i = 0; i < 10; i++) {
      const p = i % 2 === 0 ? one : two;
      const r = await p.api('POST', '/api/auth/login', { username: 'carol', password: `wrong-${i}` });
      expect(r.status).toBe(401);
    }
    for (const p of [one, two]) {
      const r = await p.api('POST', '/api/auth/login', { username: 'carol', password: USER_PASSWORD });
      expect(r.status).toBe(429);
    }
  });

  it('a settings change on one instance is seen by the other and reaches both nodes', async () => {
    const admin = await one.login('admin', ADMIN_PASSWORD);
    const put = await one.api(
      'PUT',
      '/api/config',
      { max_active_per_user: 7, max_concurrent_downloads: 4 },
      admin,
    );
    expect(put.status).toBe(200);
    await waitFor(
      async () =>
        (await two.api<{ max_active_per_user: number }>('GET', '/api/config', undefined, admin)).body
          .max_active_per_user === 7,
      10_000,
      'the other instance to see the change',
    );
    for (const node of [nodeA, nodeB]) {
      const options = await node.rpc<Record<string, string>>('aria2.getGlobalOption', []);
      expect(options['max-concurrent-downloads']).toBe('4');
    }
  });

  it("a sign-out on one instance closes that session's socket on the other", async () => {
    const cookie = await one.login('alice', USER_PASSWORD);
    const socket = new WebSocket(`ws://127.0.0.1:${two.port}/ws/tasks`, { headers: { cookie } });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    expect((await one.api('POST', '/api/auth/logout', undefined, cookie)).status).toBeLessThan(300);
    const code = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    socket.terminate();
    expect(code).not.toBeNull();
    // The session made before is unaffected.
    expect((await two.api('GET', '/api/auth/me', undefined, alice)).status).toBe(200);
  });

  it('a download handed over by either instance goes through the egress proxy of the one that drives its node', async () => {
    const [driver, other] = await driverOf('b');
    server.addFile('/proxied.bin', { size: 64 * 1024 }, { throttle: 16 * 1024 });
    const added = await other.api<Task>('POST', '/api/tasks', { uri: server.url('/proxied.bin') }, alice);
    expect(added.status).toBe(201);
    const row = await db
      .selectFrom('tasks')
      .select('gid')
      .where('id', '=', added.body.id)
      .executeTakeFirstOrThrow();
    const options = await nodeB.rpc<Record<string, string>>('aria2.getOption', [row.gid]);
    // aria2 gives the address back with a trailing slash.
    const proxy = new URL(options['all-proxy']!).origin;
    const driverProxy = await proxyUrlOf(driver);
    expect(driverProxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(proxy).toBe(driverProxy);
    expect(proxy).not.toBe(await proxyUrlOf(other));
    await waitFor(
      async () => (await task(one, added.body.id)).status === 'complete',
      20_000,
      'the download to finish',
    );
  });

  it("a third instance, its clock two minutes ahead and a share secret of its own in DATA_DIR, takes no lease the others hold and shows the shares' links as they do", async () => {
    const before = await db.selectFrom('leases').select(['name', 'holder']).orderBy('name').execute();
    expect(before.length).toBeGreaterThan(0);
    const dir = path.join(tmp, 'ahead');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'share-secret'), `${'cd'.repeat(32)}\n`, { mode: 0o600 });
    const ahead = await start('ahead', [
      '--import=data:text/javascript,const n=Date.now;Date.now=()=>n()+120000;',
    ]);
    try {
      // The lease expiries are on the database's clock: its leases tried once before it answered; a
      // few more renewals of theirs and tries of its own change nothing.
      await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_RENEW_MS + 500));
      const after = await db.selectFrom('leases').select(['name', 'holder']).orderBy('name').execute();
      expect(after).toEqual(before);
      expect(after.map((l) => pidOf(l.holder))).not.toContain(ahead.pid);
      // The share secret is the database's, not its file's.
      const fromOne = await one.api<{ url: string }[]>('GET', '/api/shares', undefined, alice);
      const fromAhead = await ahead.api<{ url: string }[]>('GET', '/api/shares', undefined, alice);
      expect(fromOne.body.length).toBeGreaterThan(0);
      expect(fromAhead.body.map((s) => s.url)).toEqual(fromOne.body.map((s) => s.url));
    } finally {
      await ahead.kill('SIGKILL');
    }
  }, 150_000);

  it('killing the instance that drives a node mid-download: the other records it complete, once, within 15 s', async () => {
    const used = async () =>
      (await db.selectFrom('users').select('used_space').where('id', '=', aliceId).executeTakeFirstOrThrow())
        .used_space;
    const usedBefore = await used();
    const size = 3 * 1024 * 1024;
    server.addFile('/failover.bin', { size }, { throttle: 128 * 1024 });
    const [driver, other] = await driverOf('b');
    // Added through the instance that drives the node, so it is handed over by, and its connections go
    // through the egress proxy of, the instance killed: the other points it at its own proxy.
    const added = await driver.api<Task>('POST', '/api/tasks', { uri: server.url('/failover.bin') }, alice);
    expect(added.status).toBe(201);
    await waitFor(
      async () => {
        const t = await task(driver, added.body.id);
        return t.status === 'active' && t.completed_length > 0;
      },
      20_000,
      'the download to run',
    );
    await driver.kill('SIGKILL');
    const killedAt = Date.now();
    // The rest of the download comes at once: what is left to wait for is the takeover.
    server.update('/failover.bin', { throttle: undefined });
    const done = await waitFor(
      async () => {
        const t = await task(other, added.body.id);
        return t.status === 'complete' ? t : null;
      },
      Math.max(1, killedAt + 15_000 - Date.now()),
      'the other instance to record the download complete within 15 s of the kill',
    );
    expect(pidOf(await holderOf('sync:b'))).toBe(other.pid);
    expect(done.completed_length).toBe(size);
    // Recorded once: one file in the owner's folder, counted once in their space.
    const files = fs
      .readdirSync(path.join(nodeB.dir, String(aliceId)))
      .filter((f) => f.startsWith('failover'));
    expect(files).toEqual(['failover.bin']);
    expect((await used()) - usedBefore).toBe(size);
  });
});
