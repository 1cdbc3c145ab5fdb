/**
 * Hostile text on every route: random strings made of control characters, lone surrogates, line
 * breaks that look like aria2 options, long and odd URIs, sent in JSON bodies (where a lone surrogate
 * arrives as such), in query strings and path parameters (as raw bytes that are not UTF-8) and in the
 * session cookie. Every answer is below 500 and a 4xx is `{detail}`; aria2's connection is never lost
 * and aria2 still answers at the end. The route table is checked against Fastify's own list, so a new
 * route is walked too (with a generic body when it has no template here).
 *
 * fast-check runs with a fixed seed and bounded runs, so the file is repeatable.
 */
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../helpers/controller.js';
import { servedRoutes } from '../helpers/routes.js';
import { as } from '../helpers/tasks-api.js';

const SEED = 20_260_401;
const RUNS_PER_ROUTE = 12;
/** The routes that hand text to aria2 get more runs. */
const RUNS_TO_ARIA2 = 40;

/** Characters that broke aria2 or its session file, and their neighbours. */
const hostileUnit = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\x7f', '\u0085', '\u2028', '\ufeff', '\ufffd', '😀', '%', '/', '\\', '"', ' '),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\n dir=x', '\n allow-overwrite=true', '\r\n header=X: y', 'a', '.', '..'),
  fc.string({ maxLength: 4 }),
);
const hostileText = fc.string({ unit: hostileUnit, maxLength: 40 });
const oddUri = fc.oneof(
  hostileText.map((s) => `http://127.0.0.1:9/${s}`),
  hostileText.map((s) => `magnet:?xt=urn:btih:${s}`),
  fc.integer({ min: 1, max: 20_000 }).map((n) => `http://127.0.0.1:9/${'a'.repeat(n)}`),
  fc.constantFrom(
    'http://[::1',
    'ftp://\u0000/',
    'http://127.0.0.1:9/\ud800',
    'sftp://u@\udc00/x',
    ' http://127.0.0.1:9/',
  ),
);
const hostile = fc.oneof(hostileText, oddUri);

