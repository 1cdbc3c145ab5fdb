/**
 * A crash: the controller itself is killed with SIGKILL (a real process started as an operator
 * does, `node backend/dist/main.js`, with its embedded aria2c), once mid-download and once
 * during a batch retry, and started again on the same DATA_DIR. After the restart every task is where
 * it was or further, nothing is doubled, and aria2 holds no download that no task owns.
 *
 * aria2's own view is read without its secret, in two ways: its session file (written by aria2 at a
 * clean shutdown: every unfinished download with its gid) and the local file server's traffic (a
 * download nobody owns keeps fetching bytes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { ADMIN_PASSWORD } from '../helpers/controller.js';
import { type FileServer, type RequestRecord, startFileServer } from '../helpers/file-server.js';
import { type ControllerProcess, processGone, spawnController } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

const CURRENT = ['queued', 'active', 'waiting', 'paused'];

let procs: ControllerProcess[] = [];
let server: FileServer | null = null;
let dataDir: string | null = null;

afterEach(async () => {
  for (const p of procs) await p.kill('SIGKILL').catch(() => undefined);
  procs = [];
  await server?.close();
  server = null;
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
});

async function start(): Promise<{ p: ControllerProcess; cookie: string }> {
  const p = await spawnController({ dataDir: dataDir! });
  procs.push(p);
  return { p, cookie: await p.login('admin', ADMIN_PASSWORD) };
}

async function listAll(p: ControllerProcess, cookie: string): Promise<Task[]> {
  const r = await p.api<{ items: Task[]; total: number }>(
    'GET',
    '/api/tasks?view=all&limit=1000',
    undefined,
    cookie,
  );
  expect(r.status).toBe(200);
  return r.body.items;
}

async function getTask(p: ControllerProcess, cookie: string, id: number): Promise<Task> {
  const r = await p.api<Task>('GET', `/api/tasks/${id}`, undefined, cookie);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

/** The rows as stored, read from the database file while no controller runs. */
function storedRows(dir: string) {
  const db = new SQLite(path.join(dir, 'controller.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT id, uri, gid, status, replaced_by, retry_of, completed_length FROM tasks ORDER BY id')
      .all() as {
      id: number;
      uri: string;
      gid: string | null;
      status: string;
      replaced_by: number | null;
      retry_of: number | null;
      completed_length: number;
    }[];
  } finally {
    db.close();
  }
}

/** The gids of the downloads in aria2's session file (each entry carries a ` gid=` option line). */
function sessionGids(dir: string): string[] {
  const file = path.join(dir, 'aria2', 'aria2.session');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return [...text.matchAll(/^\s+gid=([0-9a-f]{16})\s*$/gm)].map((m) => m[1]!);
}

/** The start offset of a `Range: bytes=N-` request, 0 without one. */
function rangeStart(r: RequestRecord): number {
  const m = /^bytes=(\d+)-/.exec(r.range ?? '');
  return m ? Number(m[1]) : 0;
}

/** Per request, the bytes sent so far: a later snapshot shows which requests are still moving data. */
function sentSnapshot(srv: FileServer): number[] {
  return srv.requests.map((r) => r.bytesSent);
}

/** The moment the kill is sent, seen from the file server. */
const KILL_POINTS = {
  'last-size-check': 'right after the last size check (HEAD) of the retry was answered',
  'first-get': 'when aria2 asks for the first byte of a new download',
} as const;

