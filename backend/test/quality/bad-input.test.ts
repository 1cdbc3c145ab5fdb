/**
 * Bad input: random and hostile bodies, ids, query strings, headers and torrent files over
 * every route of the API (the route table below is checked against the routes the app declares, their
 * access and what they take, so a new route cannot be left out). For every answer: never a 5xx; every 4xx is `{detail: string}`; no stack trace,
 * server path, password, hash or aria2 secret in any body; and a 4xx changes nothing (the tasks, users,
 * sessions and settings tables, aria2's download list and the download folder are compared before and
 * after each request). Input that is malformed by construction must be a 4xx (422 naming the field
 * where the contract says so), so "accepted by mistake" fails too.
 *
 * fast-check runs with fixed seeds and bounded runs (`RUNS`), so the file is repeatable and quick.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contracts/tasks.js';
import { encode } from '../../src/domain/bencode.js';
import type { Access } from '../../src/plugins/auth.js';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
  USER_PASSWORD,
} from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { routeKey, servedRoutes } from '../helpers/routes.js';
import { as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';
import { waitFor } from '../helpers/wait.js';

/** Fixed seeds: a failure names its seed and path, and a rerun reproduces it. */
const SEED = 20_260_123;
const RUNS = { mutations: 45, randomBodies: 25, headers: 12, queries: 30, torrents: 60, multipart: 30 };
/**
 * No shrinking after a failure (endOnFailure): every run sends real requests, and a request accepted by
 * mistake may change state; the first counterexample is reported as found, with its seed and path.
 */
const FC = (offset: number, numRuns: number) => ({ seed: SEED + offset, numRuns, endOnFailure: true });

const GiB = 1024 ** 3;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Passwords the test uses; no answer may ever contain one. */
const BOB_PASSWORD = 'bob-secret-password-7';
const FUZZ_PASSWORD = 'fuzz-new-password-9';

interface Fixture {
  c: TestController;
  server: FileServer;
  admin: string;
  alice: { id: number; cookie: string };
  bob: { id: number; cookie: string };
  /** A user whose only purpose is to be deleted by mistake (hostile ids on DELETE /api/users/:id). */
  carol: { id: number; cookie: string };
  /** A user with no tasks: body-less state-changing routes are sent as dave. */
  dave: { id: number; cookie: string };
  /** Spare sessions of dave, one per logout request. */
  logoutPool: string[];
  done: Task;
  failed: Task;
  stopped: Task;
  doneContent: Buffer;
  /** A valid torrent whose declared size (20 GiB) is over the maximum task size: always 403. */
  tooBigTorrent: Buffer;
  validTorrent: Buffer;
}

interface Req {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';
  url: string;
  /** An object is sent as JSON; a string or Buffer as is (with `content-type` from headers). */
  payload?: unknown;
  headers?: Record<string, string>;
  /** The session cookie to send ('none' for none); default: by the route's access. */
  cookie?: string | 'none';
}

// ---- the schema of each JSON body, as the contracts describe it ------------------------

type Field =
  | { kind: 'string'; min?: number; max?: number }
  | { kind: 'int'; min: number; max: number; coerce?: boolean }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'array'; of: Field; min: number; max: number }
  | { kind: 'object'; fields: Record<string, Field>; required: readonly string[] };

const OPTIONS: Field = {
  kind: 'object',
  required: [],
  fields: {
    out: { kind: 'string', min: 1, max: 255 },
    split: { kind: 'int', min: 1, max: 16, coerce: true },
    'max-connection-per-server': { kind: 'int', min: 1, max: 16, coerce: true },
    'max-download-limit': { kind: 'string' },
    header: { kind: 'array', of: { kind: 'string', max: 8192 }, min: 0, max: 32 },
    referer: { kind: 'string', max: 8192 },
    'user-agent': { kind: 'string', max: 1024 },
    checksum: { kind: 'string' },
  },
};

interface BodySpec {
  fields: Record<string, Field>;
  required: readonly string[];
  /** A well-formed body; mutations of it are sent to `url`. */
  valid(f: Fixture): Record<string, unknown>;
  url(f: Fixture): string;
}

interface RouteCase {
  access: Access;
  /** A well-formed request that changes nothing (its answer may be 2xx or 4xx). */
  harmless(f: Fixture): Req;
  body?: BodySpec;
  /** The kind of path parameter, for hostile ids. */
  param?: 'task-id' | 'user-id' | 'token';
  /** The query schema, for malformed query strings. */
  query?: Record<string, Field>;
}

const LOOPBACK_URI = 'http://127.0.0.1:9/file.bin';
/** `out` values that would leave the task folder, or name no file. */
const TRAVERSING_OUTS = [
  '..',
  '.',
  '../evil.sh',
  '../../../../etc/cron.d/x',
  '..\\..\\evil',
  '/etc/passwd',
  'a/b',
  'a\\b',
  'x\u0000y',
  'evil/..',
  './x',
  '/',
];

