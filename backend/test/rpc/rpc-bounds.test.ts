/**
 * The bounds of the aria2-compatible `/jsonrpc` and the end of a revoked token: a slow call answers
 * aria2's error shape and its socket goes on; sockets that send no valid call are capped per address
 * and closed after a short deadline; a socket takes an addTorrent as big as the REST add's and closes
 * on a bigger message; a token revoked (or its user deleted) ends its sockets and its next call, also
 * when the revocation comes while the token is being checked.
 *
 * The shortened bounds are those of a second RPC server on the same services (the controller's own
 * keeps the real ones, which the message cap and the per-address cap are tested on).
 */
import type { AddressInfo } from 'node:net';
import websocket from '@fastify/websocket';
import Aria2 from 'aria2';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Authenticate, MAX_MESSAGE_BYTES, RPC_LIMITS, rpcRoutes } from '../../src/rpc/transport.js';
import type { FileServer } from '../helpers/file-server.js';
import { type ControllerFixture, useController } from '../helpers/fixture.js';
import { makeTorrent } from '../helpers/torrent.js';
import { waitFor } from '../helpers/wait.js';

let fx: ControllerFixture;
let server: FileServer;
let port: number;
let short: FastifyInstance;
let shortPort: number;
/** Called with each token the short server checked, after the database answered and before the RPC sees it. */
let afterCheck: ((who: { tokenId: number }) => Promise<void>) | null = null;
/** How many times the short server asked the database about each secret. */
const checks = new Map<string, number>();

const SHORT = { callTimeoutMs: 400, firstCallMs: 600, unboundPerAddress: 2, unauthorizedDelayMs: 10 };

const actorOf = (name: string) => ({ id: fx.users[name]!.id, username: name, is_admin: false, quota: 0 });
const tokenOf = (name: string) => fx.c.app.deps.services.tokens.create(actorOf(name), `bounds ${name}`);

interface RawSocket {
  ws: WebSocket;
  answers: { id?: unknown; result?: unknown; error?: { code: number; message: string } }[];
  closed: Promise<number>;
  call(id: number, method: string, params: unknown[]): void;
}

async function openRaw(at: number): Promise<RawSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${at}/jsonrpc`, { maxPayload: 0 });
  const answers: RawSocket['answers'] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (d) => answers.push(JSON.parse(String(d))));
  ws.on('error', () => undefined);
  await new Promise((resolve) => {
    ws.once('open', resolve);
    ws.once('close', resolve);
  });
  return {
    ws,
    answers,
    closed,
    call: (id, method, params) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params })),
  };
}

async function post(at: number, method: string, params: unknown[]) {
  const res = await fetch(`http://127.0.0.1:${at}/jsonrpc`, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
}

fx = useController({ users: ['alice', 'bob', 'dave'] }, async (f) => {
  server = f.server;
  await f.c.app.listen({ host: '127.0.0.1', port: 0 });
  port = (f.c.app.server.address() as AddressInfo).port;
});

