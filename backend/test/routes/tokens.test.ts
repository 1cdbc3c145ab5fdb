import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiToken, CreatedApiToken } from '../../src/contracts/tokens.js';
import { hashToken } from '../../src/services/tokens.js';
import type { TestController } from '../helpers/controller.js';
import type { FileServer } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { waitFor } from '../helpers/wait.js';

let c: TestController;
let server: FileServer;
let admin: ApiClient;
let alice: ApiClient;
let bob: ApiClient;
let aliceId: number;
useController({ users: ['alice', 'bob'] }, (fx) => {
  ({ c, server, admin } = fx);
  alice = fx.api('alice');
  bob = fx.api('bob');
  aliceId = fx.users.alice!.id;
});

let wsBase: string;
beforeAll(async () => {
  await c.app.listen({ host: '127.0.0.1', port: 0 });
  wsBase = `ws://127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
});

/** Calls with `Authorization: Bearer <token>` and no cookie. */
const bearer = (token: string, headers: Record<string, string> = {}): ApiClient => {
  const anon = as(c);
  const request: ApiClient['request'] = (opts) =>
    anon.request({ ...opts, headers: { authorization: `Bearer ${token}`, ...headers, ...opts.headers } });
  return { ...anon, request, get: (url) => request({ method: 'GET', url }) };
};

async function create(client: ApiClient, name: string): Promise<CreatedApiToken> {
  const res = await client.post('/api/tokens', { name });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as CreatedApiToken;
}

/** A /ws/tasks socket, once open. */
function openSocket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsBase}/ws/tasks`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
/** The code the socket closes with (-1 when it already had); bounded, so a socket left open fails. */
const closeCode = (ws: WebSocket) =>
  new Promise<number>((resolve, reject) => {
    if (ws.readyState === ws.CLOSED) resolve(-1);
    const timer = setTimeout(() => reject(new Error('the socket stayed open')), 10_000);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

describe('GET/POST/DELETE /api/tokens', () => {
  it('creates a token whose secret is shown once; the database keeps only its hash', async () => {
    const created = await create(alice, 'AriaNg on my laptop');
    expect(created).toEqual({
      id: expect.any(Number),
      name: 'AriaNg on my laptop',
      token: expect.stringMatching(/^a2c_[A-Za-z0-9_-]{43}$/),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const list = (await alice.get('/api/tokens')).json() as ApiToken[];
    expect(list).toContainEqual({
      id: created.id,
      name: created.name,
      created_at: created.created_at,
      last_used_at: null,
    });
    expect(JSON.stringify(list)).not.toContain(created.token);
    const rows = await c.db.selectFrom('api_tokens').selectAll().where('id', '=', created.id).execute();
    expect(rows).toEqual([
      {
        id: created.id,
        user_id: aliceId,
        name: created.name,
        token_hash: hashToken(created.token),
        created_at: created.created_at,
        last_used_at: null,
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(created.token.slice(4));
  });

  it("lists only the caller's tokens; another user's token id is 404 and the token keeps working", async () => {
    const hers = await create(alice, 'hers');
    const his = await create(bob, 'his');
    const aliceList = (await alice.get('/api/tokens')).json() as ApiToken[];
    expect(aliceList.map((t) => t.id)).toContain(hers.id);
    expect(aliceList.map((t) => t.id)).not.toContain(his.id);
    const res = await alice.del(`/api/tokens/${his.id}`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ detail: 'Token not found' });
    expect((await bearer(his.token).get('/api/auth/me')).json()).toMatchObject({ username: 'bob' });
  });

  it('refuses bad input with a 422 naming the field, and creates nothing', async () => {
    const before = (await alice.get('/api/tokens')).json() as ApiToken[];
    for (const body of [
      {},
      { name: '' },
      { name: '   ' },
      { name: 'x'.repeat(101) },
      { name: 'line\nbreak' },
      { name: 7 },
      { name: 'ok', extra: true },
    ]) {
      const res = await alice.post('/api/tokens', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect((res.json() as { detail: string }).detail).toMatch(/name|extra|Unrecognized/i);
    }
    for (const id of ['abc', '0', '1.5']) {
      const res = await alice.del(`/api/tokens/${id}`);
      expect(res.statusCode).toBe(422);
      expect(res.json().detail).toContain('id');
    }
    expect((await alice.get('/api/tokens')).json()).toEqual(before);
  });

  it('needs a session: a Bearer-only call to any of the three is 401 and changes nothing', async () => {
    const token = await create(alice, 'cannot mint');
    const asToken = bearer(token.token);
    for (const res of [
      await asToken.get('/api/tokens'),
      await asToken.request({ method: 'POST', url: '/api/tokens', payload: { name: 'minted' } }),
      await asToken.request({ method: 'DELETE', url: `/api/tokens/${token.id}` }),
    ]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ detail: 'Not authenticated' });
    }
    const names = ((await alice.get('/api/tokens')).json() as ApiToken[]).map((t) => t.name);
    expect(names).toContain('cannot mint');
    expect(names).not.toContain('minted');
  });
});

describe('Authorization: Bearer on the API', () => {
  it("acts as the token's owner on user routes, with no Origin check as no cookie is involved", async () => {
    const token = await create(alice, 'script');
    const asToken = bearer(token.token);
    expect((await asToken.get('/api/auth/me')).json()).toMatchObject({ id: aliceId, username: 'alice' });
    server.addFile('/bearer.bin', Buffer.from('added with a token'));
    const added = await asToken.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { uri: server.url('/bearer.bin') },
      headers: { origin: 'chrome-extension://abcdefghijklmnop' },
    });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json().owner_id).toBe(aliceId);
    const listed = await asToken.get('/api/tasks?view=all');
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((t: { id: number }) => t.id)).toContain(added.json().id);
    // The same foreign Origin with the session cookie is still refused.
    const withCookie = await alice.request({
      method: 'POST',
      url: '/api/tasks',
      payload: { uri: server.url('/bearer.bin') },
      headers: { origin: 'chrome-extension://abcdefghijklmnop' },
    });
    expect(withCookie.statusCode).toBe(403);
    // Used: last_used_at is set.
    const listedToken = ((await alice.get('/api/tokens')).json() as ApiToken[]).find(
      (t) => t.id === token.id,
    );
    expect(listedToken?.last_used_at).toEqual(expect.stringMatching(/Z$/));
  });

  it('admin routes need the owner to be an admin', async () => {
    const plain = await create(alice, 'plain');
    const res = await bearer(plain.token).get('/api/users');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: 'Admin required' });
    const adminToken = await create(admin, 'admin script');
    const users = await bearer(adminToken.token).get('/api/users');
    expect(users.statusCode).toBe(200);
    expect(users.json().map((u: { username: string }) => u.username)).toContain('alice');
  });

  it('a wrong or malformed token is 401 even alongside a valid cookie; another scheme leaves the cookie to decide', async () => {
    for (const header of [`Bearer a2c_${'Q'.repeat(43)}`, 'Bearer', 'Bearer two words', 'bearer x']) {
      const res = await alice.request({
        method: 'GET',
        url: '/api/auth/me',
        headers: { authorization: header },
      });
      expect(res.statusCode, header).toBe(401);
      expect(res.json()).toEqual({ detail: 'Not authenticated' });
    }
    const basic = await alice.request({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: 'Basic cHJveHk6cGFzcw==' },
    });
    expect(basic.statusCode).toBe(200);
  });

  it('revoking ends REST and socket access at once; the owner’s session socket stays', async () => {
    const token = await create(alice, 'to revoke');
    const asToken = bearer(token.token);
    expect((await asToken.get('/api/stats')).statusCode).toBe(200);
    const tokenSocket = await openSocket({ authorization: `Bearer ${token.token}` });
    const other = await create(alice, 'kept');
    const otherSocket = await openSocket({ authorization: `Bearer ${other.token}` });
    const sessionSocket = await openSocket({ cookie: alice.cookie! });
    await waitFor(() => c.hub.count(aliceId) === 3, 5000, 'three sockets of alice');
    try {
      const closed = closeCode(tokenSocket);
      const res = await alice.del(`/api/tokens/${token.id}`);
      expect(res.statusCode).toBe(204);
      expect(await closed).toBe(4401);
      expect((await asToken.get('/api/stats')).statusCode).toBe(401);
      expect((await asToken.get('/api/auth/me')).json()).toEqual({ detail: 'Not authenticated' });
      expect(((await alice.get('/api/tokens')).json() as ApiToken[]).map((t) => t.id)).not.toContain(
        token.id,
      );
      expect(otherSocket.readyState).toBe(WebSocket.OPEN);
      expect(sessionSocket.readyState).toBe(WebSocket.OPEN);
      // A revoked token opens no new socket.
      const again = new WebSocket(`${wsBase}/ws/tasks`, {
        headers: { authorization: `Bearer ${token.token}` },
      });
      expect(await closeCode(again)).toBe(4401);
    } finally {
      for (const ws of [tokenSocket, otherSocket, sessionSocket]) ws.terminate();
    }
  });

  it('a token revoked while its socket is being opened closes that socket (4401)', async () => {
    const token = await create(alice, 'revoked while opening');
    const { tokens } = c.app.deps.services;
    const check = tokens.authenticate;
    // The revocation lands after the socket's token check and before the hub knows the socket: the
    // moment a real race hits, made certain here.
    tokens.authenticate = async (secret) => {
      tokens.authenticate = check;
      const found = await check.call(tokens, secret);
      expect((await alice.del(`/api/tokens/${token.id}`)).statusCode).toBe(204);
      return found;
    };
    try {
      const ws = new WebSocket(`${wsBase}/ws/tasks`, { headers: { authorization: `Bearer ${token.token}` } });
      expect(await closeCode(ws)).toBe(4401);
    } finally {
      tokens.authenticate = check;
    }
  });

  it("a token socket gets its owner's live events and closes when the owner is deleted", async () => {
    const { id } = await c.createUser('carol');
    const carolToken = await create(as(c, await c.login('carol', 'user-password-1')), 'carol');
    const ws = await openSocket({
      authorization: `Bearer ${carolToken.token}`,
      origin: 'https://elsewhere.example',
    });
    const messages: { type: string }[] = [];
    ws.on('message', (data) => messages.push(JSON.parse(String(data))));
    try {
      await waitFor(() => messages.some((m) => m.type === 'stats'), 5000, 'the first stats message');
      const closed = closeCode(ws);
      expect((await admin.del(`/api/users/${id}`)).statusCode).toBe(204);
      expect(await closed).toBe(4401);
      expect((await bearer(carolToken.token).get('/api/auth/me')).statusCode).toBe(401);
    } finally {
      ws.terminate();
    }
  });
});