/** Percent-encodes every byte, a lone surrogate as its 3 bytes (not UTF-8): what a hostile client can send. */
function pct(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const bytes =
      cp < 0x80
        ? [cp]
        : cp < 0x800
          ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
          : cp < 0x10000
            ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
            : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    out += /[A-Za-z0-9_.~-]/.test(ch)
      ? ch
      : bytes.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

type Template = (s: string, t: string) => { payload?: unknown; query?: Record<string, string> };
/** Where a route takes text; `t` is a second hostile string. */
/** The admin's API token: the RPC's calls carry it as their secret, so they reach the methods. */
let rpcToken = '';
const TEMPLATES: Record<string, Template> = {
  'POST /jsonrpc': (s, t) => ({
    payload: [
      {
        jsonrpc: '2.0',
        id: s,
        method: 'aria2.addUri',
        params: [`token:${rpcToken}`, [s], { out: t, dir: s }],
      },
      { jsonrpc: '2.0', id: 2, method: 'aria2.tellStatus', params: [`token:${rpcToken}`, s, [t]] },
      { jsonrpc: '2.0', id: 3, method: s, params: [`token:${rpcToken}`] },
    ],
  }),
  'POST /api/auth/login': (s, t) => ({ payload: { username: s, password: t } }),
  'POST /api/auth/change-password': (s, t) => ({ payload: { current_password: s, new_password: t } }),
  'POST /api/users': (s, t) => ({ payload: { username: s, password: `${t}-long-enough` } }),
  'PUT /api/users/:id': (s) => ({ payload: { username: s } }),
  'POST /api/tasks': (s, t) => ({
    payload:
      s.length % 2 === 0
        ? { uri: s }
        : {
            uri: 'http://127.0.0.1:9/x',
            options: { out: s, referer: t, 'user-agent': t, header: [`X-A: ${t}`] },
          },
  }),
  'POST /api/tasks/batch': (s, t) => ({
    payload: { uris: [s, 'http://127.0.0.1:9/y'], options: { out: t } },
  }),
  'POST /api/tasks/torrent': (s, t) => ({
    payload:
      s.length % 2 === 0
        ? { torrent: s }
        : { torrent: Buffer.from(s).toString('base64'), options: { out: t } },
  }),
  'GET /api/tasks': (s, t) => ({ query: { q: s, view: t } }),
  'DELETE /api/tasks': (s) => ({ query: { delete_files: s } }),
  'POST /api/tasks/retry': (s, t) => ({
    payload: s.length % 2 === 0 ? { ids: [s] } : { filter: { q: s, view: t } },
  }),
  'POST /api/tasks/:id/retry': (s) => ({ payload: { uri: s } }),
  'PUT /api/tasks/:id/status': (s) => ({ payload: { status: s } }),
  'PUT /api/tasks/:id/position': (s) => ({ payload: { position: 1, how: s } }),
  'DELETE /api/tasks/:id': (s) => ({ query: { delete_files: s } }),
  'PUT /api/config': (s) => ({ payload: { max_task_size: s } }),
};
/** A route this file has no template for gets every common text field at once. */
const generic: Template = (s, t) => ({
  payload: { path: s, from: s, to: t, uri: s, name: t, password: t, ids: [s] },
  query: { path: s, q: t },
});
/** Routes that would end the fuzzing session are sent with a hostile cookie instead. */
const WITH_HOSTILE_COOKIE = new Set(['POST /api/auth/logout']);
/** The socket route is an upgrade, not a request inject can answer. */
const SKIPPED = new Set(['GET /ws/tasks']);

describe('hostile text on every route', () => {
  let c: TestController;
  let admin: string;
  let taskId: number;
  const disconnects: string[] = [];

  beforeAll(async () => {
    c = await startTestController();
    admin = await c.adminCookie();
    taskId = (await as(c, admin).add('http://127.0.0.1:9/base.bin')).id;
    const created = await c.app.inject({
      method: 'POST',
      url: '/api/tokens',
      headers: { cookie: admin },
      payload: { name: 'hostile text' },
    });
    rpcToken = created.json().token;
    c.aria2.on('disconnected', (reason) => disconnects.push(reason));
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('never answers 5xx, and aria2 keeps its connection', async () => {
    const routes = [...servedRoutes(c).keys()].filter((r) => !SKIPPED.has(r)).sort();
    expect(routes.length).toBeGreaterThan(20);
    for (const [index, route] of routes.entries()) {
      const [method, pattern] = route.split(' ') as [InjectOptions['method'], string];
      const template = TEMPLATES[route] ?? generic;
      await fc.assert(
        fc.asyncProperty(hostile, hostile, fc.boolean(), async (s, t, realId) => {
          const url = pattern.replace(/:(\w+)/g, (_m, name) =>
            name === 'id' && realId ? String(taskId) : pct(s),
          );
          const { payload, query } = template(s, t);
          const search = query
            ? `?${Object.entries(query)
                .map(([k, v]) => `${k}=${pct(v)}`)
                .join('&')}`
            : '';
          const cookie = WITH_HOSTILE_COOKIE.has(route) ? `aria2_session=${pct(s)}` : admin;
          const res = await c.app.inject({
            method,
            url: `${url}${search}`,
            headers: { cookie },
            ...(payload !== undefined && method !== 'GET' ? { payload: payload as object } : {}),
          });
          expect(res.statusCode, `${route} ${res.body.slice(0, 200)}`).toBeLessThan(500);
          const json = String(res.headers['content-type']).includes('json');
          if (json && route === 'POST /jsonrpc') {
            // aria2's error shape, per call: a message, never a stack or a server path.
            for (const answer of [res.json()].flat()) {
              if (answer.error) expect(typeof answer.error.message, route).toBe('string');
              else expect(answer, route).toHaveProperty('result');
            }
          } else if (res.statusCode >= 400 && json) {
            expect(typeof res.json().detail, route).toBe('string');
          }
          expect(disconnects, route).toEqual([]);
        }),
        {
          seed: SEED + index,
          numRuns: route.startsWith('POST /api/tasks') ? RUNS_TO_ARIA2 : RUNS_PER_ROUTE,
          endOnFailure: true,
        },
      );
    }
    // aria2 looks at every download once more; no request was lost on the way (an unreadable request
    // is answered without an id, a dropped connection fails every call in flight).
    await c.sync.reconcileNow();
    const errors = await c.db
      .selectFrom('tasks')
      .select(['id', 'error'])
      .where('error', 'is not', null)
      .execute();
    for (const row of errors) {
      expect(row.error, `task ${row.id}`).not.toMatch(
        /Parse error|no answer from aria2|aria2 is not connected|connection to aria2 closed/,
      );
    }
    expect(disconnects).toEqual([]);
    expect(c.aria2.connected).toBe(true);
    expect((await c.aria2.getVersion()).version).toMatch(/^\d/);
    // The fuzzing session survived: nothing above logged the admin out.
    expect(
      (await c.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: admin } })).statusCode,
    ).toBe(200);
  }, 240_000);
});
