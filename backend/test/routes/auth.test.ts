import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
  USER_PASSWORD,
} from '../helpers/controller.js';

const TTL_DAYS = 7;

/** inject() that keeps every answer, so the suite can prove no hash or password ever went out. */
function recorder(app: () => FastifyInstance) {
  const bodies: string[] = [];
  const call = async (opts: InjectOptions) => {
    const res = await app().inject(opts);
    bodies.push(res.body, JSON.stringify(res.headers));
    return res;
  };
  return { bodies, call };
}

function sessionCookieOf(res: { cookies: { name: string; value: string }[] }) {
  return res.cookies.find((c) => c.name === 'aria2_session');
}

describe('Auth endpoints', () => {
  let c: TestController;
  const { bodies, call } = recorder(() => c.app);
  const secrets = [ADMIN_PASSWORD, USER_PASSWORD, 'fresh-password-2', 'not-the-password'];

  beforeAll(async () => {
    c = await startTestController({ SESSION_TTL_DAYS: String(TTL_DAYS) });
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('login answers 200 with the User and sets an HttpOnly, SameSite=Lax session cookie', async () => {
    const res = await call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const user = res.json();
    expect(user).toEqual({
      id: expect.any(Number),
      username: 'admin',
      is_admin: true,
      quota: expect.any(Number),
      used_space: 0,
      node: 'local',
      must_change_password: false,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    const cookie = sessionCookieOf(res)!;
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const header = String(res.headers['set-cookie']);
    expect(header).toMatch(/HttpOnly/i);
    expect(header).toMatch(/SameSite=Lax/i);
    expect(header).toMatch(/Path=\//);
    expect(header).toContain(`Max-Age=${TTL_DAYS * 24 * 3600}`);
    // Plain HTTP without COOKIE_SECURE: not Secure, or the browser would drop it.
    expect(header).not.toMatch(/Secure/i);
  });

  it('wrong password and unknown user are both 401 with the same sentence and no cookie', async () => {
    const user = await c.createUser('wrongpass');
    expect(user.id).toBeGreaterThan(0);
    for (const payload of [
      { username: 'wrongpass', password: 'not-the-password' },
      { username: 'no-such-user', password: 'not-the-password' },
    ]) {
      const res = await call({ method: 'POST', url: '/api/auth/login', payload });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ detail: 'Invalid username or password' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('login with a malformed body is 422 naming the field', async () => {
    const missing = await call({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin' } });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toContain('password');
    const extra = await call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD, is_admin: true },
    });
    expect(extra.statusCode).toBe(422);
    const badJson = await call({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":',
    });
    expect(badJson.statusCode).toBe(422);
  });

  it('me answers the User for a session and 401 Not authenticated without one or with a forged one', async () => {
    const { cookie } = await c.createUser('meuser');
    const me = await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'meuser', is_admin: false });
    expect(Object.keys(me.json()).sort()).toEqual([
      'created_at',
      'id',
      'is_admin',
      'must_change_password',
      'node',
      'quota',
      'used_space',
      'username',
    ]);

    for (const headers of [
      {},
      { cookie: `aria2_session=${'A'.repeat(43)}` },
      { cookie: 'aria2_session=garbage' },
    ]) {
      const res = await call({ method: 'GET', url: '/api/auth/me', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ detail: 'Not authenticated' });
    }
  });

  it('an authenticated answer renews the cookie, so the browser keeps a sliding session', async () => {
    const { cookie } = await c.createUser('slider');
    const res = await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    const renewed = sessionCookieOf(res);
    expect(renewed?.value).toBe(cookie.split('=')[1]);
    expect(String(res.headers['set-cookie'])).toContain(`Max-Age=${TTL_DAYS * 24 * 3600}`);
    expect(String(res.headers['set-cookie'])).toMatch(/HttpOnly/i);
  });

  it('logout answers 204, clears the cookie and ends the session; without a session it is 401', async () => {
    const { cookie } = await c.createUser('leaver');
    const res = await call({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const cleared = sessionCookieOf(res)!;
    expect(cleared.value).toBe('');
    expect(String(res.headers['set-cookie'])).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
    expect((await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401);
    expect((await call({ method: 'POST', url: '/api/auth/logout' })).statusCode).toBe(401);
  });

  it('change-password answers 204, keeps this session, ends the others, and swaps the password', async () => {
    const { cookie: first } = await c.createUser('changer');
    const second = await c.login('changer', USER_PASSWORD);
    const res = await call({
      method: 'POST',
      url: '/api/auth/change-password',
      headers: { cookie: first },
      payload: { current_password: USER_PASSWORD, new_password: 'fresh-password-2' },
    });
    expect(res.statusCode).toBe(204);
    expect((await call({ method: 'GET', url: '/api/auth/me', headers: { cookie: first } })).statusCode).toBe(
      200,
    );
    const other = await call({ method: 'GET', url: '/api/auth/me', headers: { cookie: second } });
    expect(other.statusCode).toBe(401);
    expect(other.json()).toEqual({ detail: 'Not authenticated' });
    const old = await call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'changer', password: USER_PASSWORD },
    });
    expect(old.statusCode).toBe(401);
    await expect(c.login('changer', 'fresh-password-2')).resolves.toMatch(/^aria2_session=/);
  });

  it('change-password: a wrong current password is 403, a short new one 422, no session 401; nothing changes', async () => {
    const { cookie } = await c.createUser('keeper');
    const wrong = await call({
      method: 'POST',
      url: '/api/auth/change-password',
      headers: { cookie },
      payload: { current_password: 'not-the-password', new_password: 'fresh-password-2' },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toEqual({ detail: 'Current password is incorrect' });
    const short = await call({
      method: 'POST',
      url: '/api/auth/change-password',
      headers: { cookie },
      payload: { current_password: USER_PASSWORD, new_password: 'short' },
    });
    expect(short.statusCode).toBe(422);
    expect(short.json().detail).toContain('new_password');
    const anonymous = await call({
      method: 'POST',
      url: '/api/auth/change-password',
      payload: { current_password: USER_PASSWORD, new_password: 'fresh-password-2' },
    });
    expect(anonymous.statusCode).toBe(401);
    await expect(c.login('keeper', USER_PASSWORD)).resolves.toMatch(/^aria2_session=/);
  });

  it('an expired session is 401', async () => {
    const { cookie } = await c.createUser('expiring');
    expect((await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(200);
    const user = await c.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'expiring')
      .executeTakeFirstOrThrow();
    await c.db
      .updateTable('sessions')
      .set({ expires_at: Date.now() - 1000 })
      .where('user_id', '=', user.id)
      .execute();
    const res = await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ detail: 'Not authenticated' });
  });

  it("a deleted user's session is dead (401)", async () => {
    const { id, cookie } = await c.createUser('doomed');
    const admin = await c.adminCookie();
    expect(
      (await call({ method: 'DELETE', url: `/api/users/${id}`, headers: { cookie: admin } })).statusCode,
    ).toBe(204);
    const res = await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(res.statusCode).toBe(401);
  });

  it('brute force on one username reaches 429 with Retry-After, even for the right password', async () => {
    await c.createUser('target');
    for (let i = 0; i < 10; i++) {
      const res = await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'target', password: `guess-number-${i}` },
        // Different addresses: the per-username limit alone must stop it.
        remoteAddress: `198.51.100.${i + 1}`,
      });
      expect(res.statusCode).toBe(401);
    }
    const res = await call({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'TARGET', password: USER_PASSWORD },
      remoteAddress: '198.51.100.200',
    });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toEqual({ detail: 'Too many failed sign-in attempts; try again later' });
    const retryAfter = Number(res.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('brute force from one address across usernames reaches 429 too', async () => {
    let last = 0;
    for (let i = 0; i < 60 && last !== 429; i++) {
      const res = await call({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: `spray-${i}`, password: 'not-the-password' },
        remoteAddress: '203.0.113.9',
      });
      last = res.statusCode;
      if (last !== 429) expect(last).toBe(401);
    }
    expect(last).toBe(429);
    // The admin signing in from elsewhere is not affected.
    await expect(c.adminCookie()).resolves.toMatch(/^aria2_session=/);
  });

  it('no answer of this suite carried a password or a password hash', () => {
    const all = bodies.join('\n');
    expect(all).not.toContain('$argon2');
    expect(all).not.toContain('password_hash');
    for (const s of secrets) expect(all).not.toContain(s);
  });
});

describe('Session cookie Secure flag', () => {
  it('is set with COOKIE_SECURE=true', async () => {
    const c = await startTestController({ COOKIE_SECURE: 'true' });
    try {
      const res = await c.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/i);
    } finally {
      await c.destroy();
    }
  });

  it('is set behind an HTTPS proxy with TRUST_PROXY=true, and X-Forwarded-Proto is ignored without it', async () => {
    const trusting = await startTestController({ TRUST_PROXY: 'true' });
    const plain = await startTestController({});
    try {
      const login = (app: FastifyInstance) =>
        app.inject({
          method: 'POST',
          url: '/api/auth/login',
          headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'downloads.example.com' },
          payload: { username: 'admin', password: ADMIN_PASSWORD },
        });
      const proxied = await login(trusting.app);
      expect(proxied.statusCode).toBe(200);
      expect(String(proxied.headers['set-cookie'])).toMatch(/; Secure/i);
      const direct = await login(plain.app);
      expect(direct.statusCode).toBe(200);
      expect(String(direct.headers['set-cookie'])).not.toMatch(/Secure/i);
    } finally {
      await trusting.destroy();
      await plain.destroy();
    }
  });
});

describe('First admin', () => {
  it('a generated password lands in admin-password.txt (mode 600) and a second start does not reset it', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-admin-'));
    // An empty ADMIN_PASSWORD counts as unset: the password is generated.
    const env = { ADMIN_PASSWORD: '', ADMIN_USERNAME: 'chief' };
    try {
      const first = await startTestController(env, { dataDir: dir });
      const file = path.join(dir, 'admin-password.txt');
      let password: string;
      try {
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        password = /password: (\S+)/.exec(fs.readFileSync(file, 'utf8'))![1]!;
        expect(password).toHaveLength(20);
        await expect(first.login('chief', password)).resolves.toMatch(/^aria2_session=/);
        const me = await first.app.inject({
          method: 'GET',
          url: '/api/auth/me',
          headers: { cookie: await first.login('chief', password) },
        });
        expect(me.json()).toMatchObject({ username: 'chief', is_admin: true });
      } finally {
        await first.close();
      }
      const before = fs.readFileSync(file, 'utf8');
      const second = await startTestController(
        { ...env, ADMIN_PASSWORD: 'another-password-9' },
        { dataDir: dir },
      );
      try {
        await expect(second.login('chief', password)).resolves.toMatch(/^aria2_session=/);
        await expect(second.login('chief', 'another-password-9')).rejects.toThrow(/401/);
        expect(fs.readFileSync(file, 'utf8')).toBe(before);
        expect(await second.users.list()).toHaveLength(1);
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