const ROUTES: Record<string, RouteCase> = {
  'GET /': { access: 'public', harmless: () => ({ method: 'GET', url: '/' }) },
  'GET /api/openapi.json': {
    access: 'public',
    harmless: () => ({ method: 'GET', url: '/api/openapi.json' }),
  },
  'GET /api/health': { access: 'public', harmless: () => ({ method: 'GET', url: '/api/health' }) },
  'POST /api/auth/login': {
    access: 'public',
    harmless: () => ({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'nobody', password: 'nope-nope' },
    }),
    body: {
      fields: { username: { kind: 'string', max: 200 }, password: { kind: 'string', max: 1024 } },
      required: ['username', 'password'],
      valid: () => ({ username: 'bob', password: BOB_PASSWORD }),
      url: () => '/api/auth/login',
    },
  },
  'POST /api/auth/logout': {
    access: 'user',
    harmless: (f) => ({ method: 'POST', url: '/api/auth/logout', cookie: nextLogoutSession(f) }),
  },
  'GET /api/auth/me': { access: 'user', harmless: () => ({ method: 'GET', url: '/api/auth/me' }) },
  'POST /api/auth/change-password': {
    access: 'user',
    harmless: () => ({
      method: 'POST',
      url: '/api/auth/change-password',
      payload: { current_password: 'not-the-password', new_password: FUZZ_PASSWORD },
    }),
    body: {
      fields: {
        current_password: { kind: 'string', max: 1024 },
        new_password: { kind: 'string', min: 8, max: 1024 },
      },
      required: ['current_password', 'new_password'],
      // The right current password: a mutation accepted by mistake would change it.
      valid: () => ({ current_password: USER_PASSWORD, new_password: FUZZ_PASSWORD }),
      url: () => '/api/auth/change-password',
    },
  },
  'GET /api/users': { access: 'admin', harmless: () => ({ method: 'GET', url: '/api/users' }) },
  'POST /api/users': {
    access: 'admin',
    harmless: () => ({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'bob', password: FUZZ_PASSWORD },
    }),
    body: {
      fields: {
        username: { kind: 'string', min: 1, max: 50 },
        password: { kind: 'string', min: 8, max: 1024 },
        is_admin: { kind: 'bool' },
        quota: { kind: 'int', min: 0, max: MAX_SAFE },
      },
      required: ['username', 'password'],
      valid: () => ({ username: 'mallory', password: FUZZ_PASSWORD, is_admin: true, quota: 1000 }),
      url: () => '/api/users',
    },
  },
  'GET /api/users/:id': {
    access: 'admin',
    param: 'user-id',
    harmless: (f) => ({ method: 'GET', url: `/api/users/${f.bob.id}` }),
  },
  'PUT /api/users/:id': {
    access: 'admin',
    param: 'user-id',
    harmless: (f) => ({ method: 'PUT', url: `/api/users/${f.bob.id}`, payload: { username: 'alice' } }),
    body: {
      fields: {
        username: { kind: 'string', min: 1, max: 50 },
        password: { kind: 'string', min: 8, max: 1024 },
        is_admin: { kind: 'bool' },
        quota: { kind: 'int', min: 0, max: MAX_SAFE },
      },
      required: [],
      valid: () => ({ username: 'bobby', password: FUZZ_PASSWORD, is_admin: true, quota: 5 }),
      url: (f) => `/api/users/${f.bob.id}`,
    },
  },
  'DELETE /api/users/:id': {
    access: 'admin',
    param: 'user-id',
    harmless: () => ({ method: 'DELETE', url: '/api/users/999999' }),
    query: { delete_files: { kind: 'enum', values: ['true', 'false'] } },
  },
  'POST /api/tasks': {
    access: 'user',
    // The network guard is on during the fuzzing: a loopback URI is refused, so nothing can start.
    harmless: () => ({ method: 'POST', url: '/api/tasks', payload: { uri: LOOPBACK_URI } }),
    body: {
      fields: { uri: { kind: 'string', min: 1, max: 16 * 1024 }, options: OPTIONS },
      required: ['uri'],
      valid: () => ({ uri: LOOPBACK_URI, options: { out: 'name.bin', split: 2, header: ['X-A: b'] } }),
      url: () => '/api/tasks',
    },
  },
  'POST /api/tasks/batch': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/tasks/batch', payload: { uris: [LOOPBACK_URI] } }),
    body: {
      fields: {
        uris: { kind: 'array', of: { kind: 'string', min: 1, max: 16 * 1024 }, min: 1, max: 1000 },
        options: OPTIONS,
      },
      required: ['uris'],
      valid: () => ({ uris: [LOOPBACK_URI, `${LOOPBACK_URI}?2`], options: { split: 3 } }),
      url: () => '/api/tasks/batch',
    },
  },
  'POST /api/tasks/torrent': {
    access: 'user',
    harmless: (f) => ({
      method: 'POST',
      url: '/api/tasks/torrent',
      payload: { torrent: f.tooBigTorrent.toString('base64') },
    }),
    body: {
      fields: { torrent: { kind: 'string', min: 1 }, options: OPTIONS },
      required: ['torrent'],
      valid: (f) => ({ torrent: f.validTorrent.toString('base64'), options: { out: 'x.bin', split: 2 } }),
      url: () => '/api/tasks/torrent',
    },
  },
  'GET /api/tasks': {
    access: 'user',
    harmless: () => ({ method: 'GET', url: '/api/tasks?view=all&limit=1000' }),
    query: {
      view: { kind: 'enum', values: ['current', 'history', 'all'] },
      status: {
        kind: 'enum',
        values: ['queued', 'active', 'waiting', 'paused', 'complete', 'error', 'removed'],
      },
      q: { kind: 'string', max: 1000 },
      sort: { kind: 'enum', values: ['created_at', 'updated_at', 'name', 'size', 'speed', 'progress'] },
      order: { kind: 'enum', values: ['asc', 'desc'] },
      limit: { kind: 'int', min: 1, max: 1000, coerce: true },
      offset: { kind: 'int', min: 0, max: MAX_SAFE, coerce: true },
    },
  },
  'DELETE /api/tasks': {
    access: 'user',
    // Dave has no history to clear.
    harmless: (f) => ({ method: 'DELETE', url: '/api/tasks', cookie: f.dave.cookie }),
    query: { delete_files: { kind: 'enum', values: ['true', 'false'] } },
  },
  'POST /api/tasks/retry': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/tasks/retry', payload: { ids: [999999] } }),
    body: {
      fields: { ids: { kind: 'array', of: { kind: 'int', min: 1, max: MAX_SAFE }, min: 1, max: 1000 } },
      required: ['ids'],
      valid: (f) => ({ ids: [f.failed.id] }),
      url: () => '/api/tasks/retry',
    },
  },
  'POST /api/tasks/status': {
    access: 'user',
    // A stopped task cannot be paused: its entry is a 409, nothing changes.
    harmless: (f) => ({
      method: 'POST',
      url: '/api/tasks/status',
      payload: { ids: [f.stopped.id], status: 'pause' },
    }),
    body: {
      fields: {
        ids: { kind: 'array', of: { kind: 'int', min: 1, max: MAX_SAFE }, min: 1, max: 1000 },
        status: { kind: 'enum', values: ['pause', 'resume', 'stop'] },
      },
      required: ['ids', 'status'],
      valid: (f) => ({ ids: [f.failed.id], status: 'stop' }),
      url: () => '/api/tasks/status',
    },
  },
  'POST /api/tasks/delete': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/tasks/delete', payload: { ids: [999999] } }),
    body: {
      fields: {
        ids: { kind: 'array', of: { kind: 'int', min: 1, max: MAX_SAFE }, min: 1, max: 1000 },
        delete_files: { kind: 'bool' },
      },
      required: ['ids'],
      // A mutation accepted by mistake would delete the failed task and its files.
      valid: (f) => ({ ids: [f.failed.id], delete_files: true }),
      url: () => '/api/tasks/delete',
    },
  },
  'GET /api/tasks/artifacts/:token': {
    access: 'user',
    param: 'token',
    harmless: (f) => ({ method: 'GET', url: `/api/tasks/artifacts/${f.done.artifact_token}` }),
  },
  'GET /api/tasks/:id': {
    access: 'user',
    param: 'task-id',
    harmless: (f) => ({ method: 'GET', url: `/api/tasks/${f.done.id}` }),
  },
  'GET /api/tasks/:id/detail': {
    access: 'user',
    param: 'task-id',
    harmless: (f) => ({ method: 'GET', url: `/api/tasks/${f.done.id}/detail` }),
  },
  'GET /api/tasks/:id/files': {
    access: 'user',
    param: 'task-id',
    harmless: (f) => ({ method: 'GET', url: `/api/tasks/${f.done.id}/files` }),
  },
  'PUT /api/tasks/:id/status': {
    access: 'user',
    param: 'task-id',
    harmless: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.stopped.id}/status`,
      payload: { status: 'pause' },
    }),
    body: {
      fields: { status: { kind: 'enum', values: ['pause', 'resume', 'stop'] } },
      required: ['status'],
      valid: () => ({ status: 'stop' }),
      // The failed task: a mutation accepted by mistake as "stop" would turn it into `removed`.
      url: (f) => `/api/tasks/${f.failed.id}/status`,
    },
  },
  'PUT /api/tasks/:id/position': {
    access: 'user',
    param: 'task-id',
    harmless: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.stopped.id}/position`,
      payload: { position: 0, how: 'POS_SET' },
    }),
    body: {
      fields: {
        position: { kind: 'int', min: -1_000_000, max: 1_000_000 },
        how: { kind: 'enum', values: ['POS_SET', 'POS_CUR', 'POS_END'] },
      },
      required: ['position', 'how'],
      valid: () => ({ position: 1, how: 'POS_CUR' }),
      url: (f) => `/api/tasks/${f.stopped.id}/position`,
    },
  },
  'PUT /api/tasks/:id/options': {
    access: 'user',
    param: 'task-id',
    // A stopped task's options cannot change: 409.
    harmless: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.stopped.id}/options`,
      payload: { 'max-download-limit': '1K' },
    }),
  },
  'PUT /api/tasks/:id/files': {
    access: 'user',
    param: 'task-id',
    // A stopped task's files cannot be selected: 409.
    harmless: (f) => ({ method: 'PUT', url: `/api/tasks/${f.stopped.id}/files`, payload: { selected: [1] } }),
  },
  'POST /api/tasks/:id/retry': {
    access: 'user',
    param: 'task-id',
    // A finished task cannot be retried: 409.
    harmless: (f) => ({ method: 'POST', url: `/api/tasks/${f.done.id}/retry` }),
  },
  'GET /api/tasks/:id/torrent': {
    access: 'user',
    param: 'task-id',
    // A URI task has no stored .torrent: 404.
    harmless: (f) => ({ method: 'GET', url: `/api/tasks/${f.done.id}/torrent` }),
  },
  'POST /api/tasks/:id/reupload': {
    access: 'user',
    param: 'task-id',
    // A finished URI task cannot be re-uploaded: 400.
    harmless: (f) => ({ method: 'POST', url: `/api/tasks/${f.done.id}/reupload` }),
  },
  'DELETE /api/tasks/:id/auto-retry': {
    access: 'user',
    param: 'task-id',
    // Nothing is planned for a finished task: 409.
    harmless: (f) => ({ method: 'DELETE', url: `/api/tasks/${f.done.id}/auto-retry` }),
  },
  'DELETE /api/tasks/:id': {
    access: 'user',
    param: 'task-id',
    harmless: () => ({ method: 'DELETE', url: '/api/tasks/999999' }),
    query: { delete_files: { kind: 'enum', values: ['true', 'false'] } },
  },
  'GET /api/stats': { access: 'user', harmless: () => ({ method: 'GET', url: '/api/stats' }) },
  'GET /api/stats/machine': {
    access: 'admin',
    harmless: () => ({ method: 'GET', url: '/api/stats/machine' }),
  },
  'GET /api/config': { access: 'admin', harmless: () => ({ method: 'GET', url: '/api/config' }) },
  'PUT /api/config': {
    access: 'admin',
    // The values it already has.
    harmless: () => ({ method: 'PUT', url: '/api/config', payload: { max_concurrent_downloads: 5 } }),
    body: {
      fields: {
        max_task_size: { kind: 'int', min: 0, max: MAX_SAFE },
        min_free_disk: { kind: 'int', min: 0, max: MAX_SAFE },
        default_quota: { kind: 'int', min: 0, max: MAX_SAFE },
        allow_private_network: { kind: 'bool' },
        max_concurrent_downloads: { kind: 'int', min: 1, max: 1000 },
        max_overall_download_limit: { kind: 'int', min: 0, max: MAX_SAFE },
        max_active_per_user: { kind: 'int', min: 0, max: 1000 },
        max_current_tasks_per_user: { kind: 'int', min: 1, max: 1_000_000 },
        auto_retry_attempts: { kind: 'int', min: 0, max: 10 },
        auto_retry_delay_s: { kind: 'int', min: 1, max: 86_400 },
        auto_retry_max_delay_s: { kind: 'int', min: 1, max: 604_800 },
      },
      required: [],
      valid: () => ({ allow_private_network: true, max_concurrent_downloads: 1, min_free_disk: GiB }),
      url: () => '/api/config',
    },
  },
  'GET /api/files': {
    access: 'user',
    harmless: () => ({ method: 'GET', url: '/api/files?path=' }),
  },
  'GET /api/files/content': {
    access: 'user',
    harmless: () => ({ method: 'GET', url: '/api/files/content?path=no-such-file' }),
  },
  'GET /api/files/archive': {
    access: 'user',
    harmless: () => ({ method: 'GET', url: '/api/files/archive?path=no-such-file' }),
  },
  'POST /api/files/move': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/files/move', payload: { from: 'no-such', to: 'x' } }),
    body: {
      fields: { from: { kind: 'string', max: 16 * 1024 }, to: { kind: 'string', max: 16 * 1024 } },
      required: ['from', 'to'],
      valid: () => ({ from: 'no-such', to: 'no-such-either' }),
      url: () => '/api/files/move',
    },
  },
  'POST /api/files/folder': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/files/folder', payload: { path: 'no-such/x' } }),
    body: {
      fields: { path: { kind: 'string', max: 16 * 1024 } },
      required: ['path'],
      valid: () => ({ path: 'no-such/x' }),
      url: () => '/api/files/folder',
    },
  },
  'DELETE /api/files': {
    access: 'user',
    harmless: () => ({ method: 'DELETE', url: '/api/files?path=no-such-file' }),
  },
  'POST /api/shares': {
    access: 'user',
    harmless: () => ({ method: 'POST', url: '/api/shares', payload: { path: 'no-such-file' } }),
    body: {
      fields: {
        path: { kind: 'string', max: 16 * 1024 },
        expires_at: { kind: 'string' },
        password: { kind: 'string', min: 1, max: 1024 },
        max_downloads: { kind: 'int', min: 1, max: 1_000_000_000 },
      },
      required: ['path'],
      valid: () => ({
        path: 'no-such-file',
        expires_at: '2100-01-01T00:00:00Z',
        password: 'pw',
        max_downloads: 2,
      }),
      url: () => '/api/shares',
    },
  },
  'GET /api/shares': { access: 'user', harmless: () => ({ method: 'GET', url: '/api/shares' }) },
  'DELETE /api/shares/:id': {
    access: 'user',
    harmless: () => ({ method: 'DELETE', url: '/api/shares/999999' }),
  },
  'GET /s/:token': { access: 'share', harmless: () => ({ method: 'GET', url: `/s/${'A'.repeat(43)}` }) },
  'POST /s/:token': {
    access: 'share',
    harmless: () => ({ method: 'POST', url: `/s/${'A'.repeat(43)}`, payload: { password: 'x' } }),
    body: {
      fields: { password: { kind: 'string', max: 1024 } },
      required: ['password'],
      valid: () => ({ password: 'x' }),
      url: () => `/s/${'A'.repeat(43)}`,
    },
  },
  'POST /api/tokens': {
    access: 'session',
    harmless: () => ({ method: 'POST', url: '/api/tokens', payload: { name: '' } }),
    body: {
      fields: { name: { kind: 'string', min: 1, max: 100 } },
      required: ['name'],
      valid: () => ({ name: 'fuzz' }),
      url: () => '/api/tokens',
    },
  },
  'GET /api/tokens': { access: 'session', harmless: () => ({ method: 'GET', url: '/api/tokens' }) },
  'DELETE /api/tokens/:id': {
    access: 'session',
    harmless: () => ({ method: 'DELETE', url: '/api/tokens/999999' }),
  },
  'GET /ws/tasks': { access: 'socket', harmless: () => ({ method: 'GET', url: '/ws/tasks' }) },
  // The RPC's own bad input (aria2's error shape) is tested in backend/test/rpc; here, that it holds.
  'POST /jsonrpc': {
    access: 'rpc',
    harmless: () => ({
      method: 'POST',
      url: '/jsonrpc',
      payload: { jsonrpc: '2.0', id: 1, method: 'system.listMethods' },
    }),
  },
  'GET /jsonrpc': { access: 'rpc', harmless: () => ({ method: 'GET', url: '/jsonrpc' }) },
  'OPTIONS /jsonrpc': { access: 'rpc', harmless: () => ({ method: 'OPTIONS', url: '/jsonrpc' }) },
};

/**
 * Inputs routes declare that this file does not fuzz by spec (the known gaps): the files paths and
 * share tokens have their own hostile-input tests (files-http, shares-http), and every listed body is
 * still reached by the random bodies below.
 */
const NOT_FUZZED = new Set([
  'DELETE /api/files: query',
  'GET /api/files: query',
  'GET /api/files/archive: query',
  'GET /api/files/content: query',
  'DELETE /api/shares/:id: param',
  'DELETE /api/tokens/:id: param',
  'GET /s/:token: param',
  'POST /s/:token: param',
  'POST /api/tasks/:id/retry: body',
  'PUT /api/tasks/:id/files: body',
  'PUT /api/tasks/:id/options: body',
]);

function nextLogoutSession(f: Fixture): string {
  const cookie = f.logoutPool.pop();
  if (!cookie) throw new Error('the logout session pool ran dry: raise its size');
  return cookie;
}

// ---- the checks every answer must pass -------------------------------------------------------------

const f = {} as Fixture;
const statusCounts = new Map<number, number>();

/** Everything a request could change, as comparable text per part. */
async function snapshot(): Promise<Record<string, string>> {
  const { db, aria2, config } = f.c;
  const [tasks, users, sessions, settings, tokens] = await Promise.all([
    db.selectFrom('tasks').selectAll().orderBy('id').execute(),
    db.selectFrom('users').selectAll().orderBy('id').execute(),
    // expires_at slides forward on use (at most once a minute): not a change made by the request.
    db.selectFrom('sessions').select(['id_hash', 'user_id', 'created_at']).orderBy('id_hash').execute(),
    db.selectFrom('settings').selectAll().orderBy('key').execute(),
    // last_used_at moves on use (at most once a minute): not a change made by the request.
    db.selectFrom('api_tokens').select(['id', 'user_id', 'name', 'token_hash']).orderBy('id').execute(),
  ]);
  const keys = ['gid', 'status'];
  const lists = await aria2.multicall([
    { method: 'aria2.tellActive', params: [keys] },
    { method: 'aria2.tellWaiting', params: [0, 1000, keys] },
    { method: 'aria2.tellStopped', params: [0, 1000, keys] },
  ]);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(`${path.relative(config.downloadDir, p)} ${fs.statSync(p).size}`);
    }
  };
  walk(config.downloadDir);
  return {
    tasks: JSON.stringify(
      tasks.map((t) => ({
        ...t,
        torrent: t.torrent ? createHash('sha1').update(t.torrent).digest('hex') : null,
      })),
    ),
    users: JSON.stringify(users),
    sessions: JSON.stringify(sessions),
    settings: JSON.stringify(settings),
    tokens: JSON.stringify(tokens),
    aria2: JSON.stringify(lists.map((l) => (l.ok ? l.value : 'unavailable'))),
    files: files.sort().join('\n'),
  };
}

const STACK_FRAME = /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+/;
const ERROR_WITH_PATH = /\b\w*Error: [^"\n]*\/(?:tmp|work|home|root|usr|var|srv|opt|proc|etc)\//;
const ABSOLUTE_SERVER_PATH = /(?:^|[\s"'(=:,[])\/(?:tmp|work|home|root|usr|var|srv|opt|proc)\/[\w.-]+/;

function secrets(): string[] {
  return [
    f.c.dataDir,
    f.c.config.downloadDir,
    process.cwd(),
    'password_hash',
    '$argon2',
    ADMIN_PASSWORD,
    USER_PASSWORD,
    BOB_PASSWORD,
    FUZZ_PASSWORD,
    ...(f.c.daemon ? [f.c.daemon.secret] : []),
  ];
}

function describeReq(r: Req): string {
  const body =
    r.payload === undefined
      ? ''
      : typeof r.payload === 'string'
        ? r.payload
        : Buffer.isBuffer(r.payload)
          ? `<${r.payload.length} bytes>`
          : JSON.stringify(r.payload);
  const headers = r.headers ? ` ${JSON.stringify(r.headers)}` : '';
  return `${r.method} ${r.url.slice(0, 200)}${headers.slice(0, 300)} ${body.slice(0, 300)}`;
}

/** The answer passes the contract's invariants. */
function checkAnswer(res: LightMyRequestResponse, what: string): void {
  statusCounts.set(res.statusCode, (statusCounts.get(res.statusCode) ?? 0) + 1);
  expect(res.statusCode, `${what} -> ${res.body.slice(0, 300)}`).toBeLessThan(500);
  const isArtifact = res.headers['content-disposition'] !== undefined;
  const text = isArtifact ? '' : res.body;
  if (res.statusCode >= 400) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = res.body;
    }
    if (!isRpcError(parsed)) {
      expect(parsed, `${what}: a ${res.statusCode} must be {detail}`).toEqual({ detail: expect.any(String) });
      expect((parsed as { detail: string }).detail.length, what).toBeGreaterThan(0);
    }
  }
  checkText(res, text, what);
}

/** The RPC answers its calls' errors in aria2's shape, not as {detail}. */
function isRpcError(parsed: unknown): boolean {
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'number' && typeof error.message === 'string' && error.message.length > 0;
}

/** No stack frame, server path or secret in an answer. */
function checkText(res: LightMyRequestResponse, text: string, what: string): void {
  expect(text, `${what}: a stack frame in the answer`).not.toMatch(STACK_FRAME);
  expect(text, `${what}: an error with a server path`).not.toMatch(ERROR_WITH_PATH);
  if (res.statusCode >= 400) expect(text, `${what}: a server path`).not.toMatch(ABSOLUTE_SERVER_PATH);
  for (const s of secrets())
    expect(text.includes(s), `${what}: the answer contains ${JSON.stringify(s)}`).toBe(false);
}

function cookieFor(access: Access): string | undefined {
  if (access === 'admin') return f.admin;
  if (access === 'user' || access === 'session') return f.alice.cookie;
  return undefined;
}

/** Sends a request with the route's session, checks the answer, and that a 4xx changed nothing. */
async function send(req: Req, access: Access): Promise<LightMyRequestResponse> {
  const cookie = req.cookie === 'none' ? undefined : (req.cookie ?? cookieFor(access));
  const headers: Record<string, string> = { ...(cookie ? { cookie } : {}) };
  let payload: InjectOptions['payload'];
  if (req.payload !== undefined) {
    if (typeof req.payload === 'string' || Buffer.isBuffer(req.payload)) {
      payload = req.payload;
      headers['content-type'] = 'application/json';
    } else {
      payload = JSON.stringify(req.payload);
      headers['content-type'] = 'application/json';
    }
  }
  Object.assign(headers, req.headers);
  const what = describeReq(req);
  const before = await snapshot();
  const res = await f.c.app.inject({ method: req.method, url: req.url, headers, payload });
  checkAnswer(res, what);
  if (res.statusCode >= 400) {
    expect(
      await snapshot(),
      `${what} answered ${res.statusCode} ${res.body.slice(0, 200)} but changed state`,
    ).toEqual(before);
  }
  return res;
}

function expectDetail(res: LightMyRequestResponse, status: number, names: string | null, what: string): void {
  expect(res.statusCode, `${what} -> ${res.body.slice(0, 300)}`).toBe(status);
  if (names !== null) expect(res.json().detail, `${what}: the detail names the field`).toContain(names);
}

// ---- arbitraries -------------------------------------------------------------------------------

type Path = (string | number)[];

interface Mutation {
  what: string;
  /** The body as an object, or raw JSON text. */
  payload: unknown;
  /** A name the 422 detail must contain, when the mutation is about one field. */
  names: string | null;
}

function setPath(obj: unknown, p: Path, value: unknown): unknown {
  if (p.length === 0) return value;
  const [head, ...rest] = p;
  const base = (obj ?? (typeof head === 'number' ? [] : {})) as Record<string | number, unknown>;
  const copy = (Array.isArray(base) ? [...base] : { ...base }) as Record<string | number, unknown>;
  copy[head!] = setPath(base[head!], rest, value);
  return copy;
}

function deletePath(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _gone, ...rest } = obj;
  return rest;
}

/** Every field path of a spec: top fields, option fields and array elements. */
function fieldPaths(fields: Record<string, Field>, prefix: Path = []): { path: Path; field: Field }[] {
  const out: { path: Path; field: Field }[] = [];
  for (const [name, field] of Object.entries(fields)) {
    out.push({ path: [...prefix, name], field });
    if (field.kind === 'object') out.push(...fieldPaths(field.fields, [...prefix, name]));
    if (field.kind === 'array') out.push({ path: [...prefix, name, 0], field: field.of });
  }
  return out;
}

const MARK = '\u0000mark\u0000';
const leafName = (p: Path) => String([...p].reverse().find((s) => typeof s === 'string'));

const NAN_ISH = ['abc', 'NaN', 'Infinity', '-Infinity', '', ' ', '1.5', '-1', '12abc', '１２', '0x', '1e999'];
const anyObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
  minKeys: 1,
  maxKeys: 3,
});

/** A value of another JSON type than the field takes. */
function wrongType(field: Field): fc.Arbitrary<unknown> {
  const common = [fc.constant(null), anyObject];
  switch (field.kind) {
    case 'string':
      return fc.oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.array(fc.string(), { maxLength: 2 }),
        ...common,
      );
    case 'int':
      return fc.oneof(
        fc.boolean(),
        fc.array(fc.integer({ min: field.min, max: Math.min(field.max, field.min + 10) }), {
          minLength: 1,
          maxLength: 2,
        }),
        fc.constantFrom(
          ...NAN_ISH.filter(
            (s) =>
              !field.coerce ||
              Number.isNaN(Number(s)) ||
              Number(s) < field.min ||
              !Number.isInteger(Number(s)),
          ),
        ),
        // A number as a string is the wrong type for a JSON number (aria2-style options coerce them).
        ...(field.coerce
          ? []
          : [fc.integer({ min: Math.max(field.min, -1000), max: Math.min(field.max, 1000) }).map(String)]),
        ...common,
      );
    case 'bool':
      return fc.oneof(
        fc.integer({ min: 0, max: 1 }),
        fc.constantFrom('true', 'false', '1', '0', 'yes', ''),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 1 }),
        ...common,
      );
    case 'enum':
      return fc.oneof(
        fc.string({ maxLength: 12 }).filter((s) => !field.values.includes(s)),
        fc
          .constantFrom(...field.values)
          .map((v) => (v.toUpperCase() === v ? v.toLowerCase() : v.toUpperCase())),
        fc.constantFrom(...field.values).map((v) => ` ${v}`),
        fc.constantFrom(...field.values).map((v) => `${v}\u0000`),
        fc.constantFrom(...field.values).map((v) => [v]),
        fc.integer(),
        fc.boolean(),
        ...common,
      );
    case 'array':
      return fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), ...common);
    case 'object':
      return fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      );
  }
}

/** A value of the right type but out of its bounds; null when the field has none to break. */
function outOfRange(field: Field): fc.Arbitrary<unknown> | null {
  switch (field.kind) {
    case 'int': {
      const bad: number[] = [
        field.min - 1,
        field.min + 0.5,
        -(2 ** 53) - 2,
        Number.MAX_VALUE,
        -Number.MAX_VALUE,
      ];
      if (field.max < MAX_SAFE) bad.push(field.max + 1);
      else bad.push(2 ** 53, 2 ** 60);
      return fc.oneof(
        fc.constantFrom(...bad),
        fc.integer({ min: -(2 ** 31), max: field.min - 1 }),
        ...(field.max < 2 ** 30 ? [fc.integer({ min: field.max + 1, max: 2 ** 31 })] : []),
      );
    }
    case 'string': {
      const options: fc.Arbitrary<unknown>[] = [];
      if (field.max !== undefined && field.max < 200_000) {
        options.push(fc.integer({ min: field.max + 1, max: field.max + 64 }).map((n) => 'a'.repeat(n)));
      }
      if (field.min !== undefined && field.min > 0) {
        options.push(fc.integer({ min: 0, max: field.min - 1 }).map((n) => 'a'.repeat(n)));
      }
      return options.length > 0 ? fc.oneof(...options) : null;
    }
    case 'array': {
      const options: fc.Arbitrary<unknown>[] = [];
      const sample = field.of.kind === 'int' ? 1 : 'X-Y: z';
      if (field.max < 5000) options.push(fc.constant(Array(field.max + 1).fill(sample)));
      if (field.min > 0) options.push(fc.constant([]));
      return options.length > 0 ? fc.oneof(...options) : null;
    }
    default:
      return null;
  }
}

/** fast-check prints a counterexample with this: the description and the start of the body, not megabytes. */
function printable<T extends { what: string; payload: unknown }>(m: T): T {
  const text =
    typeof m.payload === 'string'
      ? m.payload
      : Buffer.isBuffer(m.payload)
        ? `<${m.payload.length} bytes>`
        : JSON.stringify(m.payload);
  return Object.assign(m, {
    [fc.toStringMethod]: () => `${m.what}: ${text.slice(0, 300)}${text.length > 300 ? '…' : ''}`,
  });
}

/** Mutations of a valid body that make it malformed: each must be a 422 that changes nothing. */
function malformedBodies(spec: BodySpec, valid: Record<string, unknown>): fc.Arbitrary<Mutation> {
  return malformedBodiesRaw(spec, valid).map(printable);
}

function malformedBodiesRaw(spec: BodySpec, valid: Record<string, unknown>): fc.Arbitrary<Mutation> {
  const paths = fieldPaths(spec.fields);
  const pathArb = fc.constantFrom(...paths);
  const withValue = (p: Path, value: unknown) => setPath(valid, p, value);
  /** The valid body as JSON text with raw JSON text in place of the value at `p`. */
  const rawAt = (p: Path, raw: string) =>
    JSON.stringify(withValue(p, MARK)).replace(JSON.stringify(MARK), raw);
  /** The object fields: the top level, or `options`. */
  const objectAt = fc.constantFrom<Path>(
    [],
    ...paths.filter((x) => x.field.kind === 'object').map((x) => x.path),
  );
  const fieldsAt = (at: Path) =>
    at.length === 0
      ? spec.fields
      : (paths.find((x) => x.path.join('.') === at.join('.'))!.field as { fields: Record<string, Field> })
          .fields;
  /** A member ("key":value, as JSON text) added to the object at `at`: no JavaScript object semantics get in the way. */
  const insertMember = (at: Path, member: string) => {
    const inner = JSON.stringify(
      at.length === 0 ? valid : ((valid[at[0] as string] as object | undefined) ?? {}),
    );
    const injected = inner.replace(/}$/, `${inner === '{}' ? '' : ','}${member}}`);
    return at.length === 0 ? injected : rawAt(at, injected);
  };

  const arbs: fc.Arbitrary<Mutation>[] = [
    pathArb.chain(({ path: p, field }) =>
      wrongType(field).map((v) => ({
        what: `wrong type at ${p.join('.')}`,
        payload: withValue(p, v),
        names: leafName(p),
      })),
    ),
    fc
      .tuple(objectAt, fc.string({ minLength: 1, maxLength: 16 }), fc.jsonValue({ maxDepth: 2 }))
      .filter(([at, key]) => !(key in fieldsAt(at)) && key !== '__proto__')
      .map(([at, key, value]) => ({
        what: `unknown field ${JSON.stringify(key)} at ${at.join('.') || 'top'}`,
        payload: insertMember(at, `${JSON.stringify(key)}:${JSON.stringify(value)}`),
        names: null,
      })),
    fc
      .oneof(
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
        fc.string(),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
      )
      .map((v) => ({
        what: 'not an object',
        payload: JSON.stringify(v),
        names: null,
      })),
    fc
      .tuple(pathArb, fc.integer({ min: 50, max: 3000 }), fc.boolean())
      .map(([{ path: p }, depth, arrays]) => ({
        what: `${depth} levels of nesting at ${p.join('.')}`,
        payload: rawAt(
          p,
          arrays
            ? `${'['.repeat(depth)}${']'.repeat(depth)}`
            : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        ),
        names: leafName(p),
      })),
    fc
      .tuple(
        objectAt,
        fc.constantFrom(
          '"__proto__":{"is_admin":true,"out":"../../x"}',
          '"constructor":{"prototype":{"is_admin":true}}',
          '"__proto__":null',
          '"a":{"__proto__":{"polluted":1}}',
        ),
      )
      .map(([at, member]) => ({
        what: `prototype keys at ${at.join('.') || 'top'}`,
        payload: insertMember(at, member),
        names: null,
      })),
  ];
  const strings = paths.filter((x) => x.field.kind === 'string');
  if (strings.length > 0) {
    arbs.push(
      fc
        .tuple(
          fc.constantFrom(...strings),
          // At most 2 bytes a character: the body stays under the 1 MiB limit.
          fc.integer({ min: 20_000, max: 400_000 }),
          fc.constantFrom('A', 'é', '/', '%', ' '),
        )
        .map(([{ path: p }, n, unit]) => ({
          what: `a ${n}-character string at ${p.join('.')}`,
          payload: withValue(p, `${unit.repeat(n)}\u0001`),
          names: leafName(p),
        })),
      fc.constantFrom(...strings).chain(({ path: p }) =>
        fc.constantFrom('\u0001', '\u0000', '\n', '\u001f', '\t').map((ch) => ({
          what: `a raw control character in the string at ${p.join('.')}`,
          payload: rawAt(p, `"a${ch}b"`),
          names: null,
        })),
      ),
    );
  }
  const required = spec.required.filter((k) => k in valid);
  if (required.length > 0) {
    arbs.push(
      fc
        .constantFrom(...required)
        .map((k) => ({ what: `without ${k}`, payload: deletePath(valid, k), names: k })),
    );
  }
  const ranged = paths.flatMap(({ path: p, field }) => {
    const arb = outOfRange(field);
    return arb
      ? [
          arb.map((v) => ({
            what: `out of range at ${p.join('.')}: ${String(v).slice(0, 40)}`,
            payload: withValue(p, v),
            names: leafName(p),
          })),
        ]
      : [];
  });
  if (ranged.length > 0) arbs.push(fc.oneof(...ranged));
  const numeric = paths.filter((x) => x.field.kind === 'int');
  if (numeric.length > 0) {
    arbs.push(
      fc
        .tuple(
          fc.constantFrom(...numeric),
          fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890', '0.5', '1.0000001'),
        )
        .map(([{ path: p }, raw]) => ({
          what: `the number ${raw} at ${p.join('.')}`,
          payload: rawAt(p, raw),
          names: leafName(p),
        })),
    );
  }
  return fc.oneof(...arbs);
}

/**
 * One value of each wrong JSON type at every field path, always tried before the random runs (fast-check's
 * `examples`), so a lax field cannot hide behind the seed.
 */
function wrongTypeExamples(spec: BodySpec, valid: Record<string, unknown>): Mutation[] {
  const values = (field: Field): unknown[] => {
    switch (field.kind) {
      case 'string':
        return [123, true, null, ['x'], { a: 1 }];
      case 'int':
        return [
          true,
          false,
          null,
          [field.min],
          { a: 1 },
          'abc',
          ...(field.coerce ? [] : [String(field.min)]),
        ];
      case 'bool':
        return [1, 0, 'true', null, [true], { a: 1 }];
      case 'enum':
        return [
          [field.values[0]],
          field.values[0]!.toUpperCase() === field.values[0]
            ? field.values[0]!.toLowerCase()
            : field.values[0]!.toUpperCase(),
          1,
          true,
          null,
          { a: 1 },
        ];
      case 'array':
        return ['x', 1, true, null, { a: 1 }];
      case 'object':
        return ['x', 1, true, null, [1]];
    }
  };
  return fieldPaths(spec.fields).flatMap(({ path: p, field }) =>
    values(field).map((v) =>
      printable({
        what: `wrong type at ${p.join('.')}: ${JSON.stringify(v)}`,
        payload: setPath(valid, p, v),
        names: leafName(p),
      }),
    ),
  );
}

/** Bodies of unknown validity: random JSON, random bytes, random text, valid bodies with one random value. */
function randomBodies(
  spec: BodySpec | undefined,
  valid: Record<string, unknown> | null,
  oneRandomValue: boolean,
): fc.Arbitrary<{ what: string; payload: unknown }> {
  const arbs: fc.Arbitrary<{ what: string; payload: unknown }>[] = [
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({ what: 'random JSON', payload: JSON.stringify(v) })),
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ what: 'random bytes', payload: Buffer.from(b) })),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ what: 'random text', payload: s })),
    // Invalid UTF-8 inside an otherwise valid JSON string.
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => ({
      what: 'invalid UTF-8 in a string',
      payload: Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff, 0xfe, ...b]), Buffer.from('"}')]),
    })),
  ];
  if (spec && valid && oneRandomValue) {
    const paths = fieldPaths(spec.fields);
    arbs.push(
      fc
        .tuple(
          fc.constantFrom(...paths),
          fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary' }), fc.constantFrom(...NAN_ISH)),
        )
        .map(([{ path: p }, v]) => ({
          what: `a random value at ${p.join('.')}`,
          payload: JSON.stringify(setPath(valid, p, v)),
        })),
    );
    const strings = paths.filter((x) => x.field.kind === 'string');
    if (strings.length > 0) {
      // A lone surrogate, escaped: valid JSON, odd text.
      arbs.push(
        fc.constantFrom(...strings).map(({ path: p }) => ({
          what: `a lone surrogate at ${p.join('.')}`,
          payload: JSON.stringify(setPath(valid, p, MARK)).replace(JSON.stringify(MARK), '"\\ud800x"'),
        })),
      );
    }
  }
  return fc.oneof(...arbs);
}

// ---- fixtures ----------------------------------------------------------------------------------

/** Waits until nothing moves any more: the state is the same twice in a row. */
async function settle(): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const now = JSON.stringify(await snapshot());
      const same = now === last;
      last = now;
      if (!same) await new Promise((r) => setTimeout(r, 300));
      return same;
    },
    15_000,
    'the state to settle',
  );
}

/**
 * A request accepted by mistake may have created a task that aria2 now runs; it goes at once, so the
 * failure it is reported as does not turn into state changes under the tests after it.
 */
async function removeStrayTasks(): Promise<void> {
  const keep = new Set([f.done.id, f.failed.id, f.stopped.id]);
  const rows = await f.c.db.selectFrom('tasks').select(['id']).execute();
  for (const r of rows.filter((row) => !keep.has(row.id))) {
    await f.c.app.inject({
      method: 'DELETE',
      url: `/api/tasks/${r.id}?delete_files=true`,
      headers: { cookie: f.alice.cookie },
    });
  }
  await settle();
}

beforeAll(async () => {
  f.c = await startTestController();
  f.server = await startFileServer();
  f.doneContent = Buffer.from('alice finished file\n'.repeat(64));
  f.server.addFile('/fx/done.txt', f.doneContent);
  f.server.addFile('/fx/missing.bin', Buffer.alloc(10), { status: 404 });
  f.server.addFile('/fx/slow.bin', { size: 5_000_000 }, { throttle: 20_000 });
  f.admin = await f.c.adminCookie();
  f.alice = await f.c.createUser('alice');
  f.bob = await f.c.createUser('bob');
  f.carol = await f.c.createUser('carol');
  f.dave = await f.c.createUser('dave');
  await f.c.users.update({ id: 1, username: 'admin', is_admin: true, quota: 0 }, f.bob.id, {
    password: BOB_PASSWORD,
  });
  f.logoutPool = [];
  for (let i = 0; i < 150; i++) {
    const { sessionId } = await f.c.auth.login('dave', USER_PASSWORD, '10.9.0.1');
    f.logoutPool.push(`aria2_session=${sessionId}`);
  }

  const alice = as(f.c, f.alice.cookie);
  const done = await alice.add(f.server.url('/fx/done.txt'));
  f.done = await alice.waitTask(done.id, (t) => t.status === 'complete' && t.artifact_token !== null);
  const failed = await alice.add(f.server.url('/fx/missing.bin'));
  f.failed = await alice.waitTask(failed.id, (t) => t.status === 'error');
  const slow = await alice.add(f.server.url('/fx/slow.bin'));
  await alice.waitTask(slow.id, (t) => t.status === 'active');
  expect((await alice.put(`/api/tasks/${slow.id}/status`, { status: 'stop' })).statusCode).toBe(200);
  f.stopped = await alice.waitTask(slow.id, (t) => t.status === 'removed');

  // From here on the network guard is on: no URI the fuzzing makes up can start a download.
  const guard = await f.c.app.inject({
    method: 'PUT',
    url: '/api/config',
    headers: { cookie: f.admin },
    payload: { allow_private_network: false },
  });
  expect(guard.statusCode).toBe(200);

  f.validTorrent = makeTorrent({ name: 'fuzz.bin', content: patternBytes(0, 40_000) }).torrent;
  f.tooBigTorrent = encode({
    info: {
      name: 'big.iso',
      length: 20 * GiB,
      'piece length': 64 * 1024 * 1024,
      pieces: Buffer.alloc(320 * 20),
    },
  });
  await settle();
}, 90_000);

afterAll(async () => {
  console.log(
    `[bad input] answers by status: ${[...statusCounts.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ')}`,
  );
  await f.c?.destroy();
  await f.server?.close();
});

