/**
 * Access control over the whole route table. The table below must list exactly the routes the
 * controller serves (as the routes declare themselves in their options), so a new route cannot escape
 * it, and each case's access must be the one its route declares: every route is public, share, user,
 * admin, session, socket or rpc (the token in each call decides); public and share routes answer
 * without a session; user, admin and session routes are 401 without a session or with a forged token
 * (session routes even with a real token), admin routes 403 for a plain user, every user and session
 * route is tried by Alice against Bob's data, and the RPC refuses a call without a token.
 */
import type { AddressInfo } from 'node:net';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Task } from '../../src/contracts/tasks.js';
import type { Access } from '../../src/plugins/auth.js';
import { startTestController, type TestController, USER_PASSWORD } from '../helpers/controller.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';
import { routeKey, servedRoutes } from '../helpers/routes.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent } from '../helpers/torrent.js';

interface Fixture {
  c: TestController;
  server: FileServer;
  alice: ApiClient & { id: number };
  bob: ApiClient & { id: number };
  /** Bob's finished download, with its artifact token. */
  bobTask: Task;
  bobContent: Buffer;
  /** A share of Bob's finished file. */
  bobShare: { id: number; url: string };
  /** An API token of Bob's. */
  bobToken: { id: number; token: string };
}

interface RouteCase {
  access: Access;
  /** A well-formed request for this route, aimed at Bob's data where the route takes an id or token. */
  request(f: Fixture): InjectOptions;
  /** For user routes: what Alice's request (above, with her cookie) must and must not do. */
  asAlice?(res: LightMyRequestResponse, f: Fixture): Promise<void> | void;
}

const notFound = (detail: string) => (res: LightMyRequestResponse) => {
  expect(res.statusCode).toBe(404);
  expect(res.json()).toEqual({ detail });
};
const taskNotFound = notFound('Task not found');

/** Alice created this task; it is hers alone. */
async function ownedByAlice(task: Task, f: Fixture) {
  expect(task.owner_id).toBe(f.alice.id);
  expect((await f.bob.get(`/api/tasks/${task.id}`)).statusCode).toBe(404);
}

