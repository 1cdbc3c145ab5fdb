import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedApiToken } from '../../src/contracts/tokens.js';
import { startTestController, type TestController, USER_PASSWORD } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

/*
 * `npm run migrate-to-postgres` end to end: a controller on SQLite with users, finished, failed and
 * retried downloads, shares, API tokens and settings is stopped; the script copies its database into
 * a fresh PostgreSQL database; a controller on that database, over the same data folder, answers as
 * the old one did. The script runs as the command it is, in a process of its own.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = path.join(ROOT, 'backend', 'scripts', 'migrate-to-postgres.ts');

/** Runs the script as `npm run migrate-to-postgres` does (tsx); its exit code and output. */
function runScript(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function countUsers(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query('SELECT COUNT(*) AS n FROM users')).rows[0].n);
  } finally {
    await client.end();
  }
}

let server: FileServer;
let dataDir: string;
let sqliteFile: string;
let target: string;
let password: string;
let before: TestController | null = null;
let after: TestController | null = null;

/** What the old controller answered, to compare with the new one. */
const seen: {
  aliceId: number;
  aliceCookie: string;
  tasks: unknown;
  history: unknown;
  files: unknown;
  shares: { id: number; url: string; has_password: boolean }[];
  tokens: unknown;
  config: unknown;
  token: string;
  finishedData: Buffer;
  maxTaskId: number;
  deletedUserId: number;
  maxShareId: number;
  maxTokenId: number;
} = {} as never;

const listAll = (client: ApiClient, view: string) =>
  client.get(`/api/tasks?view=${view}&limit=1000&sort=created_at&order=asc`).then((r) => {
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { items: { id: number }[] };
  });

beforeAll(async () => {
  server = await startFileServer();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-to-postgres-'));
  sqliteFile = path.join(dataDir, 'controller.db');
  target = await freshDatabaseUrl();
  password = decodeURIComponent(new URL(target).password);
  expect(password.length).toBeGreaterThan(0);

  // The old installation: SQLite (named explicitly, so a PostgreSQL test run does not change it).
  before = await startTestController({ DATABASE_URL: `sqlite:${sqliteFile}` }, { dataDir });
  const admin = as(before, await before.adminCookie());
  const alice = await before.createUser('alice', { quota: 50 * 1024 * 1024 });
  await before.createUser('bob');
  // A user deleted before the move: the new database must not hand out that id again.
  const carol = await before.createUser('carol');
  expect((await admin.del(`/api/users/${carol.id}`)).statusCode).toBe(204);
  seen.deletedUserId = carol.id;
  seen.aliceId = alice.id;
  seen.aliceCookie = alice.cookie;
  const api = as(before, alice.cookie);

  seen.finishedData = patternBytes(3, 70_000);
  server.addFile('/m/finished.bin', seen.finishedData);
  const finished = await api.add(server.url('/m/finished.bin'));
  await api.waitTask(finished.id, (t) => t.status === 'complete', 'the finished download');

  server.addFile('/m/failed.bin', patternBytes(4, 1000), { status: 404 });
  const failed = await api.add(server.url('/m/failed.bin'));
  await api.waitTask(failed.id, (t) => t.status === 'error', 'the failed download');

  // A retried lineage: failed once, retried from the same link, then complete.
  server.addFile('/m/retried.bin', patternBytes(5, 20_000), { status: 500 });
  const first = await api.add(server.url('/m/retried.bin'));
  await api.waitTask(first.id, (t) => t.status === 'error', 'the first try');
  server.update('/m/retried.bin', { status: undefined });
  const retried = await api.post(`/api/tasks/${first.id}/retry`);
  expect(retried.statusCode, retried.body).toBe(200);
  await api.waitTask(retried.json().id, (t) => t.status === 'complete', 'the retry');

  const share = await api.post('/api/shares', { path: 'finished.bin' });
  expect(share.statusCode, share.body).toBe(201);
  const withPassword = await api.post('/api/shares', { path: 'finished.bin', password: 'share-password-1' });
  expect(withPassword.statusCode, withPassword.body).toBe(201);
  const token = await api.post('/api/tokens', { name: 'aria2p on the laptop' });
  expect(token.statusCode, token.body).toBe(201);
  seen.token = (token.json() as CreatedApiToken).token;
  expect((await admin.put('/api/config', { max_active_per_user: 2 })).statusCode).toBe(200);

  const history = await listAll(api, 'history');
  seen.history = history;
  seen.tasks = await listAll(api, 'all');
  seen.maxTaskId = Math.max(...(seen.tasks as { items: { id: number }[] }).items.map((t) => t.id));
  seen.files = (await api.get('/api/files?path=')).json();
  seen.shares = (await api.get('/api/shares')).json();
  seen.maxShareId = Math.max(...seen.shares.map((s) => s.id));
  seen.tokens = (await api.get('/api/tokens')).json();
  seen.maxTokenId = Math.max(...(seen.tokens as { id: number }[]).map((t) => t.id));
  seen.config = (await admin.get('/api/config')).json();

  // Stopped, not destroyed: the data folder (files, share secret, aria2 session) stays for the new one.
  await before.close();
  before = null;
}, 120_000);

