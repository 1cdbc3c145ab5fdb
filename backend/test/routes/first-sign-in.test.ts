import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_PASSWORD_FILE } from '../../src/services/users.js';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
  USER_PASSWORD,
} from '../helpers/controller.js';
import { as } from '../helpers/tasks-api.js';

let c: TestController | null = null;
afterEach(async () => {
  vi.restoreAllMocks();
  await c?.destroy();
  c = null;
});

/** A controller whose first admin got a generated password (no ADMIN_PASSWORD); the password it wrote. */
async function withGeneratedPassword(): Promise<{ c: TestController; password: string; file: string }> {
  // The generated password is printed once; the test reads it from the file instead.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const started = await startTestController({ ADMIN_PASSWORD: '' });
  c = started;
  const file = path.join(started.dataDir, ADMIN_PASSWORD_FILE);
  const password = /^password: (\S+)$/m.exec(fs.readFileSync(file, 'utf8'))?.[1];
  if (!password) throw new Error('the first start wrote no generated password');
  return { c: started, password, file };
}

describe('First sign-in with a generated password', () => {
  it('the admin is asked for a new password until they change it; the change removes admin-password.txt', async () => {
    const { c, password, file } = await withGeneratedPassword();
    const login = await c.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().must_change_password).toBe(true);
    const cookie = await c.login('admin', password);
    const admin = as(c, cookie);
    expect((await admin.get('/api/auth/me')).json().must_change_password).toBe(true);

    const change = await admin.post('/api/auth/change-password', {
      current_password: password,
      new_password: 'my-own-password-1',
    });
    expect(change.statusCode).toBe(204);
    expect((await admin.get('/api/auth/me')).json().must_change_password).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
    const again = await c.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'my-own-password-1' },
    });
    expect(again.json().must_change_password).toBe(false);
  });

  it('an installation from before the question asks its admin at the next start; a stale file is removed', async () => {
    const { c, password, file } = await withGeneratedPassword();
    const adminRow = () =>
      c.db.selectFrom('users').selectAll().where('username', '=', 'admin').executeTakeFirstOrThrow();
    // What the migration that added the question left an existing installation with.
    await c.db.updateTable('users').set({ must_change_password: 0 }).execute();
    await c.users.ensureFirstAdmin(); // as at the next start
    expect((await adminRow()).must_change_password).toBe(1);
    expect(
      (await as(c, await c.login('admin', password)).get('/api/auth/me')).json().must_change_password,
    ).toBe(true);

    // The password changed while the file stayed behind (as changes did before): the file goes at start.
    const hash = (await adminRow()).password_hash;
    fs.writeFileSync(file, 'username: admin\npassword: an-older-password\n', { mode: 0o600 });
    await c.db.updateTable('users').set({ must_change_password: 0 }).execute();
    await c.users.ensureFirstAdmin();
    expect(fs.existsSync(file)).toBe(false);
    expect(await adminRow()).toMatchObject({ must_change_password: 0, password_hash: hash });
  });

  it('a wrong current password keeps the flag and the file', async () => {
    const { c, password, file } = await withGeneratedPassword();
    const admin = as(c, await c.login('admin', password));
    const change = await admin.post('/api/auth/change-password', {
      current_password: 'not-the-password',
      new_password: 'my-own-password-1',
    });
    expect(change.statusCode).toBe(403);
    expect((await admin.get('/api/auth/me')).json().must_change_password).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toContain(password);
  });

  it('an admin reset of the first admin password also removes the file that holds the old one', async () => {
    const { c, password, file } = await withGeneratedPassword();
    const admin = as(c, await c.login('admin', password));
    const me = (await admin.get('/api/auth/me')).json();
    const reset = await admin.put(`/api/users/${me.id}`, { password: 'my-own-password-2' });
    expect(reset.statusCode).toBe(200);
    // Admins who set their own password chose it.
    expect(reset.json().must_change_password).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('A password an admin chose for someone else', () => {
  it('with must_change_password, the user is asked to choose their own; their change clears it', async () => {
    c = await startTestController();
    const admin = as(c, await c.adminCookie());
    // The first admin's password came from ADMIN_PASSWORD: nothing to ask.
    expect((await admin.get('/api/auth/me')).json().must_change_password).toBe(false);

    const created = await admin.post('/api/users', {
      username: 'carol',
      password: USER_PASSWORD,
      must_change_password: true,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().must_change_password).toBe(true);
    const carol = as(c, await c.login('carol', USER_PASSWORD));
    expect((await carol.get('/api/auth/me')).json().must_change_password).toBe(true);
    const change = await carol.post('/api/auth/change-password', {
      current_password: USER_PASSWORD,
      new_password: 'carols-own-password',
    });
    expect(change.statusCode).toBe(204);
    expect((await carol.get('/api/auth/me')).json().must_change_password).toBe(false);

    // A reset by an admin may ask again; without the field the flag stays as it was.
    const id = created.json().id as number;
    const reset = await admin.put(`/api/users/${id}`, {
      password: 'reset-password-1',
      must_change_password: true,
    });
    expect(reset.json().must_change_password).toBe(true);
    expect((await admin.put(`/api/users/${id}`, { quota: 0 })).json().must_change_password).toBe(true);
    expect(
      (await admin.put(`/api/users/${id}`, { must_change_password: false })).json().must_change_password,
    ).toBe(false);
    // Without the field a new user is not asked (scripts that create accounts keep working as before).
    const plain = await admin.post('/api/users', { username: 'dave', password: USER_PASSWORD });
    expect(plain.json().must_change_password).toBe(false);
  });

  it('a must_change_password that is not a boolean is 422 naming the field and creates nobody', async () => {
    c = await startTestController();
    const admin = as(c, await c.login('admin', ADMIN_PASSWORD));
    const res = await admin.post('/api/users', {
      username: 'erin',
      password: USER_PASSWORD,
      must_change_password: 'yes',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toContain('must_change_password');
    const names = (await admin.get('/api/users')).json().map((u: { username: string }) => u.username);
    expect(names).not.toContain('erin');
  });
});