describe('the controller killed with SIGKILL', () => {
  it('mid-download: after a restart the task resumes where it was, completes once, and nothing is doubled', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-reliability-kill-'));
    server = await startFileServer();
    const SIZE = 3_000_000;
    server.addFile('/kill/movie.bin', { size: SIZE }, { throttle: 150_000 });

    const first = await start();
    const created = await first.p.api<Task>(
      'POST',
      '/api/tasks',
      { uri: server.url('/kill/movie.bin') },
      first.cookie,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const before = await waitFor(
      async () => {
        const t = await getTask(first.p, first.cookie, id);
        return t.status === 'active' && t.completed_length > 400_000 ? t : null;
      },
      30_000,
      'the download to make progress',
    );

    const aria2Pid = first.p.aria2Pid!;
    const requestsBeforeKill = server.requests.length;
    await first.p.kill('SIGKILL');
    // Both are gone: the controller at once, its aria2c by --stop-with-process.
    expect(first.p.exited).toBe(true);
    expect(processGone(aria2Pid)).toBe(true);
    // The dying aria2c saved its session: the one download, under the task's gid.
    expect(sessionGids(dataDir)).toEqual([before.gid]);
    const afterKill = storedRows(dataDir);
    expect(afterKill.map((r) => r.id)).toEqual([id]);

    const second = await start();
    const seen: Task[] = [];
    server.update('/kill/movie.bin', { throttle: 400_000 });
    const done = await waitFor(
      async () => {
        const t = await getTask(second.p, second.cookie, id);
        seen.push(t);
        return t.status === 'complete' ? t : null;
      },
      40_000,
      'the download to complete after the restart',
    );
    // Where it was or further: never failed, stopped or forgotten on the way.
    for (const t of seen) expect([...CURRENT, 'complete']).toContain(t.status);
    expect(done).toMatchObject({ id, total_length: SIZE, completed_length: SIZE, error: null });

    // Exactly one row, and the finished file is the source byte for byte.
    const all = await listAll(second.p, second.cookie);
    expect(all.map((t) => t.id)).toEqual([id]);
    const file = path.join(dataDir, 'downloads', String(created.body.owner_id), done.artifact_path!);
    expect(fs.readFileSync(file).equals(server.content('/kill/movie.bin'))).toBe(true);

    // The restarted aria2 resumed the partial file (a Range request from where the file ended; its
    // first request only learns the size) and did not fetch the whole file again.
    const resumed = server.requests.slice(requestsBeforeKill).filter((r) => r.method === 'GET');
    const resumedFrom = Math.max(0, ...resumed.map(rangeStart));
    expect(resumedFrom).toBeGreaterThan(0);
    const fetchedAfterRestart = resumed.reduce((n, r) => n + r.bytesSent, 0);
    expect(fetchedAfterRestart).toBeLessThan(SIZE);
    expect(fetchedAfterRestart).toBeLessThanOrEqual(SIZE - resumedFrom + 256 * 1024);
    console.log(
      `[mid-download kill] at ${before.completed_length} bytes seen; resumed from ${resumedFrom}; ` +
        `fetched ${fetchedAfterRestart} of ${SIZE} after the restart`,
    );

    // A clean stop: aria2 writes its session; a finished download leaves nothing behind in it.
    await second.p.stop();
    expect(sessionGids(dataDir)).toEqual([]);
    expect(storedRows(dataDir).map((r) => [r.id, r.status])).toEqual([[id, 'complete']]);
  }, 120_000);

  it('a failed task stays failed: after the restart aria2 does not fetch it again behind its row', async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-reliability-kill-failed-'));
    server = await startFileServer();
    const SIZE = 2_000_000;
    server.addFile('/kf/gone.bin', { size: SIZE }, { status: 404 });

    const first = await start();
    const created = await first.p.api<Task>(
      'POST',
      '/api/tasks',
      { uri: server.url('/kf/gone.bin') },
      first.cookie,
    );
    expect(created.status).toBe(201);
    const failed = await waitFor(
      async () => {
        const t = await getTask(first.p, first.cookie, created.body.id);
        return t.status === 'error' ? t : null;
      },
      20_000,
      'the download to fail',
    );
    // The source comes back; only a retry may fetch it now.
    server.update('/kf/gone.bin', { status: undefined, throttle: 200_000 });
    await first.p.kill('SIGKILL');
    const mark = server.requests.length;

    const second = await start();
    await new Promise((r) => setTimeout(r, 3000));
    // History is never rewritten, and no download runs behind a failed row (the owner cannot see,
    // pause or stop it, it is not counted in their space, and a retry would write the same folder).
    expect(await getTask(second.p, second.cookie, failed.id)).toEqual(failed);
    const fetched = server.requests.slice(mark).filter((r) => r.method === 'GET');
    expect(
      fetched.map((r) => `${r.method} ${r.path} ${r.status} ${r.bytesSent} bytes`),
      'requests for the failed task after the restart',
    ).toEqual([]);

    // The retry is what fetches it: one row, the right bytes.
    server.update('/kf/gone.bin', { throttle: undefined });
    const retried = await second.p.api<Task>(
      'POST',
      `/api/tasks/${failed.id}/retry`,
      undefined,
      second.cookie,
    );
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const done = await waitFor(
      async () => {
        const t = await getTask(second.p, second.cookie, retried.body.id);
        return t.status === 'complete' ? t : null;
      },
      30_000,
      'the retry to complete',
    );
    expect((await listAll(second.p, second.cookie)).map((t) => t.id)).toEqual([done.id]);
    const file = path.join(dataDir, 'downloads', String(done.owner_id), done.artifact_path!);
    expect(fs.readFileSync(file).equals(server.content('/kf/gone.bin'))).toBe(true);
  }, 120_000);

  for (const killPoint of ['last-size-check', 'first-get'] as const) {
    it(`during a batch retry (killed ${KILL_POINTS[killPoint]}): each task exists once, old or replacement, and aria2 holds only downloads rows own`, async () => {
      await retryKillScenario(killPoint);
    }, 150_000);
  }
});

