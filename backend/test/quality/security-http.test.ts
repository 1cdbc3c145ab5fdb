import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_PASSWORD, type TestController } from '../helpers/controller.js';
import { useController } from '../helpers/fixture.js';

const login = {
  method: 'POST' as const,
  url: '/api/auth/login',
  payload: { username: 'admin', password: ADMIN_PASSWORD },
};

function expectSecurityHeaders(headers: Record<string, unknown>) {
  const csp = String(headers['content-security-policy']);
  for (const directive of [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
  ]) {
    expect(csp).toContain(directive);
  }
  expect(csp).not.toMatch(/unsafe-eval|\*/);
  expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
}

/** Opens a socket upgrade and reports the HTTP status it was refused with, or 101 when it opened. */
function upgradeStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin } });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', (err) => reject(err));
  });
}

describe('Origin check and security headers', () => {
  let c: TestController;

  useController({ env: { ALLOWED_ORIGINS: 'https://ui.example.org, http://localhost:3000' } }, (fx) => {
    c = fx.c;
  });

  it('a state-changing request from a foreign Origin is 403 Origin not allowed and changes nothing', async () => {
    // The fixture's admin session is there already: the refused login adds none.
    const sessions = (await c.db.selectFrom('sessions').selectAll().execute()).length;
    const res = await c.app.inject({ ...login, headers: { origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: 'Origin not allowed' });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await c.db.selectFrom('sessions').selectAll().execute()).toHaveLength(sessions);

    const admin = await c.adminCookie();
    const created = await c.app.inject({
      method: 'POST',
      url: '/api/users',
      headers: { cookie: admin, origin: 'http://localhost.evil.example' },
      payload: { username: 'csrf-victim', password: 'csrf-password-1' },
    });
    expect(created.statusCode).toBe(403);
    const del = await c.app.inject({
      method: 'DELETE',
      url: '/api/users/1',
      headers: { cookie: admin, origin: 'null' },
    });
    expect(del.statusCode).toBe(403);
    const users = (
      await c.app.inject({ method: 'GET', url: '/api/users', headers: { cookie: admin } })
    ).json();
    expect(users.map((u: { username: string }) => u.username)).toEqual(['admin']);
  });

  it('the own origin, an ALLOWED_ORIGINS entry, and a request without Origin pass', async () => {
    // inject() sends Host: localhost:80, so the controller's own origin is http://localhost.
    for (const origin of [
      'http://localhost',
      'http://localhost:80',
      'https://ui.example.org',
      'http://localhost:3000',
    ]) {
      const res = await c.app.inject({ ...login, headers: { origin } });
      expect(res.statusCode, origin).toBe(200);
    }
    expect((await c.app.inject(login)).statusCode).toBe(200);
    // Same host, other port or scheme: another origin.
    for (const origin of [
      'http://localhost:8080',
      'https://localhost',
      'https://ui.example.org.evil.example',
    ]) {
      expect((await c.app.inject({ ...login, headers: { origin } })).statusCode, origin).toBe(403);
    }
  });

  it('the own origin follows the Host header', async () => {
    const res = await c.app.inject({
      ...login,
      headers: { host: 'dl.example.net:8443', origin: 'http://dl.example.net:8443' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('a read with a foreign Origin is not refused (only state-changing requests are checked)', async () => {
    const res = await c.app.inject({
      method: 'GET',
      url: '/api/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('security headers are on every answer: success, error, not found and the UI root', async () => {
    const answers = [
      await c.app.inject({ method: 'GET', url: '/api/health' }),
      await c.app.inject({ method: 'GET', url: '/api/auth/me' }),
      await c.app.inject({ method: 'GET', url: '/api/no-such-thing' }),
      await c.app.inject({ method: 'GET', url: '/' }),
      await c.app.inject({ ...login, headers: { origin: 'https://evil.example' } }),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 404, 200, 403]);
    for (const res of answers) expectSecurityHeaders(res.headers);
    // API answers are per user: not for shared caches.
    expect(answers[0]!.headers['cache-control']).toBe('no-store');
  });

  it('HSTS is sent only over HTTPS', async () => {
    const plain = await c.app.inject({ method: 'GET', url: '/api/health' });
    expect(plain.headers['strict-transport-security']).toBeUndefined();
  });

  it('a WebSocket upgrade with a foreign Origin is refused with 403; the own origin is not', async () => {
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = c.app.server.address() as AddressInfo;
    const url = `ws://127.0.0.1:${port}/ws/tasks`;
    expect(await upgradeStatus(url, 'https://evil.example')).toBe(403);
    // Without a session the socket is refused or closed for authentication, but never as a foreign origin.
    const own = await upgradeStatus(url, `http://127.0.0.1:${port}`).catch(() => 0);
    expect(own).not.toBe(403);
  });
});

describe('Behind a trusted HTTPS proxy', () => {
  let c: TestController;
  useController({ env: { TRUST_PROXY: 'true' } }, (fx) => {
    c = fx.c;
  });

  it('the own origin is the forwarded https origin, and HSTS is sent', async () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'dl.example.com' };
    const ok = await c.app.inject({ ...login, headers: { ...headers, origin: 'https://dl.example.com' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const downgraded = await c.app.inject({
      ...login,
      headers: { ...headers, origin: 'http://dl.example.com' },
    });
    expect(downgraded.statusCode).toBe(403);
  });
});
