import fs from 'node:fs';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GiB } from '../../src/config/index.js';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
  USER_PASSWORD,
} from '../helpers/controller.js';
import { startFileServer } from '../helpers/file-server.js';
import { as } from '../helpers/tasks-api.js';

describe('Users endpoints (admin)', () => {
  let c: TestController;
  let admin: string;
  let adminId: number;
  const bodies: string[] = [];
  const call = async (opts: InjectOptions) => {
    const res = await c.app.inject(opts);
    bodies.push(res.body);
    return res;
  };
  const asAdmin = (opts: InjectOptions) => call({ ...opts, headers: { ...opts.headers, cookie: admin } });

  beforeAll(async () => {
    c = await startTestController({ DEFAULT_QUOTA: String(3 * GiB) });
    admin = await c.adminCookie();
    adminId = (await c.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie: admin } })).json()
      .id;
  });
  afterAll(async () => {
    await c?.destroy();
  });

  it('POST creates a user: 201 with the User, the default quota, and a working password', async () => {
    const res = await asAdmin({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'alice', password: USER_PASSWORD },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(Number),
      username: 'alice',
      is_admin: false,
      quota: 3 * GiB,
      used_space: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      node: 'local',
      must_change_password: false,
    });
    await expect(c.login('alice', USER_PASSWORD)).resolves.toMatch(/^aria2_session=/);

    const withAll = await asAdmin({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'bob.admin', password: USER_PASSWORD, is_admin: true, quota: 0 },
    });
    expect(withAll.statusCode).toBe(201);
    expect(withAll.json()).toMatchObject({ username: 'bob.admin', is_admin: true, quota: 0 });
  });

  it('POST with a taken name (any case) is 409 Username already exists', async () => {
    await asAdmin({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'taken', password: USER_PASSWORD },
    });
    const res = await asAdmin({
      method: 'POST',
      url: '/api/users',
      payload: { username: 'TAKEN', password: USER_PASSWORD },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ detail: 'Username already exists' });
  });

  it('POST with bad input is 422 naming the field, and creates nothing', async () => {
    const cases: [unknown, string][] = [
      [{ username: 'has space', password: USER_PASSWORD }, 'username'],
      [{ username: 'x'.repeat(51), password: USER_PASSWORD }, 'username'],
      [{ username: '', password: USER_PASSWORD }, 'username'],
      [{ username: 'shortpw', password: 'short' }, 'password'],
      [{ username: 'negquota', password: USER_PASSWORD, quota: -1 }, 'quota'],
      [{ username: 'fracquota', password: USER_PASSWORD, quota: 1.5 }, 'quota'],
      [{ username: 'strquota', password: USER_PASSWORD, quota: '10' }, 'quota'],
      [{ username: 'adminstr', password: USER_PASSWORD, is_admin: 'yes' }, 'is_admin'],
      [{ username: 'extra', password: USER_PASSWORD, password_hash: 'x' }, ''],
      [{ password: USER_PASSWORD }, 'username'],
    ];
    const before = (await asAdmin({ method: 'GET', url: '/api/users' })).json().length;
    for (const [payload, field] of cases) {
      const res = await asAdmin({ method: 'POST', url: '/api/users', payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().detail).toContain(field);
    }
    expect((await asAdmin({ method: 'GET', url: '/api/users' })).json()).toHaveLength(before);
  });

  it('GET lists users; GET {id} answers one, 404 User not found for an unknown id, 422 for a bad id', async () => {
    const list = await asAdmin({ method: 'GET', url: '/api/users' });
    expect(list.statusCode).toBe(200);
    const users = list.json() as { id: number; username: string }[];
    expect(users.map((u) => u.username)).toContain('admin');
    for (const u of users)
      expect(Object.keys(u).sort()).toEqual([
        'created_at',
        'id',
        'is_admin',
        'must_change_password',
        'node',
        'quota',
        'used_space',
        'username',
      ]);

    const one = await asAdmin({ method: 'GET', url: `/api/users/${adminId}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: adminId, username: 'admin', is_admin: true });

    const missing = await asAdmin({ method: 'GET', url: '/api/users/99999' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'User not found' });

    for (const bad of ['abc', '0', '-3', '1.5', '1e3', '0x10', '+7']) {
      const res = await asAdmin({ method: 'GET', url: `/api/users/${bad}` });
      expect(res.statusCode, bad).toBe(422);
      expect(res.json().detail).toContain('id');
    }
  });

  it('PUT changes only the given fields (200), and 404/409/422 where it must', async () => {
    const created = (
      await asAdmin({
        method: 'POST',
        url: '/api/users',
        payload: { username: 'carol', password: USER_PASSWORD },
      })
    ).json();
    const res = await asAdmin({
      method: 'PUT',
      url: `/api/users/${created.id}`,
      payload: { quota: 42, is_admin: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...created, quota: 42, is_admin: true });

    const renamed = await asAdmin({
      method: 'PUT',
      url: `/api/users/${created.id}`,
      payload: { username: 'carol2' },
    });
    expect(renamed.json()).toMatchObject({ username: 'carol2', quota: 42 });

    const clash = await asAdmin({
      method: 'PUT',
      url: `/api/users/${created.id}`,
      payload: { username: 'Admin' },
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toEqual({ detail: 'Username already exists' });

    const missing = await asAdmin({ method: 'PUT', url: '/api/users/99999', payload: { quota: 1 } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ detail: 'User not found' });

    for (const payload of [{ quota: -5 }, { password: 'short' }, { username: 'bad name' }, { nope: 1 }]) {
      const bad = await asAdmin({ method: 'PUT', url: `/api/users/${created.id}`, payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(422);
    }
    expect((await asAdmin({ method: 'PUT', url: '/api/users/zero', payload: { quota: 1 } })).statusCode).toBe(
      422,
    );
    expect((await asAdmin({ method: 'GET', url: `/api/users/${created.id}` })).json()).toMatchObject({
      username: 'carol2',
      quota: 42,
    });
  });

  it('PUT with a new password signs the user out everywhere and the new password works', async () => {
    const { id, cookie } = await c.createUser('dave');
    const res = await asAdmin({
      method: 'PUT',
      url: `/api/users/${id}`,
      payload: { password: 'reset-password-3' },
    });
    expect(res.statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(401);
    await expect(c.login('dave', 'reset-password-3')).resolves.toMatch(/^aria2_session=/);
  });

  it('an admin cannot drop their own admin flag (409) and stays admin', async () => {
    const res = await asAdmin({ method: 'PUT', url: `/api/users/${adminId}`, payload: { is_admin: false } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ detail: 'You cannot remove your own admin rights' });
    expect((await asAdmin({ method: 'GET', url: '/api/users' })).statusCode).toBe(200);
  });

  it('a demoted admin loses admin routes at once', async () => {
    const { id, cookie } = await c.createUser('temp-admin', { is_admin: true });
    expect((await call({ method: 'GET', url: '/api/users', headers: { cookie } })).statusCode).toBe(200);
    await asAdmin({ method: 'PUT', url: `/api/users/${id}`, payload: { is_admin: false } });
    const res = await call({ method: 'GET', url: '/api/users', headers: { cookie } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: 'Admin required' });
  });

  it('DELETE answers 204 and keeps the folder; delete_files=true removes it; 404, 409 and 422 where they must', async () => {
    const kept = await c.createUser('erin');
    const keptFolder = path.join(c.config.downloadDir, String(kept.id));
    fs.mkdirSync(keptFolder, { recursive: true });
    fs.writeFileSync(path.join(keptFolder, 'a.bin'), 'a');
    const del = await asAdmin({ method: 'DELETE', url: `/api/users/${kept.id}` });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect(fs.existsSync(path.join(keptFolder, 'a.bin'))).toBe(true);
    expect((await asAdmin({ method: 'GET', url: `/api/users/${kept.id}` })).statusCode).toBe(404);
    expect(
      (await call({ method: 'GET', url: '/api/auth/me', headers: { cookie: kept.cookie } })).statusCode,
    ).toBe(401);

    const gone = await c.createUser('frank');
    const goneFolder = path.join(c.config.downloadDir, String(gone.id));
    fs.mkdirSync(path.join(goneFolder, '.incomplete'), { recursive: true });
    fs.writeFileSync(path.join(goneFolder, 'b.bin'), 'b');
    const delFiles = await asAdmin({ method: 'DELETE', url: `/api/users/${gone.id}?delete_files=true` });
    expect(delFiles.statusCode).toBe(204);
    expect(fs.existsSync(goneFolder)).toBe(false);
    expect(fs.existsSync(path.join(keptFolder, 'a.bin'))).toBe(true);

    const again = await asAdmin({ method: 'DELETE', url: `/api/users/${gone.id}` });
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ detail: 'User not found' });

    const self = await asAdmin({ method: 'DELETE', url: `/api/users/${adminId}` });
    expect(self.statusCode).toBe(409);
    expect(self.json()).toEqual({ detail: 'You cannot delete your own account' });

    const victim = await c.createUser('grace');
    const badQuery = await asAdmin({ method: 'DELETE', url: `/api/users/${victim.id}?delete_files=maybe` });
    expect(badQuery.statusCode).toBe(422);
    expect(badQuery.json().detail).toContain('delete_files');
    expect((await asAdmin({ method: 'DELETE', url: '/api/users/-1' })).statusCode).toBe(422);
    expect((await asAdmin({ method: 'GET', url: `/api/users/${victim.id}` })).statusCode).toBe(200);
  });

  it("DELETE stops and forgets the user's downloads in aria2, leaving other users' running", async () => {
    const server = await startFileServer();
    try {
      // Throttled: both downloads stay active while the user is deleted.
      server.addFile('/slow-h.bin', { size: 4 << 20 }, { throttle: 64 * 1024 });
      server.addFile('/slow-i.bin', { size: 4 << 20 }, { throttle: 64 * 1024 });
      const heidi = await c.createUser('heidi');
      const ivan = await c.createUser('ivan');
      const hTask = await as(c, heidi.cookie).waitTask(
        (await as(c, heidi.cookie).add(server.url('/slow-h.bin'))).id,
        (t) => t.status === 'active' && t.gid !== null,
      );
      const iTask = await as(c, ivan.cookie).waitTask(
        (await as(c, ivan.cookie).add(server.url('/slow-i.bin'))).id,
        (t) => t.status === 'active' && t.gid !== null,
      );
      const res = await asAdmin({ method: 'DELETE', url: `/api/users/${heidi.id}?delete_files=true` });
      expect(res.statusCode).toBe(204);

      const known = async () => {
        const [active, waiting, stopped] = await Promise.all([
          c.aria2.tellActive(['gid']),
          c.aria2.tellWaiting(0, 1000, ['gid']),
          c.aria2.tellStopped(0, 1000, ['gid']),
        ]);
        return [...active, ...waiting, ...stopped].map((s) => s.gid);
      };
      const gids = await known();
      expect(gids).not.toContain(hTask.gid);
      expect(gids).toContain(iTask.gid);
      expect(await c.db.selectFrom('tasks').select('id').where('owner_id', '=', heidi.id).execute()).toEqual(
        [],
      );
      expect(fs.existsSync(path.join(c.config.downloadDir, String(heidi.id)))).toBe(false);
      expect((await as(c, ivan.cookie).task(iTask.id)).status).toBe('active');
    } finally {
      await server.close();
    }
  });

  it('every users route is 401 without a session and 403 Admin required for a plain user, changing nothing', async () => {
    const plain = await c.createUser('plain');
    const routes: InjectOptions[] = [
      { method: 'GET', url: '/api/users' },
      {
        method: 'POST',
        url: '/api/users',
        payload: { username: 'sneaky', password: USER_PASSWORD, is_admin: true },
      },
      { method: 'GET', url: `/api/users/${adminId}` },
      { method: 'PUT', url: `/api/users/${plain.id}`, payload: { is_admin: true, quota: 0 } },
      { method: 'PUT', url: `/api/users/${adminId}`, payload: { password: 'hijacked-password' } },
      { method: 'DELETE', url: `/api/users/${adminId}` },
    ];
    for (const route of routes) {
      const anonymous = await call(route);
      expect(anonymous.statusCode, `${route.method} ${route.url}`).toBe(401);
      expect(anonymous.json()).toEqual({ detail: 'Not authenticated' });
      const user = await call({ ...route, headers: { cookie: plain.cookie } });
      expect(user.statusCode, `${route.method} ${route.url}`).toBe(403);
      expect(user.json()).toEqual({ detail: 'Admin required' });
    }
    const list = (await asAdmin({ method: 'GET', url: '/api/users' })).json() as {
      username: string;
      is_admin: boolean;
    }[];
    expect(list.find((u) => u.username === 'sneaky')).toBeUndefined();
    expect(list.find((u) => u.username === 'plain')?.is_admin).toBe(false);
    await expect(c.login('admin', ADMIN_PASSWORD)).resolves.toMatch(/^aria2_session=/);
  });

  it('no answer carried a password or a hash', () => {
    const all = bodies.join('\n');
    expect(all).not.toContain('$argon2');
    for (const s of [USER_PASSWORD, ADMIN_PASSWORD, 'reset-password-3', 'hijacked-password'])
      expect(all).not.toContain(s);
  });
});