async function retryKillScenario(killPoint: keyof typeof KILL_POINTS): Promise<void> {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-reliability-retry-kill-'));
  server = await startFileServer();
  const N = 40;
  const SIZE = 600_000;
  const paths = Array.from({ length: N }, (_, i) => `/rk/file-${i}.bin`);
  for (const p of paths) server.addFile(p, { size: SIZE }, { status: 404 });

  const first = await start();
  const batch = await first.p.api<{ created: Task[]; failed: unknown[] }>(
    'POST',
    '/api/tasks/batch',
    { uris: paths.map((p) => server!.url(p)) },
    first.cookie,
  );
  expect(batch.status).toBe(200);
  expect(batch.body.created).toHaveLength(N);
  const originals = batch.body.created;
  const uriOf = new Map(originals.map((t) => [t.id, t.uri]));
  await waitFor(
    async () => (await listAll(first.p, first.cookie)).every((t) => t.status === 'error'),
    30_000,
    'every download to fail',
  );
  const failedBefore = new Map((await listAll(first.p, first.cookie)).map((t) => [t.id, t]));

  // The sources come back, slow enough that the new downloads are still running after the restart.
  for (const p of paths) server.update(p, { status: undefined, throttle: 20_000 });
  server.clearRequests();

  // Send the batch retry and kill the controller at the chosen point. After the last HEAD the
  // controller claims the old rows and hands the new downloads over; at the first GET aria2 has them
  // and the final transaction may or may not have run. The kill is sent synchronously from the file
  // server's request log (the helper offers no hook; its log is a plain array).
  let killedAt: string | null = null;
  let heads = 0;
  const log = server.requests as RequestRecord[];
  const push = log.push.bind(log);
  const killNow = () => {
    if (killedAt !== null) return;
    process.kill(first.p.pid, 'SIGKILL');
    killedAt = KILL_POINTS[killPoint];
  };
  log.push = (...items: RequestRecord[]) => {
    for (const r of items) {
      if (r.method === 'HEAD' && ++heads === N && killPoint === 'last-size-check') setImmediate(killNow);
      if (r.method === 'GET' && killPoint === 'first-get') killNow();
    }
    return push(...items);
  };
  const answer = fetch(`${first.p.origin}/api/tasks/retry`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: first.cookie },
    body: JSON.stringify({ ids: originals.map((t) => t.id) }),
  }).then(
    (r) => `answered ${r.status}`,
    () => 'no answer (connection lost)',
  );
  await Promise.race([waitFor(() => killedAt !== null, 30_000, 'the kill point'), answer]);
  killedAt ??= 'after the answer';
  await first.p.kill('SIGKILL');
  log.push = push;
  const crash = storedRows(dataDir);
  console.log(
    `[retry kill] killed ${killedAt}; client saw: ${await answer}; rows at the crash: ${crash.length}, ` +
      `claimed old rows: ${crash.filter((r) => r.replaced_by !== null).length}, ` +
      `unfinished new rows: ${crash.filter((r) => r.retry_of !== null).length}, ` +
      `aria2 session entries: ${sessionGids(dataDir).length}`,
  );

  const second = await start();
  // Exactly one of {old row, its replacement} per original task, by source URI.
  const rows = await listAll(second.p, second.cookie);
  expect(rows).toHaveLength(N);
  const byUri = new Map<string, Task[]>();
  for (const t of rows) byUri.set(t.uri, [...(byUri.get(t.uri) ?? []), t]);
  for (const original of originals) {
    const survivors = byUri.get(uriOf.get(original.id)!) ?? [];
    expect(survivors, `task ${original.id}`).toHaveLength(1);
    const s = survivors[0]!;
    if (s.id === original.id) {
      // The retry was undone: the old task exactly as it was.
      expect(s).toEqual(failedBefore.get(original.id));
    } else {
      expect(s.id).toBeGreaterThan(Math.max(...originals.map((t) => t.id)));
      expect([...CURRENT, 'complete']).toContain(s.status);
    }
  }
  const replaced = rows.filter((t) => !uriOf.has(t.id));
  console.log(`[retry kill] after the restart: ${replaced.length} replaced, ${N - replaced.length} kept`);

  // Every replacement is known to aria2 (the reconcile ran); then watch the traffic for a while.
  await waitFor(
    async () => {
      for (const t of replaced) {
        const d = await second.p.api<{ detail: unknown }>(
          'GET',
          `/api/tasks/${t.id}/detail`,
          undefined,
          second.cookie,
        );
        if (d.status !== 200 || d.body.detail === null) return false;
      }
      return true;
    },
    30_000,
    'aria2 to know every replacement',
  );
  await new Promise((r) => setTimeout(r, 1500));
  const snapshot = sentSnapshot(server);
  await new Promise((r) => setTimeout(r, 2500));
  const moving = new Map<string, number>();
  server.requests.forEach((r, i) => {
    const grew = r.bytesSent - (snapshot[i] ?? 0);
    if (r.method === 'GET' && grew > 0) moving.set(r.path, (moving.get(r.path) ?? 0) + 1);
  });

  // aria2's own list, through its session file at a clean stop (every unfinished or failed download
  // with its gid): no download that no row owns, and every running row's download is there.
  await second.p.stop();
  const stored = storedRows(dataDir);
  const gids = sessionGids(dataDir);
  const rowGids = new Set(stored.flatMap((r) => (r.gid ? [r.gid] : [])));
  expect(
    gids.filter((g) => !rowGids.has(g)),
    'downloads in aria2 that no task owns',
  ).toEqual([]);
  const running = stored.filter((r) => CURRENT.includes(r.status)).map((r) => r.gid);
  for (const gid of running) expect(gids).toContain(gid);
  expect(stored.filter((r) => r.replaced_by !== null || r.retry_of !== null)).toEqual([]);

  // The traffic while the restarted controller ran: a replacement is one download, not two; a kept
  // (failed) task downloads nothing at all, its row says `error` and nobody could see or stop it.
  for (const t of rows) {
    const p = new URL(t.uri).pathname;
    if (uriOf.has(t.id)) {
      expect(moving.get(p), `bytes still fetched for the failed task ${t.id} (${p})`).toBeUndefined();
    } else if (t.status !== 'complete') {
      expect(moving.get(p) ?? 0, `downloads for ${p}`).toBeLessThanOrEqual(1);
    }
  }

  // A last start finishes the replacements: each source once, byte for byte.
  for (const p of paths) server.update(p, { throttle: undefined });
  const third = await start();
  await waitFor(
    async () => (await listAll(third.p, third.cookie)).every((t) => !CURRENT.includes(t.status)),
    60_000,
    'the replacements to finish',
  );
  const final = await listAll(third.p, third.cookie);
  expect(final).toHaveLength(N);
  for (const t of final) {
    if (uriOf.has(t.id)) {
      expect(t.status).toBe('error');
      continue;
    }
    expect(t.status).toBe('complete');
    const file = path.join(dataDir, 'downloads', String(t.owner_id), t.artifact_path!);
    expect(fs.readFileSync(file).equals(server.content(new URL(t.uri).pathname))).toBe(true);
  }
}