// ---- the tests ---------------------------------------------------------------------------------

describe('bad input over every route', () => {
  it('the table lists exactly the routes the controller serves', () => {
    const table = new Set(Object.keys(ROUTES).map(routeKey));
    const served = servedRoutes(f.c);
    expect(served.size).toBeGreaterThan(20);
    expect(
      [...served.keys()].filter((r) => !table.has(r)),
      'routes missing from the table',
    ).toEqual([]);
    expect(
      [...table].filter((r) => !served.has(r)),
      'table entries with no route',
    ).toEqual([]);
  });

  it("each case's access is its route's, and it fuzzes what its route takes", () => {
    const served = servedRoutes(f.c);
    const declaredAccess = Object.fromEntries(
      Object.keys(ROUTES).map((k) => [k, served.get(routeKey(k))?.access]),
    );
    expect(declaredAccess).toEqual(Object.fromEntries(Object.entries(ROUTES).map(([k, r]) => [k, r.access])));
    // What each route takes, from its own schema, against what its case fuzzes: a spec for nothing is
    // stale, and a new input with no spec (and not among the known gaps) fails here.
    const declared: string[] = [];
    const fuzzed: string[] = [];
    for (const [key, route] of served) {
      const c = ROUTES[key];
      if (route.schema.body !== undefined) declared.push(`${key}: body`);
      if (route.schema.params !== undefined) declared.push(`${key}: param`);
      if (route.schema.querystring !== undefined) declared.push(`${key}: query`);
      if (c?.body) fuzzed.push(`${key}: body`);
      if (c?.param) fuzzed.push(`${key}: param`);
      if (c?.query) fuzzed.push(`${key}: query`);
    }
    expect(
      fuzzed.filter((x) => !declared.includes(x)),
      'specs for an input the route does not take',
    ).toEqual([]);
    expect(
      declared.filter((x) => !fuzzed.includes(x) && !NOT_FUZZED.has(x)).sort(),
      'inputs with no spec',
    ).toEqual([]);
  });

  it('every harmless request passes the checks (the baseline of the properties below)', async () => {
    for (const [key, route] of Object.entries(ROUTES)) {
      if (route.access === 'socket') continue;
      const res = await send(route.harmless(f), route.access);
      expect(res.statusCode, key).toBeLessThan(500);
    }
  });

  describe('malformed JSON bodies are 422, name the field and change nothing', () => {
    let offset = 0;
    for (const [key, route] of Object.entries(ROUTES)) {
      const spec = route.body;
      if (!spec) continue;
      const seed = ++offset;
      it(key, async () => {
        const method = key.split(' ')[0] as Req['method'];
        const valid = spec.valid(f);
        await fc.assert(
          fc.asyncProperty(malformedBodies(spec, valid), async (m) => {
            const req: Req = { method, url: spec.url(f), payload: m.payload };
            const res = await send(req, route.access);
            if (res.statusCode < 400) await removeStrayTasks();
            expectDetail(res, 422, m.names, `${m.what}: ${describeReq(req)}`);
          }),
          {
            ...FC(seed, RUNS.mutations),
            examples: wrongTypeExamples(spec, valid).map((m) => [m] as [Mutation]),
          },
        );
      });
    }
  });

  describe('random bodies, bytes and text never break a route', () => {
    let offset = 100;
    for (const [key, route] of Object.entries(ROUTES)) {
      if (route.access === 'socket') continue;
      const method = key.split(' ')[0] as Req['method'];
      if (method === 'GET') continue;
      const seed = ++offset;
      // A valid body with one random value only where any valid outcome is harmless.
      const oneRandomValue = [
        'POST /api/auth/login',
        'POST /api/auth/change-password',
        'POST /api/tasks',
        'POST /api/tasks/batch',
        'POST /api/tasks/torrent',
      ].includes(key);
      it(key, async () => {
        const base = route.harmless(f);
        await fc.assert(
          fc.asyncProperty(
            randomBodies(route.body, (base.payload as Record<string, unknown>) ?? null, oneRandomValue),
            async (b) => {
              const req: Req = { ...route.harmless(f), payload: b.payload };
              await send(req, route.access);
            },
          ),
          FC(seed, key === 'POST /api/auth/logout' ? 15 : RUNS.randomBodies),
        );
      });
    }
  });

  describe('hostile path ids are 422 and change nothing', () => {
    // Forms that a lax parser reads as the target id first: accepting one changes a real row.
    const hostile = (n: number) => [
      `0x${n.toString(16)}`,
      `+${n}`,
      `%20${n}`,
      `${n}%20`,
      `${n}e0`,
      '0',
      '-1',
      `-${n}`,
      '1e3',
      '0x10',
      `${n}.5`,
      '9999999999999999999',
      '%00',
      `${n}%00`,
      '..%2F',
      `..%2F${n}`,
      'NaN',
      'Infinity',
      'abc',
      '%F0%9F%92%A9',
      `${n}abc`,
    ];
    for (const [key, route] of Object.entries(ROUTES)) {
      if (route.param !== 'task-id' && route.param !== 'user-id') continue;
      it(key, async () => {
        const base = route.harmless(f);
        // Aimed at a real row, so an id accepted by mistake shows as a change of state or a 2xx.
        const target =
          route.param === 'user-id'
            ? key.startsWith('DELETE')
              ? f.carol.id
              : f.bob.id
            : key.startsWith('DELETE')
              ? f.failed.id
              : f.stopped.id;
        for (const id of hostile(target)) {
          const url = key
            .split(' ')[1]!
            .replace(':id', id)
            .concat(base.url.includes('?') ? `?${base.url.split('?')[1]}` : '');
          const payload = key === 'PUT /api/users/:id' ? { quota: 7 } : base.payload;
          const req: Req = { ...base, url, payload };
          const res = await send(req, route.access);
          expectDetail(res, 422, 'id', describeReq(req));
        }
      });
    }

    it('an id or token longer than the router takes is a 4xx with {detail} on every route', async () => {
      for (const [key, route] of Object.entries(ROUTES)) {
        if (!route.param) continue;
        const base = route.harmless(f);
        const url = key.split(' ')[1]!.replace(/:id|:token/, '1'.repeat(17 * 1024));
        const res = await send({ ...base, url }, route.access);
        expect(res.statusCode, key).toBeGreaterThanOrEqual(400);
      }
    });

    it('GET /api/tasks/artifacts/:token: hostile and traversing tokens find nothing', async () => {
      const token = f.done.artifact_token!;
      // (Bare `..` and `%2e%2e` segments are normalised away by the in-process client: reliability-limits
      // sends them over a real socket.)
      const tokens = [
        '..%2F..%2F..%2Fetc%2Fpasswd',
        `..%2F${token}`,
        `${token}%2F..%2F..%2F..%2Fetc%2Fpasswd`,
        '..%5C..%5C..%5Cwindows%5Cwin.ini',
        '%00',
        `${token}%00`,
        `${token}%2500`,
        `${token.slice(0, -1)}`,
        `${token}x`,
        token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase(),
        '%2Fetc%2Fpasswd',
        'A'.repeat(200),
        'A'.repeat(201),
        '*',
        `${f.done.artifact_path}`,
        encodeURIComponent(path.join(f.c.config.downloadDir, String(f.alice.id), f.done.artifact_path!)),
      ];
      for (const t of tokens) {
        const req: Req = { method: 'GET', url: `/api/tasks/artifacts/${t}` };
        const res = await send(req, 'user');
        expect([404, 422], describeReq(req)).toContain(res.statusCode);
        expect(res.rawPayload.includes(f.doneContent), describeReq(req)).toBe(false);
        expect(res.body, describeReq(req)).not.toMatch(/root:.*:0:0:/);
      }
      await fc.assert(
        fc.asyncProperty(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter((s) => s !== '.' && s !== '..'),
          async (s) => {
            const req: Req = { method: 'GET', url: `/api/tasks/artifacts/${encodeURIComponent(s)}` };
            const res = await send(req, 'user');
            expect([404, 422], describeReq(req)).toContain(res.statusCode);
          },
        ),
        FC(300, RUNS.queries),
      );
    });
  });

  describe('query strings', () => {
    let offset = 400;
    for (const [key, route] of Object.entries(ROUTES)) {
      const schema = route.query;
      if (!schema) continue;
      const seed = ++offset;
      it(`${key}: malformed queries are 422 and change nothing`, async () => {
        const base = route.harmless(f);
        // Aimed where an accepted query would change something: Alice's history, Carol, a stopped task.
        const url =
          key === 'DELETE /api/tasks'
            ? '/api/tasks'
            : key === 'DELETE /api/users/:id'
              ? `/api/users/${f.carol.id}`
              : key === 'DELETE /api/tasks/:id'
                ? `/api/tasks/${f.stopped.id}`
                : base.url.split('?')[0]!;
        const cookie = key === 'DELETE /api/tasks' ? f.alice.cookie : base.cookie;
        const badValue = (field: Field): fc.Arbitrary<string> => {
          if (field.kind === 'enum') {
            return fc.oneof(
              fc.string({ maxLength: 10 }).filter((s) => !field.values.includes(s)),
              fc.constantFrom(...field.values).map((v) => v.toUpperCase()),
              fc.constantFrom(...field.values).map((v) => `${v} `),
            );
          }
          if (field.kind === 'int') {
            return fc.oneof(
              fc.constantFrom(
                '-1',
                'abc',
                'NaN',
                'Infinity',
                '1.5',
                '99999999999999999999',
                '1e400',
                '-0.5',
                '12abc',
              ),
              fc.integer({ min: -(2 ** 31), max: field.min - 1 }).map(String),
              ...(field.max < 2 ** 30 ? [fc.integer({ min: field.max + 1, max: 2 ** 31 }).map(String)] : []),
            );
          }
          return fc.integer({ min: 1001, max: 5000 }).map((n) => 'q'.repeat(n));
        };
        const keys = Object.keys(schema);
        const arb = fc.oneof(
          fc
            .constantFrom(...keys)
            .chain((k) =>
              badValue(schema[k]!).map((v) => ({ q: `${k}=${encodeURIComponent(v)}`, names: k })),
            ),
          fc
            .tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 12 }))
            .filter(([k]) => !keys.includes(k))
            .map(([k, v]) => ({ q: `${encodeURIComponent(k)}=${encodeURIComponent(v)}`, names: null })),
          fc.constantFrom(...keys).map((k) => ({ q: `${k}=a&${k}=b`, names: k })),
          fc
            .constantFrom('__proto__[x]=1', 'constructor[prototype][x]=1', '__proto__=1', 'constructor=1')
            .map((q) => ({ q, names: null })),
        );
        await fc.assert(
          fc.asyncProperty(arb, async ({ q, names }) => {
            const req: Req = { ...base, url: `${url}?${q}`, cookie };
            const res = await send(req, route.access);
            expectDetail(res, 422, names, describeReq(req));
          }),
          FC(seed, RUNS.queries),
        );
      });
    }

    it('random query strings on every route never break it', async () => {
      const routes = Object.entries(ROUTES).filter(([, r]) => r.access !== 'socket');
      const raw = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }).map(encodeURIComponent),
        fc.constantFrom(
          '%',
          '%zz',
          '%00',
          '%E0%A4%A',
          '&&&',
          '=&=',
          'a[b][c]=1',
          'limit=-1&offset=-1',
          'limit=1e400',
          'q=%25_%5C',
          `q=${'%FF'.repeat(300)}`,
        ),
        fc
          .dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 10 }), { maxKeys: 4 })
          .map((d) => new URLSearchParams(d).toString()),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), raw, async ([key, route], q) => {
          const base = route.harmless(f);
          const req: Req = { ...base, url: `${base.url}${base.url.includes('?') ? '&' : '?'}${q}` };
          if (key === 'POST /api/auth/logout') req.cookie = nextLogoutSession(f);
          await send(req, route.access);
        }),
        FC(450, RUNS.queries * 3),
      );
    });
  });

  describe('headers', () => {
    it('broken, forged and huge cookies are 401 on every guarded route', async () => {
      const guarded = Object.entries(ROUTES).filter(([, r]) => r.access === 'user' || r.access === 'admin');
      const realValue = f.alice.cookie.split('=')[1]!;
      const cookieArb = fc.oneof(
        fc.integer({ min: 10_000, max: 200_000 }).map((n) => `aria2_session=${'A'.repeat(n)}`),
        fc.constantFrom(
          'aria2_session',
          'aria2_session=',
          'aria2_session="',
          'aria2_session=%ZZ',
          ';;;;',
          '=',
          'aria2_session=;aria2_session=',
          `aria2_session=${realValue}x`,
          `aria2_session=${realValue.slice(0, -1)}`,
          `aria2_session=${realValue.toUpperCase() === realValue ? realValue.toLowerCase() : realValue.toUpperCase()}`,
          `aria2_session=${encodeURIComponent(`${realValue}\u0000`)}`,
          `ARIA2_SESSION=${realValue}`,
          `aria2_session=${'Q'.repeat(43)}`,
        ),
        fc
          .string({ unit: 'grapheme-ascii', maxLength: 80 })
          .filter((s) => !s.includes(realValue))
          .map((s) => `aria2_session=${s}`),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...guarded), cookieArb, async ([, route], cookie) => {
          const req: Req = { ...route.harmless(f), cookie };
          const res = await send(req, route.access);
          expect(res.statusCode, describeReq(req)).toBe(401);
          expect(res.json()).toEqual({ detail: 'Not authenticated' });
        }),
        FC(500, RUNS.headers * 5),
      );
    });

    it('a foreign Origin on a state-changing request is 403 and changes nothing', async () => {
      // The RPC takes no cookie, so any origin may call it (each call carries its token).
      const unsafe = Object.entries(ROUTES).filter(
        ([k, r]) => r.access !== 'socket' && r.access !== 'rpc' && !k.startsWith('GET'),
      );
      const origins = fc.oneof(
        fc.constantFrom(
          'http://evil.example',
          'null',
          'file://',
          'http://127.0.0.1.evil.example',
          'https://localhost',
          'http://localhost:1',
          '',
        ),
        fc.webUrl().map((u) => new URL(u).origin),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...unsafe), origins, async ([key, route], origin) => {
          const req: Req = { ...route.harmless(f), headers: { origin } };
          if (key === 'POST /api/auth/logout') req.cookie = nextLogoutSession(f);
          const res = await send(req, route.access);
          // An empty Origin is no origin at all; anything else foreign is refused.
          if (origin !== '') {
            expect(res.statusCode, describeReq(req)).toBe(403);
            expect(res.json()).toEqual({ detail: 'Origin not allowed' });
          }
        }),
        FC(501, RUNS.headers * 3),
      );
    });

    it('odd content types, encodings and hosts never break a route', async () => {
      const withBody = Object.entries(ROUTES).filter(
        ([k, r]) => r.access !== 'socket' && !k.startsWith('GET'),
      );
      const headers = fc.oneof(
        fc
          .constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data',
            'multipart/form-data; boundary=',
            'multipart/form-data; boundary=x',
            'application/xml',
            'application/jsonx',
            'application/json-patch+json',
            '*/*',
            'application/json; charset=utf-16',
            'application/json; charset=latin1',
            '; ;',
            'application/octet-stream',
            `application/${'x'.repeat(5000)}`,
          )
          .map((ct) => ({ 'content-type': ct })),
        fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((ct) => ({ 'content-type': ct })),
        fc
          .constantFrom('gzip', 'br', 'deflate', 'x-unknown')
          .map((e) => ({ 'content-encoding': e, 'content-type': 'application/json' })),
        fc
          .constantFrom('evil.example', '[::1]', 'a'.repeat(300), 'localhost:99999', 'x y')
          .map((host) => ({ host })),
        fc
          .constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1')
          .map((ip) => ({ 'x-forwarded-for': ip, 'x-forwarded-proto': 'https' })),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...withBody), headers, async ([key, route], h) => {
          const base = route.harmless(f);
          const req: Req = {
            ...base,
            payload: typeof base.payload === 'object' ? JSON.stringify(base.payload) : (base.payload ?? '{}'),
            headers: h,
          };
          if (key === 'POST /api/auth/logout') req.cookie = nextLogoutSession(f);
          await send(req, route.access);
        }),
        FC(502, RUNS.headers * 5),
      );
    });
  });

  describe('oversized and traversing input', () => {
    it('a JSON body over 1 MiB is 413 on every JSON route', async () => {
      const big = { pad: 'x'.repeat(1024 * 1024 + 10) };
      for (const [key, route] of Object.entries(ROUTES)) {
        // The torrent upload and the RPC (whose addTorrent carries one) take up to the torrent limit.
        if (
          route.access === 'socket' ||
          key.startsWith('GET') ||
          key === 'POST /api/tasks/torrent' ||
          route.access === 'rpc'
        )
          continue;
        const req: Req = {
          ...route.harmless(f),
          payload: { ...((route.harmless(f).payload as object) ?? {}), ...big },
        };
        if (key === 'POST /api/auth/logout') req.cookie = nextLogoutSession(f);
        const res = await send(req, route.access);
        expectDetail(res, 413, null, key);
      }
    });

    it('a torrent over 16 MiB is 413, as base64 JSON and as a multipart file; a body over the upload limit too', async () => {
      const oversized = makeTorrent({
        name: 'huge.bin',
        content: Buffer.alloc(100, 1),
        extra: { pad: Buffer.alloc(17 * 1024 * 1024, 7) },
      });
      expect(oversized.torrent.length).toBeGreaterThan(16 * 1024 * 1024);
      const multipart = (file: Buffer) => {
        const boundary = 'reliabilityBoundary';
        return {
          payload: Buffer.concat([
            Buffer.from(
              `--${boundary}\r\nContent-Disposition: form-data; name="torrent"; filename="a.torrent"\r\nContent-Type: application/x-bittorrent\r\n\r\n`,
            ),
            file,
            Buffer.from(`\r\n--${boundary}--\r\n`),
          ]),
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        };
      };
      const asFile = await send(
        { method: 'POST', url: '/api/tasks/torrent', ...multipart(oversized.torrent) },
        'user',
      );
      expectDetail(asFile, 413, null, 'a 17 MiB torrent as a multipart file');
      const asBase64 = await send(
        { method: 'POST', url: '/api/tasks/torrent', payload: { torrent: oversized.base64 } },
        'user',
      );
      expectDetail(asBase64, 413, null, 'a 17 MiB torrent as base64 JSON');
      const overLimit = await send(
        { method: 'POST', url: '/api/tasks/torrent', payload: { torrent: 'A'.repeat(24 * 1024 * 1024) } },
        'user',
      );
      expectDetail(overLimit, 413, null, 'a 24 MiB JSON body');
    }, 60_000);

    it('`out` cannot leave the task folder: traversing names are 422 on every route that takes options', async () => {
      for (const out of TRAVERSING_OUTS) {
        for (const [key, payload] of [
          ['POST /api/tasks', { uri: LOOPBACK_URI, options: { out } }],
          ['POST /api/tasks/batch', { uris: [LOOPBACK_URI], options: { out } }],
          ['POST /api/tasks/torrent', { torrent: f.validTorrent.toString('base64'), options: { out } }],
        ] as const) {
          const req: Req = { method: 'POST', url: key.split(' ')[1]!, payload };
          const res = await send(req, 'user');
          expectDetail(res, 422, 'out', `${key} out=${JSON.stringify(out)}`);
        }
      }
    });

    it('`out` in the options part of a multipart torrent upload is checked the same way', async () => {
      for (const out of TRAVERSING_OUTS) {
        const boundary = 'outBoundary';
        const form = Buffer.concat([
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="options"\r\n\r\n${JSON.stringify({ out })}\r\n`,
          ),
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: form-data; name="torrent"; filename="a.torrent"\r\n\r\n`,
          ),
          f.validTorrent,
          Buffer.from(`\r\n--${boundary}--\r\n`),
        ]);
        const res = await send(
          {
            method: 'POST',
            url: '/api/tasks/torrent',
            payload: form,
            headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
          },
          'user',
        );
        expectDetail(res, 422, 'out', `multipart out=${JSON.stringify(out)}`);
      }
    });
  });

  describe('torrent files', () => {
    const real = () =>
      makeTorrent({
        name: 'real.bin',
        content: patternBytes(0, 100_000),
        webSeedUrl: 'http://127.0.0.1:9/real.bin',
        extra: { comment: 'x' },
      }).torrent;

    /** Torrents that parse as bencode but are unsafe or inconsistent. */
    const hostileTorrents = (): Buffer[] => {
      const piece = Buffer.alloc(20);
      const single = (info: Record<string, unknown>) =>
        encode({ info: { 'piece length': 16384, pieces: piece, length: 100, name: 'a', ...info } as never });
      return [
        single({ name: '..' }),
        single({ name: '.' }),
        single({ name: '../evil' }),
        single({ name: 'a/b' }),
        single({ name: '' }),
        single({ name: 'x\u0000y' }),
        single({ 'name.utf-8': '../../evil' }),
        single({ length: -1 }),
        single({ length: 'ten' }),
        single({ pieces: Buffer.alloc(19) }),
        single({ pieces: Buffer.alloc(0) }),
        single({ 'piece length': 0 }),
        Buffer.from(
          single({ length: 999 }).toString('latin1').replace('i999e', 'i1152921504606846976e'),
          'latin1',
        ),
        encode({
          info: {
            name: 'd',
            'piece length': 16384,
            pieces: piece,
            files: [{ length: 10, path: ['..', 'x'] }],
          },
        }),
        encode({
          info: { name: 'd', 'piece length': 16384, pieces: piece, files: [{ length: 10, path: [] }] },
        }),
        encode({
          info: { name: 'd', 'piece length': 16384, pieces: piece, files: [{ length: 10, path: ['/abs'] }] },
        }),
        encode({
          info: {
            name: 'd',
            'piece length': 16384,
            pieces: piece,
            files: [
              { length: 5, path: ['x'] },
              { length: 5, path: ['x'] },
            ],
          },
        }),
        encode({ info: { name: 'd', 'piece length': 16384, pieces: piece, files: [], length: 1 } }),
        encode({ info: 'not a dictionary' }),
        encode(['a list', 'not a dictionary']),
        encode({ announce: 'http://x/' }),
        Buffer.from(`${'l'.repeat(10_000)}${'e'.repeat(10_000)}`),
        Buffer.from('d4:infod4:name1:a6:lengthi1e12:piece lengthi16384e6:pieces20:'),
        f.tooBigTorrent,
      ];
    };

    it('hostile, truncated and random torrents are refused (422, or 403 when too big) and change nothing', async () => {
      for (const t of hostileTorrents()) {
        const req: Req = {
          method: 'POST',
          url: '/api/tasks/torrent',
          payload: { torrent: t.toString('base64') },
        };
        const res = await send(req, 'user');
        expect([403, 422], `${describeReq(req)} -> ${res.body}`).toContain(res.statusCode);
      }
      const torrent = real();
      const arb = fc.oneof(
        fc
          .integer({ min: 0, max: torrent.length - 1 })
          .map((n) => ({ what: `the first ${n} bytes of a real torrent`, bytes: torrent.subarray(0, n) })),
        fc
          .uint8Array({ minLength: 0, maxLength: 4000 })
          .map((b) => ({ what: 'random bytes', bytes: Buffer.from(b) })),
        fc.uint8Array({ minLength: 1, maxLength: 400 }).map((b) => ({
          what: 'a real torrent with random bytes appended inside its info',
          bytes: Buffer.concat([torrent.subarray(0, Math.floor(torrent.length / 2)), Buffer.from(b)]),
        })),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ({ what, bytes }) => {
          const res = await send(
            { method: 'POST', url: '/api/tasks/torrent', payload: { torrent: bytes.toString('base64') } },
            'user',
          );
          expect(res.statusCode, `${what} -> ${res.body}`).toBe(422);
        }),
        FC(600, RUNS.torrents),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc
              .string({ unit: 'binary', minLength: 1, maxLength: 200 })
              .filter((s) => !/^[A-Za-z0-9+/=\s]+$/.test(s)),
            fc.constantFrom('====', '=', 'A', '\n', '  ', 'AAAA====AAAA', 'ZGQ='),
          ),
          async (text) => {
            const res = await send(
              { method: 'POST', url: '/api/tasks/torrent', payload: { torrent: text } },
              'user',
            );
            expect(res.statusCode, `${JSON.stringify(text)} -> ${res.body}`).toBe(422);
          },
        ),
        FC(601, RUNS.torrents / 2),
      );
    });

    it('malformed multipart uploads are refused and change nothing', async () => {
      const torrent = real();
      const part = (name: string, body: Buffer | string, filename?: string) =>
        Buffer.concat([
          Buffer.from(
            `Content-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n`,
          ),
          Buffer.from(body),
          Buffer.from('\r\n'),
        ]);
      const form = (boundary: string, parts: readonly Buffer[], close = true) =>
        Buffer.concat([
          ...parts.map((p) => Buffer.concat([Buffer.from(`--${boundary}\r\n`), p])),
          Buffer.from(close ? `--${boundary}--\r\n` : ''),
        ]);
      const arb = fc.oneof(
        fc.uint8Array({ maxLength: 2000 }).map((b) => ({
          what: 'a random file',
          parts: [part('torrent', Buffer.from(b), 'a.torrent')],
          close: true,
        })),
        fc.integer({ min: 0, max: torrent.length - 1 }).map((n) => ({
          what: `a torrent cut at ${n}`,
          parts: [part('torrent', torrent.subarray(0, n), 'a.torrent')],
          close: true,
        })),
        fc
          .string({ minLength: 1, maxLength: 10 })
          .filter((n) => n !== 'torrent' && !/["\r\n]/.test(n))
          .map((n) => ({
            what: `a file field named ${n}`,
            parts: [part(n, f.tooBigTorrent, 'a.torrent')],
            close: true,
          })),
        fc.constant({
          what: 'two files',
          parts: [
            part('torrent', f.tooBigTorrent, 'a.torrent'),
            part('torrent', f.tooBigTorrent, 'b.torrent'),
          ],
          close: true,
        }),
        fc.constant({ what: 'no file', parts: [part('options', '{}')], close: true }),
        fc.constant({
          what: 'an unclosed form',
          parts: [part('torrent', f.tooBigTorrent, 'a.torrent')],
          close: false,
        }),
        fc
          .string({ maxLength: 40 })
          .filter((s) => {
            try {
              JSON.parse(s);
              return false;
            } catch {
              return true;
            }
          })
          .map((s) => ({
            what: `options that are not JSON: ${JSON.stringify(s)}`,
            parts: [part('options', s), part('torrent', f.tooBigTorrent, 'a.torrent')],
            close: true,
          })),
        fc.constant({
          what: 'options with an unknown key',
          parts: [part('options', '{"dir":"/etc"}'), part('torrent', f.tooBigTorrent, 'a.torrent')],
          close: true,
        }),
        fc.constant({
          what: 'many fields',
          parts: Array.from({ length: 12 }, (_, i) => part(`f${i}`, 'x')),
          close: true,
        }),
      );
      await fc.assert(
        fc.asyncProperty(
          arb,
          fc.constantFrom('b0undary', 'x'.repeat(70)),
          async ({ what, parts, close }, boundary) => {
            const req: Req = {
              method: 'POST',
              url: '/api/tasks/torrent',
              payload: form(boundary, parts, close),
              headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
            };
            const res = await send(req, 'user');
            expect(res.statusCode, `${what} -> ${res.body}`).toBeGreaterThanOrEqual(400);
          },
        ),
        FC(602, RUNS.multipart),
      );
    });
  });

  it('after all of it, the fixtures are exactly as they were', async () => {
    const alice = as(f.c, f.alice.cookie);
    expect(await alice.task(f.done.id)).toEqual(f.done);
    expect(await alice.task(f.failed.id)).toEqual(f.failed);
    expect(await alice.task(f.stopped.id)).toEqual(f.stopped);
    const file = await alice.get(`/api/tasks/artifacts/${f.done.artifact_token}`);
    expect(file.rawPayload.equals(f.doneContent)).toBe(true);
    // (From an address of its own: the fuzzing may have used up 127.0.0.1's failed sign-ins.)
    await expect(f.c.auth.login('bob', BOB_PASSWORD, '10.7.7.7')).resolves.toMatchObject({
      user: { username: 'bob' },
    });
    const users = (
      await f.c.app.inject({ method: 'GET', url: '/api/users', headers: { cookie: f.admin } })
    ).json();
    expect(users.map((u: { username: string }) => u.username).sort()).toEqual([
      'admin',
      'alice',
      'bob',
      'carol',
      'dave',
    ]);
  });
});
