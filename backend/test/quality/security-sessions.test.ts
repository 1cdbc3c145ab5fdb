/**
 * Sessions and the page: a live socket closes when its session expires (not only at logout), and the
 * UI's Content-Security-Policy allows exactly each page's own inline scripts by hash, never
 * 'unsafe-inline' scripts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { inlineScriptHashes } from '../../src/plugins/static-ui.js';
import type { TestController } from '../helpers/controller.js';
import { useController } from '../helpers/fixture.js';

const UI_DIR = path.resolve(import.meta.dirname, '../../../frontend/out');

describe('a live socket and its session', () => {
  let c: TestController;
  let port: number;

  // Sessions of about 2.6 s, so one expires during the test (too short to slide).
  useController({ env: { SESSION_TTL_DAYS: '0.00003' } }, async (fx) => {
    c = fx.c;
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    port = (c.app.server.address() as AddressInfo).port;
  });

  it('closes with 4401 when its session expires, with no request on it', async () => {
    const cookie = await c.adminCookie();
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws/tasks`, { headers: { cookie } });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const opened = await new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('close', () => resolve(false));
    });
    expect(opened).toBe(true);
    // Without the fix the socket stays open and this wait runs into the test's timeout.
    expect(await closed).toBe(4401);
    const me = await c.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(401);
  }, 20_000);
});

describe('the Content-Security-Policy of the UI', () => {
  let c: TestController;

  beforeAll(() => {
    expect(fs.existsSync(path.join(UI_DIR, 'index.html')), 'the UI is built (npm run build:ui)').toBe(true);
  });
  useController({ controller: { uiDir: UI_DIR } }, (fx) => {
    c = fx.c;
  });

  const scriptSrc = (csp: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('script-src'))!;

  it.each(['/', '/login', '/tasks', '/history', '/users', '/settings', '/profile', '/no-such-page'])(
    '%s allows its own inline scripts by hash and nothing else inline',
    async (url) => {
      const res = await c.app.inject({ method: 'GET', url });
      expect(res.headers['content-type']).toMatch(/text\/html/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      const script = scriptSrc(csp);
      expect(script).not.toContain('unsafe-inline');
      expect(script).not.toContain('unsafe-eval');
      // Every inline script of the page as served has its hash in the policy.
      const inline = [...res.body.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)]
        .map((m) => m[1]!)
        .filter(Boolean);
      expect(inline.length).toBeGreaterThan(0);
      for (const body of inline) {
        const hash = createHash('sha256').update(body).digest('base64');
        expect(script).toContain(`'sha256-${hash}'`);
      }
      expect(script.split(' ').filter((s) => s.startsWith("'sha256-")).length).toBe(new Set(inline).size);
    },
  );

  it('API answers carry the same policy without any script hash', async () => {
    const res = await c.app.inject({ method: 'GET', url: '/api/health' });
    const script = scriptSrc(String(res.headers['content-security-policy']));
    expect(script).toBe("script-src 'self'");
  });

  it('finds inline scripts and skips scripts with src', () => {
    const html =
      '<script src="/a.js"></script><script>one()</script><script id="x">two()</script><script></script>';
    const sha = (s: string) => createHash('sha256').update(s).digest('base64');
    expect(inlineScriptHashes(html)).toEqual([sha('one()'), sha('two()')]);
  });
});