const ROUTES: Record<string, RouteCase> = {
  'GET /': { access: 'public', request: () => ({ method: 'GET', url: '/' }) },
  'GET /api/openapi.json': { access: 'public', request: () => ({ method: 'GET', url: '/api/openapi.json' }) },
  'GET /api/health': { access: 'public', request: () => ({ method: 'GET', url: '/api/health' }) },
  'POST /api/auth/login': {
    access: 'public',
    request: () => ({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'bob', password: 'bob-only-password' },
    }),
  },
  'POST /api/auth/logout': {
    access: 'user',
    request: () => ({ method: 'POST', url: '/api/auth/logout' }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(204);
      // Only Alice's session ended.
      expect((await f.bob.get('/api/auth/me')).statusCode).toBe(200);
    },
  },
  'GET /api/auth/me': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/auth/me' }),
    asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: f.alice.id, username: 'alice' });
    },
  },
  'POST /api/auth/change-password': {
    access: 'user',
    request: () => ({
      method: 'POST',
      url: '/api/auth/change-password',
      // Bob's password is not Alice's current password: it must not let her in.
      payload: { current_password: 'bob-only-password', new_password: 'alice-new-password' },
    }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(403);
      await expect(f.c.login('bob', 'bob-only-password')).resolves.toMatch(/^aria2_session=/);
    },
  },
  'GET /api/users': { access: 'admin', request: () => ({ method: 'GET', url: '/api/users' }) },
  'POST /api/users': {
    access: 'admin',
    request: () => ({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'mallory', password: USER_PASSWORD },
    }),
  },
  'GET /api/users/:id': {
    access: 'admin',
    request: (f) => ({ method: 'GET', url: `/api/users/${f.bob.id}` }),
  },
  'PUT /api/users/:id': {
    access: 'admin',
    request: (f) => ({ method: 'PUT', url: `/api/users/${f.bob.id}`, payload: { quota: 1 } }),
  },
  'DELETE /api/users/:id': {
    access: 'admin',
    request: (f) => ({ method: 'DELETE', url: `/api/users/${f.bob.id}` }),
  },
  'POST /api/tasks': {
    access: 'user',
    request: (f) => ({ method: 'POST', url: '/api/tasks', payload: { uri: f.server.url('/a.bin') } }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(201);
      await ownedByAlice(res.json(), f);
    },
  },
  'POST /api/tasks/batch': {
    access: 'user',
    request: (f) => ({
      method: 'POST',
      url: '/api/tasks/batch',
      payload: { uris: [f.server.url('/a2.bin')] },
    }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      const { created } = res.json() as { created: Task[] };
      expect(created).toHaveLength(1);
      await ownedByAlice(created[0]!, f);
    },
  },
  'POST /api/tasks/torrent': {
    access: 'user',
    request: (f) => {
      const content = Buffer.from('alice torrent content '.repeat(100));
      f.server.addFile('/seed/alice.txt', content);
      const t = makeTorrent({ name: 'alice.txt', content, webSeedUrl: f.server.url('/seed/alice.txt') });
      return { method: 'POST', url: '/api/tasks/torrent', payload: { torrent: t.base64 } };
    },
    async asAlice(res, f) {
      expect(res.statusCode).toBe(201);
      await ownedByAlice(res.json(), f);
    },
  },
  'GET /api/tasks': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/tasks?view=all&limit=1000' }),
    asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      const { items } = res.json() as { items: Task[] };
      expect(items.every((t) => t.owner_id === f.alice.id)).toBe(true);
      expect(items.map((t) => t.id)).not.toContain(f.bobTask.id);
    },
  },
  'GET /api/tasks?q': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/tasks?q=bob' }),
    asAlice(res) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ items: [], total: 0 });
    },
  },
  'DELETE /api/tasks': {
    access: 'user',
    request: () => ({ method: 'DELETE', url: '/api/tasks?delete_files=true' }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect((await f.bob.get(`/api/tasks/${f.bobTask.id}`)).statusCode).toBe(200);
    },
  },
  'POST /api/tasks/retry': {
    access: 'user',
    request: (f) => ({ method: 'POST', url: '/api/tasks/retry', payload: { ids: [f.bobTask.id] } }),
    asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        results: [{ id: f.bobTask.id, ok: false, status: 404, detail: 'Task not found' }],
      });
    },
  },
  'POST /api/tasks/status': {
    access: 'user',
    request: (f) => ({
      method: 'POST',
      url: '/api/tasks/status',
      payload: { ids: [f.bobTask.id], status: 'stop' },
    }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        results: [{ id: f.bobTask.id, ok: false, status: 404, detail: 'Task not found' }],
      });
      expect((await f.bob.get(`/api/tasks/${f.bobTask.id}`)).json().status).toBe(f.bobTask.status);
    },
  },
  'POST /api/tasks/delete': {
    access: 'user',
    request: (f) => ({
      method: 'POST',
      url: '/api/tasks/delete',
      payload: { ids: [f.bobTask.id], delete_files: true },
    }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        results: [{ id: f.bobTask.id, ok: false, status: 404, detail: 'Task not found' }],
      });
      expect((await f.bob.get(`/api/tasks/${f.bobTask.id}`)).statusCode).toBe(200);
    },
  },
  'GET /api/tasks/artifacts/:token': {
    access: 'user',
    request: (f) => ({ method: 'GET', url: `/api/tasks/artifacts/${f.bobTask.artifact_token}` }),
    asAlice(res, f) {
      notFound('File not found')(res);
      expect(res.rawPayload.includes(f.bobContent)).toBe(false);
    },
  },
  'GET /api/tasks/:id': {
    access: 'user',
    request: (f) => ({ method: 'GET', url: `/api/tasks/${f.bobTask.id}` }),
    asAlice: taskNotFound,
  },
  'GET /api/tasks/:id/detail': {
    access: 'user',
    request: (f) => ({ method: 'GET', url: `/api/tasks/${f.bobTask.id}/detail` }),
    asAlice: taskNotFound,
  },
  'GET /api/tasks/:id/files': {
    access: 'user',
    request: (f) => ({ method: 'GET', url: `/api/tasks/${f.bobTask.id}/files` }),
    asAlice: taskNotFound,
  },
  'PUT /api/tasks/:id/status': {
    access: 'user',
    request: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.bobTask.id}/status`,
      payload: { status: 'stop' },
    }),
    asAlice: taskNotFound,
  },
  'PUT /api/tasks/:id/position': {
    access: 'user',
    request: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.bobTask.id}/position`,
      payload: { position: 0, how: 'POS_SET' },
    }),
    asAlice: taskNotFound,
  },
  'PUT /api/tasks/:id/options': {
    access: 'user',
    request: (f) => ({
      method: 'PUT',
      url: `/api/tasks/${f.bobTask.id}/options`,
      payload: { 'max-download-limit': '1K' },
    }),
    asAlice: taskNotFound,
  },
  'PUT /api/tasks/:id/files': {
    access: 'user',
    request: (f) => ({ method: 'PUT', url: `/api/tasks/${f.bobTask.id}/files`, payload: { selected: [1] } }),
    asAlice: taskNotFound,
  },
  'POST /api/tasks/:id/retry': {
    access: 'user',
    request: (f) => ({ method: 'POST', url: `/api/tasks/${f.bobTask.id}/retry` }),
    asAlice: taskNotFound,
  },
  'GET /api/tasks/:id/torrent': {
    access: 'user',
    request: (f) => ({ method: 'GET', url: `/api/tasks/${f.bobTask.id}/torrent` }),
    asAlice: taskNotFound,
  },
  'POST /api/tasks/:id/reupload': {
    access: 'user',
    request: (f) => ({ method: 'POST', url: `/api/tasks/${f.bobTask.id}/reupload` }),
    asAlice: taskNotFound,
  },
  'DELETE /api/tasks/:id/auto-retry': {
    access: 'user',
    request: (f) => ({ method: 'DELETE', url: `/api/tasks/${f.bobTask.id}/auto-retry` }),
    asAlice: taskNotFound,
  },
  'DELETE /api/tasks/:id': {
    access: 'user',
    request: (f) => ({ method: 'DELETE', url: `/api/tasks/${f.bobTask.id}?delete_files=true` }),
    asAlice: taskNotFound,
  },
  'GET /api/stats': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/stats' }),
    asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      // Bob's finished file is not counted in Alice's space.
      expect(res.json().used_space).toBeLessThan(f.bobContent.length);
    },
  },
  'GET /api/stats/machine': {
    access: 'admin',
    request: () => ({ method: 'GET', url: '/api/stats/machine' }),
  },
  'GET /api/config': { access: 'admin', request: () => ({ method: 'GET', url: '/api/config' }) },
  'PUT /api/config': {
    access: 'admin',
    request: () => ({ method: 'PUT', url: '/api/config', payload: { max_concurrent_downloads: 1 } }),
  },
  'GET /api/files': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/files' }),
    asAlice(res, f) {
      expect(res.statusCode).toBe(200);
      expect(res.json().entries.map((e: { name: string }) => e.name)).not.toContain(f.bobTask.artifact_path);
    },
  },
  'GET /api/files/content': {
    access: 'user',
    request: (f) => ({
      method: 'GET',
      url: `/api/files/content?path=${encodeURIComponent(f.bobTask.artifact_path!)}`,
    }),
    asAlice(res, f) {
      notFound('Path not found')(res);
      expect(res.rawPayload.includes(f.bobContent)).toBe(false);
    },
  },
  'GET /api/files/archive': {
    access: 'user',
    request: (f) => ({
      method: 'GET',
      url: `/api/files/archive?path=${encodeURIComponent(f.bobTask.artifact_path!)}`,
    }),
    asAlice: notFound('Path not found'),
  },
  'POST /api/files/move': {
    access: 'user',
    request: (f) => ({
      method: 'POST',
      url: '/api/files/move',
      payload: { from: f.bobTask.artifact_path, to: 'taken.bin' },
    }),
    async asAlice(res, f) {
      notFound('Path not found')(res);
      expect((await f.bob.get(`/api/tasks/${f.bobTask.id}`)).json().artifact_path).toBe(
        f.bobTask.artifact_path,
      );
    },
  },
  'POST /api/files/folder': {
    access: 'user',
    request: () => ({ method: 'POST', url: '/api/files/folder', payload: { path: 'alice-folder' } }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(201);
      expect(
        (await f.bob.get('/api/files')).json().entries.map((e: { name: string }) => e.name),
      ).not.toContain('alice-folder');
    },
  },
  'DELETE /api/files': {
    access: 'user',
    request: (f) => ({
      method: 'DELETE',
      url: `/api/files?path=${encodeURIComponent(f.bobTask.artifact_path!)}`,
    }),
    async asAlice(res, f) {
      notFound('Path not found')(res);
      expect((await f.bob.get(`/api/tasks/artifacts/${f.bobTask.artifact_token}`)).statusCode).toBe(200);
    },
  },
  'POST /api/shares': {
    access: 'user',
    request: (f) => ({ method: 'POST', url: '/api/shares', payload: { path: f.bobTask.artifact_path } }),
    asAlice: notFound('Path not found'),
  },
  'GET /api/shares': {
    access: 'user',
    request: () => ({ method: 'GET', url: '/api/shares' }),
    asAlice(res) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    },
  },
  'DELETE /api/shares/:id': {
    access: 'user',
    request: (f) => ({ method: 'DELETE', url: `/api/shares/${f.bobShare.id}` }),
    async asAlice(res, f) {
      notFound('Share not found')(res);
      expect((await f.c.app.inject({ method: 'GET', url: f.bobShare.url })).statusCode).toBe(200);
    },
  },
  'GET /s/:token': { access: 'share', request: (f) => ({ method: 'GET', url: f.bobShare.url }) },
  'POST /s/:token': {
    access: 'share',
    request: (f) => ({ method: 'POST', url: f.bobShare.url, payload: { password: 'x' } }),
  },
  'GET /api/tokens': {
    access: 'session',
    request: () => ({ method: 'GET', url: '/api/tokens' }),
    asAlice(res) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
    },
  },
  'POST /api/tokens': {
    access: 'session',
    request: () => ({ method: 'POST', url: '/api/tokens', payload: { name: 'alice script' } }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(201);
      const token = res.json().token as string;
      const me = await f.c.app.inject({ url: '/api/auth/me', headers: { authorization: `Bearer ${token}` } });
      expect(me.json()).toMatchObject({ id: f.alice.id });
      expect(
        await f.c.app.inject({
          method: 'DELETE',
          url: `/api/tokens/${res.json().id}`,
          headers: { cookie: f.alice.cookie! },
        }),
      ).toMatchObject({ statusCode: 204 });
    },
  },
  'DELETE /api/tokens/:id': {
    access: 'session',
    request: (f) => ({ method: 'DELETE', url: `/api/tokens/${f.bobToken.id}` }),
    async asAlice(res, f) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ detail: 'Token not found' });
      const me = await f.c.app.inject({
        url: '/api/auth/me',
        headers: { authorization: `Bearer ${f.bobToken.token}` },
      });
      expect(me.json()).toMatchObject({ id: f.bob.id });
    },
  },
  'GET /ws/tasks': { access: 'socket', request: () => ({ method: 'GET', url: '/ws/tasks' }) },
  'POST /jsonrpc': {
    access: 'rpc',
    request: () => ({
      method: 'POST',
      url: '/jsonrpc',
      payload: { jsonrpc: '2.0', id: 1, method: 'aria2.tellStopped', params: [0, 1000] },
    }),
  },
  'GET /jsonrpc': { access: 'rpc', request: () => ({ method: 'GET', url: '/jsonrpc' }) },
  'OPTIONS /jsonrpc': { access: 'rpc', request: () => ({ method: 'OPTIONS', url: '/jsonrpc' }) },
};