afterAll(async () => {
  await before?.close();
  await after?.close();
  await server?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run migrate-to-postgres', () => {
  it('copies every table into the empty database, prints the counts, and shows no password', async () => {
    const run = await runScript(['--from', sqliteFile, '--to', target]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^users\s+3\s+3$/m); // admin, alice, bob
    expect(run.stdout).toMatch(/^tasks\s+3\s+3$/m);
    expect(run.stdout).toMatch(/^shares\s+2\s+2$/m);
    expect(run.stdout).toMatch(/^api_tokens\s+1\s+1$/m);
    expect(run.stdout).toMatch(/^settings\s+\d+\s+\d+$/m);
    expect(run.stdout).toContain('Done: every table has the same number of rows in both databases.');
    expect(`${run.stdout}${run.stderr}`).not.toContain(password);
  }, 60_000);

  it('a controller on the PostgreSQL database answers as the old one did', async () => {
    after = await startTestController({ DATABASE_URL: target }, { dataDir });
    // The old password signs in; the old session cookie is still valid too.
    const cookie = await after.login('alice', USER_PASSWORD);
    const alice = as(after, cookie);
    expect((await as(after, seen.aliceCookie).get('/api/auth/me')).statusCode).toBe(200);

    expect(await listAll(alice, 'all')).toEqual(seen.tasks);
    expect(await listAll(alice, 'history')).toEqual(seen.history);
    expect((await alice.get('/api/files?path=')).json()).toEqual(seen.files);
    expect((await alice.get('/api/shares')).json()).toEqual(seen.shares);
    expect((await alice.get('/api/tokens')).json()).toEqual(seen.tokens);
    const admin = as(after, await after.adminCookie());
    expect((await admin.get('/api/config')).json()).toEqual(seen.config);

    // A share link given out before opens the same bytes; the API token still works.
    const open = await as(after).get(seen.shares.find((s) => !s.has_password)!.url);
    expect(open.statusCode).toBe(200);
    expect(open.rawPayload.equals(seen.finishedData)).toBe(true);
    const byToken = await as(after).request({
      method: 'GET',
      url: '/api/tasks?view=all',
      headers: { authorization: `Bearer ${seen.token}` },
    });
    expect(byToken.statusCode).toBe(200);

    // New rows get ids past every id used before, deleted ones included.
    server.addFile('/m/new.bin', patternBytes(6, 5000));
    const added = await alice.add(server.url('/m/new.bin'));
    expect(added.id).toBeGreaterThan(seen.maxTaskId);
    await alice.waitTask(added.id, (t) => t.status === 'complete', 'a download after the move');
    const dave = await after.createUser('dave');
    expect(dave.id).toBeGreaterThan(seen.deletedUserId);
    const share = await alice.post('/api/shares', { path: 'new.bin' });
    expect(share.statusCode, share.body).toBe(201);
    expect(share.json().id).toBeGreaterThan(seen.maxShareId);
    const token = await alice.post('/api/tokens', { name: 'second' });
    expect(token.statusCode, token.body).toBe(201);
    expect(token.json().id).toBeGreaterThan(seen.maxTokenId);
  }, 120_000);

  it('refuses a target that holds rows, with a clear message and exit 1, and changes nothing', async () => {
    const users = await countUsers(target);
    const run = await runScript(['--from', sqliteFile], { DATABASE_URL: target });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^migrate-to-postgres: The target database is not empty \(table \w+ has \d+ rows?\): copy into a new, empty database$/m,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain(password);
    expect(await countUsers(target)).toBe(users);
  }, 60_000);

  it('refuses a missing source and a target that is not PostgreSQL', async () => {
    const missing = await runScript(['--from', path.join(dataDir, 'nope.db'), '--to', target]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('migrate-to-postgres: There is no SQLite database at');
    const notPg = await runScript(['--from', sqliteFile, '--to', 'mysql://u:p@127.0.0.1/x']);
    expect(notPg.code).toBe(1);
    expect(notPg.stderr).toContain('The target must be a postgres:// or postgresql:// URL');
  }, 60_000);
});