beforeAll(async () => {
  const { deps } = fx.c.app;
  const authenticate: Authenticate = async (secret) => {
    checks.set(secret, (checks.get(secret) ?? 0) + 1);
    const who = await deps.services.tokens.authenticate(secret);
    if (who && afterCheck) await afterCheck(who);
    return who;
  };
  short = Fastify();
  short.decorate('deps', deps);
  await short.register(websocket, { options: { maxPayload: MAX_MESSAGE_BYTES } });
  await short.register(rpcRoutes, { authenticate, events: deps.events, limits: SHORT });
  await short.listen({ host: '127.0.0.1', port: 0 });
  shortPort = (short.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await short?.close();
});

describe('time bounds', () => {
  it("a call slower than the bound answers aria2's error shape and the socket goes on", async () => {
    server.addFile('/hang.bin', Buffer.from('never answered'), { hang: true });
    const { token } = await tokenOf('alice');
    const s = await openRaw(shortPort);
    s.call(1, 'aria2.addUri', [`token:${token}`, [server.url('/hang.bin')]]);
    s.call(2, 'aria2.getGlobalStat', [`token:${token}`]);
    await waitFor(() => s.answers.length === 2, 10_000, 'both answers');
    expect(s.answers[0]).toEqual({
      id: 1,
      jsonrpc: '2.0',
      error: { code: 1, message: 'The call took longer than 0.4 s; it may still take effect' },
    });
    expect(s.answers[1]).toMatchObject({ id: 2, result: { numActive: expect.any(String) } });
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it('a socket that sends no authenticated call in time is closed (1008); one that does stays open', async () => {
    const { token } = await tokenOf('alice');
    const silent = await openRaw(shortPort);
    const openOnly = await openRaw(shortPort);
    openOnly.call(1, 'system.listMethods', []);
    expect(await silent.closed).toBe(1008);
    expect(await openOnly.closed).toBe(1008);
    expect(openOnly.answers[0]).toMatchObject({ id: 1, result: expect.arrayContaining(['aria2.addUri']) });
    const bound = await openRaw(shortPort);
    bound.call(1, 'aria2.getVersion', [`token:${token}`]);
    await waitFor(() => bound.answers.length === 1, 5000, 'the answer');
    // Well past the deadline, it is still open and answers.
    await new Promise((r) => setTimeout(r, SHORT.firstCallMs * 2));
    bound.call(2, 'aria2.getVersion', [`token:${token}`]);
    await waitFor(() => bound.answers.length === 2, 5000, 'the second answer');
    expect(bound.ws.readyState).toBe(WebSocket.OPEN);
    bound.ws.close();
  });

  it('an address holds only so many sockets without a valid call: one more is closed at once', async () => {
    const { token } = await tokenOf('bob');
    const cap = RPC_LIMITS.unboundPerAddress;
    const idle = await Promise.all(Array.from({ length: cap }, () => openRaw(port)));
    const extra = await openRaw(port);
    expect(await extra.closed).toBe(1008);
    for (const s of idle) expect(s.ws.readyState).toBe(WebSocket.OPEN);
    // A socket that authenticates no longer counts: a new one fits.
    idle[0]!.call(1, 'aria2.getVersion', [`token:${token}`]);
    await waitFor(() => idle[0]!.answers.length === 1, 5000, 'the answer');
    const next = await openRaw(port);
    next.call(1, 'aria2.getVersion', [`token:${token}`]);
    await waitFor(() => next.answers.length === 1, 5000, 'the new socket to answer');
    expect(next.answers[0]).toMatchObject({ result: { version: expect.any(String) } });
    for (const s of [...idle, next]) s.ws.close();
  });
});

describe('message size', () => {
  it('takes an addTorrent of a 10 MiB .torrent over the socket', async () => {
    const content = Buffer.from('big torrent content');
    server.addFile('/seed/big-meta.txt', content);
    const t = makeTorrent({
      name: 'big-meta.txt',
      content,
      webSeedUrl: server.url('/seed/big-meta.txt'),
      extra: { comment: 'c'.repeat(10 * 1024 * 1024) },
    });
    expect(t.base64.length).toBeGreaterThan(13 * 1024 * 1024);
    const { token } = await tokenOf('alice');
    const a = new Aria2({ host: '127.0.0.1', port, secret: token, path: '/jsonrpc' });
    await a.open();
    try {
      const gid = await a.call<string>('addTorrent', t.base64, [], {});
      expect(gid).toMatch(/^[0-9a-f]{16}$/);
      await waitFor(
        async () => (await a.call<{ status: string }>('tellStatus', gid, ['status'])).status === 'complete',
        20_000,
        'the torrent to complete',
      );
    } finally {
      await a.close();
    }
  });

  it('closes a socket whose message is bigger than that (1009)', async () => {
    const s = await openRaw(port);
    s.ws.send('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect(await s.closed).toBe(1009);
    expect((await post(port, 'system.listNotifications', [])).result).toContain('aria2.onDownloadStart');
  });
});

describe('revocation', () => {
  it("a polling client's token is asked of the database once, until it is revoked (one SQLite instance; instances sharing PostgreSQL ask every request)", async () => {
    const first = await tokenOf('bob');
    const second = await tokenOf('bob');
    const perRequest = fx.c.config.database.kind === 'postgres';
    for (let i = 0; i < 5; i++) {
      expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${first.token}`])).result).toBeDefined();
      expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${second.token}`])).result).toBeDefined();
    }
    expect(checks.get(first.token)).toBe(perRequest ? 5 : 1);
    await fx.c.app.deps.services.tokens.revoke(actorOf('bob'), first.id);
    expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${first.token}`])).error).toEqual({
      code: 1,
      message: 'Unauthorized',
    });
    expect(checks.get(first.token)).toBe(perRequest ? 6 : 2);
    // The user's other token is not touched by the revocation.
    expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${second.token}`])).result).toBeDefined();
    expect(checks.get(second.token)).toBe(perRequest ? 6 : 1);
  });

  it("a deleted user's sockets close (4401) and their token's next call is refused", async () => {
    const { token } = await tokenOf('dave');
    const s = await openRaw(port);
    s.call(1, 'aria2.getVersion', [`token:${token}`]);
    await waitFor(() => s.answers.length === 1, 5000, 'the answer');
    expect((await post(port, 'aria2.getGlobalStat', [`token:${token}`])).result).toBeDefined();
    expect((await fx.admin.del(`/api/users/${fx.users.dave!.id}`)).statusCode).toBe(204);
    expect(await s.closed).toBe(4401);
    expect((await post(port, 'aria2.getGlobalStat', [`token:${token}`])).error).toEqual({
      code: 1,
      message: 'Unauthorized',
    });
  });

  it('a revocation while the token is being checked refuses that call and every later one, and closes its socket', async () => {
    const { id, token } = await tokenOf('alice');
    // The revocation lands between the database's answer and the RPC's use of it.
    afterCheck = async (who) => {
      if (who.tokenId !== id) return;
      afterCheck = null;
      await fx.c.app.deps.services.tokens.revoke(actorOf('alice'), id);
    };
    const s = await openRaw(shortPort);
    s.call(1, 'aria2.getGlobalStat', [`token:${token}`]);
    expect(await s.closed).toBe(4401);
    expect(s.answers).toEqual([{ id: 1, jsonrpc: '2.0', error: { code: 1, message: 'Unauthorized' } }]);
    expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${token}`])).error).toEqual({
      code: 1,
      message: 'Unauthorized',
    });

    // The same over HTTP: the call in the window and the next one are refused.
    const other = await tokenOf('alice');
    afterCheck = async (who) => {
      if (who.tokenId !== other.id) return;
      afterCheck = null;
      await fx.c.app.deps.services.tokens.revoke(actorOf('alice'), other.id);
    };
    expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${other.token}`])).error).toMatchObject({
      message: 'Unauthorized',
    });
    expect((await post(shortPort, 'aria2.getGlobalStat', [`token:${other.token}`])).error).toMatchObject({
      message: 'Unauthorized',
    });
  });
});