describe('Access control over every route', () => {
  const f = {} as Fixture;

  beforeAll(async () => {
    f.c = await startTestController();
    f.server = await startFileServer();
    f.bobContent = Buffer.from('bob private bytes '.repeat(4096));
    f.server.addFile('/bob.bin', f.bobContent);
    f.server.addFile('/a.bin', Buffer.from('alice a'));
    f.server.addFile('/a2.bin', Buffer.from('alice a2'));
    const bob = await f.c.createUser('bob');
    const alice = await f.c.createUser('alice');
    f.bob = Object.assign(as(f.c, bob.cookie), { id: bob.id });
    f.alice = Object.assign(as(f.c, alice.cookie), { id: alice.id });
    const added = await f.bob.add(f.server.url('/bob.bin'));
    f.bobTask = await f.bob.waitTask(added.id, (t) => t.status === 'complete' && t.artifact_token !== null);
    f.bobShare = (await f.bob.post('/api/shares', { path: f.bobTask.artifact_path })).json();
    f.bobToken = (await f.bob.post('/api/tokens', { name: 'bob script' })).json();
    // Bob's password is changed to one the change-password case can check stays his.
    await f.c.users.update({ id: 0, username: 'test', is_admin: true, quota: 0 }, bob.id, {
      password: 'bob-only-password',
    });
    f.bob = Object.assign(as(f.c, await f.c.login('bob', 'bob-only-password')), { id: bob.id });
  });
  afterAll(async () => {
    await f.c?.destroy();
    await f.server?.close();
  });

  it('the table lists exactly the routes the controller serves', () => {
    const tableRoutes = new Set(Object.keys(ROUTES).map(routeKey));
    const served = servedRoutes(f.c);
    expect(served.size).toBeGreaterThan(20);
    const unclassified = [...served.keys()].filter((r) => !tableRoutes.has(r));
    const stale = [...tableRoutes].filter((r) => !served.has(r));
    expect(unclassified, 'routes missing from the access table').toEqual([]);
    expect(stale, 'table entries with no route').toEqual([]);
  });

  it("each case's access is the one its route declares", () => {
    const served = servedRoutes(f.c);
    const declared = Object.fromEntries(Object.keys(ROUTES).map((k) => [k, served.get(routeKey(k))?.access]));
    const expected = Object.fromEntries(Object.entries(ROUTES).map(([k, r]) => [k, r.access]));
    expect(declared).toEqual(expected);
  });

  it("the OpenAPI document lists each guarded route's 401 (and an admin route's 403) as a {detail} answer", async () => {
    const doc = (await f.c.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const missing: string[] = [];
    for (const [key, route] of servedRoutes(f.c)) {
      if (route.access !== 'user' && route.access !== 'admin') continue;
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const op = (doc.paths[path] ?? doc.paths[`${path}/`])?.[route.method.toLowerCase()];
      for (const status of route.access === 'admin' ? ['401', '403'] : ['401']) {
        // Routes that produce files list the answer under their own media types.
        const content: Record<string, { schema?: { properties?: { detail?: { type?: string } } } }> =
          op?.responses?.[status]?.content ?? {};
        const typed = Object.values(content).map((c) => c.schema?.properties?.detail?.type);
        if (typed.length === 0 || typed.some((t) => t !== 'string')) missing.push(`${key}: ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });

  for (const [key, route] of Object.entries(ROUTES)) {
    if (route.access === 'user' || route.access === 'admin' || route.access === 'session') {
      it(`${key}: 401 without a session or with a forged one or a forged token`, async () => {
        const forged = [
          {},
          { cookie: `aria2_session=${'Q'.repeat(43)}` },
          { authorization: `Bearer a2c_${'Q'.repeat(43)}` },
        ];
        // A session route takes no token at all, not even a valid one.
        if (route.access === 'session') forged.push({ authorization: `Bearer ${f.bobToken.token}` });
        for (const headers of forged) {
          const opts = route.request(f);
          const res = await f.c.app.inject({ ...opts, headers: { ...opts.headers, ...headers } });
          expect(res.statusCode).toBe(401);
          expect(res.json()).toEqual({ detail: 'Not authenticated' });
        }
      });
    }
    if (route.access === 'admin') {
      it(`${key}: 403 Admin required for a plain user`, async () => {
        const res = await f.alice.request(route.request(f));
        expect(res.statusCode).toBe(403);
        expect(res.json()).toEqual({ detail: 'Admin required' });
      });
    }
    if (route.access === 'rpc' && key.startsWith('POST')) {
      it(`${key}: Unauthorized without a token, a session cookie counting for nothing`, async () => {
        const res = await f.bob.request(route.request(f));
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({ id: 1, jsonrpc: '2.0', error: { code: 1, message: 'Unauthorized' } });
        expect(res.body).not.toContain(f.bobTask.gid ?? 'no gid');
      });
    }
    if (route.access === 'public' || route.access === 'share') {
      it(`${key}: answers without a session`, async () => {
        const res = await f.c.app.inject(route.request(f));
        // 2xx: a share's password is answered 204.
        expect(res.statusCode).toBeGreaterThanOrEqual(200);
        expect(res.statusCode).toBeLessThan(300);
      });
    }
  }

  describe("Alice against Bob's data, route by route", () => {
    for (const [key, route] of Object.entries(ROUTES)) {
      if (route.access !== 'user' && route.access !== 'session') continue;
      it(key, async () => {
        expect(route.asAlice, `${key} needs a cross-user check`).toBeDefined();
        // A fresh session per case: the logout case ends its own.
        const alice = as(f.c, await f.c.login('alice', USER_PASSWORD));
        await route.asAlice!(await alice.request(route.request(f)), f);
      });
    }

    it("leaves Bob's task and file exactly as they were", async () => {
      const now = await f.bob.task(f.bobTask.id);
      expect(now).toMatchObject({
        id: f.bobTask.id,
        status: 'complete',
        artifact_path: f.bobTask.artifact_path,
        artifact_token: f.bobTask.artifact_token,
      });
      const file = await f.bob.get(`/api/tasks/artifacts/${f.bobTask.artifact_token}`);
      expect(file.statusCode).toBe(200);
      expect(file.rawPayload.equals(f.bobContent)).toBe(true);
    });
  });

  describe('the task socket', () => {
    let url: string;
    beforeAll(async () => {
      await f.c.app.listen({ host: '127.0.0.1', port: 0 });
      url = `ws://127.0.0.1:${(f.c.app.server.address() as AddressInfo).port}/ws/tasks`;
    });

    it('closes an unauthenticated socket with 4401', async () => {
      const code = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('close', (c) => resolve(c));
        ws.on('error', reject);
      });
      expect(code).toBe(4401);
    });

    it("never carries Bob's task events to Alice", async () => {
      const cookie = await f.c.login('alice', USER_PASSWORD);
      const ws = new WebSocket(url, { headers: { cookie } });
      const messages: { type: string; task?: Task; id?: number }[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      try {
        f.server.addFile('/bob2.bin', Buffer.from('bob second file'));
        const bobs = await f.bob.add(f.server.url('/bob2.bin'));
        await f.bob.waitTask(bobs.id, (t) => t.status === 'complete');
        // Alice's own event comes after Bob's, on one ordered stream: once it is here, Bob's would be too.
        f.server.addFile('/a3.bin', Buffer.from('alice third'));
        const hers = await as(f.c, cookie).add(f.server.url('/a3.bin'));
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("Alice's own task_update never arrived")), 15_000);
          const check = () => {
            if (messages.some((m) => m.type === 'task_update' && m.task?.id === hers.id)) {
              clearTimeout(timer);
              resolve();
            } else setTimeout(check, 20);
          };
          check();
        });
        for (const m of messages) {
          if (m.type === 'task_update') expect(m.task?.owner_id).toBe(f.alice.id);
          if (m.type === 'task_removed') expect(m.id).not.toBe(bobs.id);
        }
        expect(JSON.stringify(messages)).not.toContain('bob2.bin');
      } finally {
        ws.terminate();
      }
    });
  });
});
