/**
 * Requests to aria2 stay under its request-size limit: a long multicall goes out as several requests,
 * one call too large fails alone, and a reply shorter than its request fails the missing items.
 * A real aria2c with a small --rpc-max-request-size; a fake one only for the short reply.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Error } from '../../src/aria2/errors.js';
import { Aria2Gateway } from '../../src/aria2/gateway.js';
import { handOver } from '../../src/services/handover.js';
import { startTestAria2, type TestAria2 } from '../helpers/aria2.js';

const LIMIT = 256 * 1024;
/** One header line of ~4 KiB, as a user's cookie header might be. */
const bigHeader = (n: number) => `Cookie: c${n}=${'x'.repeat(4000)}`;
/** addUri of a paused download (nothing is fetched) with a large header. */
const addCall = (i: number, header = bigHeader(i)) => ({
  method: 'aria2.addUri',
  params: [[`http://127.0.0.1:9/file-${i}`], { pause: 'true', header: [header] }],
});

describe('multicall against a real aria2c with a 256 KiB request limit', () => {
  let aria2: TestAria2;
  let client: Aria2Client;

  beforeAll(async () => {
    aria2 = await startTestAria2({ extraArgs: [`--rpc-max-request-size=${LIMIT}`] });
    client = new Aria2Client({ url: aria2.url, secret: aria2.secret, maxRequestBytes: LIMIT });
    await client.start();
  });
  afterAll(async () => {
    await client?.close();
    await aria2?.stop();
  });

  it('200 calls of ~4 KiB each (800 KiB together) all succeed, in several requests', async () => {
    const results = await client.multicall(Array.from({ length: 200 }, (_, i) => addCall(i)));
    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.ok)).toHaveLength(200);
    const gids = results.map((r) => (r.ok ? String(r.value) : ''));
    expect(new Set(gids).size).toBe(200);
    const waiting = await aria2.rpc<{ gid: string }[]>('aria2.tellWaiting', [0, 1000, ['gid']]);
    expect(new Set(waiting.map((w) => w.gid))).toEqual(new Set(gids));
    expect(client.connected).toBe(true);
  });

  it('one call larger than the limit fails alone; the others succeed and the connection stays', async () => {
    const results = await client.multicall([
      addCall(1000),
      addCall(1001, `Cookie: huge=${'y'.repeat(LIMIT)}`),
      addCall(1002),
    ]);
    expect(results[0]?.ok).toBe(true);
    expect(results[2]?.ok).toBe(true);
    const failed = results[1]!;
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error).toBeInstanceOf(Aria2Error);
      expect(failed.error.method).toBe('aria2.addUri');
      expect(failed.error.reason).toMatch(/over aria2's limit/);
    }
    expect(client.connected).toBe(true);
    expect((await client.getVersion()).version).toMatch(/^\d+\./);
  });

  it('a single call larger than the limit fails with an Aria2Error and is never sent', async () => {
    const before = (await aria2.rpc<unknown[]>('aria2.tellWaiting', [0, 1000, ['gid']])).length;
    await expect(
      client.addUri(['http://127.0.0.1:9/huge'], { pause: 'true', header: [`X: ${'z'.repeat(LIMIT)}`] }),
    ).rejects.toThrow(/over aria2's limit/);
    expect(client.connected).toBe(true);
    expect(await aria2.rpc<unknown[]>('aria2.tellWaiting', [0, 1000, ['gid']])).toHaveLength(before);
  });
});

describe('multicall against a fake aria2 that drops items from its replies', () => {
  let wss: WebSocketServer;
  let client: Aria2Client;
  /** Requests of 3 calls: a hand-over of two downloads (add + status each) loses the second add. */
  let client3: Aria2Client;
  let dir: string;
  const multicalls: number[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-short-reply-'));
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { id: number; method: string; params: unknown[] };
        let result: unknown = { version: '1.36.0', enabledFeatures: [] };
        if (msg.method === 'system.multicall') {
          const calls = msg.params[0] as { methodName: string; params: unknown[] }[];
          multicalls.push(calls.length);
          // Answers every call but the last one of each request.
          result = calls
            .slice(0, -1)
            .map((c) => [
              c.methodName === 'aria2.addUri' ? (c.params[1] as { gid: string }).gid : { status: 'waiting' },
            ]);
        }
        if (socket.readyState === WebSocket.OPEN)
          socket.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
      });
    });
    const { port } = wss.address() as { port: number };
    client = new Aria2Client({ url: `ws://127.0.0.1:${port}/jsonrpc`, secret: null, multicallCalls: 4 });
    client3 = new Aria2Client({ url: `ws://127.0.0.1:${port}/jsonrpc`, secret: null, multicallCalls: 3 });
    await client.start();
    await client3.start();
  });
  afterAll(async () => {
    await client?.close();
    await client3?.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('splits by count, and fails the items a reply lacks', async () => {
    multicalls.length = 0;
    const results = await client.multicall(
      Array.from({ length: 10 }, (_, i) => ({ method: 'aria2.tellStatus', params: [`g${i}`] })),
    );
    expect(multicalls).toEqual([4, 4, 2]);
    expect(results).toHaveLength(10);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false, true, true, true, false, true, false]);
    const missing = results[3]!;
    if (!missing.ok) expect(missing.error.reason).toBe('aria2 gave no answer for this call');
  });

  it('the hand-over of downloads whose answers are missing fails those downloads, and does not throw', async () => {
    const rows = [1, 2].map((id) => ({
      id,
      uri: `http://127.0.0.1:9/f${id}`,
      torrent: null,
      options: '{}',
      dir: path.join(dir, String(id)),
      gid: `000000000000000${id}`,
    }));
    const results = await handOver(new Aria2Gateway('local', client3), rows);
    expect(results.get(1)).toMatchObject({ ok: true, gid: rows[0]!.gid });
    expect(results.get(2)).toEqual({ ok: false, reason: 'aria2 gave no answer for this call' });
  });
});
