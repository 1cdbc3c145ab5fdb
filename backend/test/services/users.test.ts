import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GiB } from '../../src/config/index.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { hashSessionId, verifyPassword } from '../../src/domain/passwords.js';
import { findUserByUsername } from '../../src/repositories/users.js';
import { AuthService } from '../../src/services/auth.js';
import type { Actor } from '../../src/services/context.js';
import { ADMIN_PASSWORD_FILE, UsersService } from '../../src/services/users.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

const PASSWORD = 'user-password-1';

/** Records calls to forgetAllOf and whether the user's row still existed at that moment. */
function recordingTasks(u: () => UnitContext) {
  const calls: { userId: number; rowExisted: boolean }[] = [];
  return {
    calls,
    async forgetAllOf(userId: number) {
      const row = await u().db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      calls.push({ userId, rowExisted: row !== undefined });
    },
  };
}

describe('UsersService', () => {
  let u: UnitContext;
  let tasks: ReturnType<typeof recordingTasks>;
  let users: UsersService;
  let admin: Actor;

  beforeEach(async () => {
    u = await unitContext({ DEFAULT_QUOTA: String(5 * GiB) });
    tasks = recordingTasks(() => u);
    users = new UsersService(u.ctx, tasks);
    const created = await users.create({ username: 'root', password: PASSWORD, is_admin: true });
    admin = { id: created.id, username: created.username, is_admin: true, quota: created.quota };
  });
  afterEach(async () => {
    await u.close();
  });

  it('creates a user with an argon2id hash and the default quota from the settings', async () => {
    const user = await users.create({ username: 'alice', password: PASSWORD });
    expect(user).toEqual({
      id: user.id,
      username: 'alice',
      is_admin: false,
      quota: 5 * GiB,
      used_space: 0,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      node: 'local',
      must_change_password: false,
    });
    const row = (await findUserByUsername(u.db, 'alice'))!;
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(row.password_hash, PASSWORD)).toBe(true);
    // Settings changed at run time apply to the next user.
    await u.ctx.settings.update({ default_quota: 7 });
    expect((await users.create({ username: 'bob', password: PASSWORD })).quota).toBe(7);
    expect((await users.create({ username: 'carol', password: PASSWORD, quota: 0 })).quota).toBe(0);
  });

  it('refuses a taken name, whatever its case, with 409', async () => {
    await users.create({ username: 'alice', password: PASSWORD });
    const err = await failure(users.create({ username: 'ALICE', password: PASSWORD }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.detail).toBe('Username already exists');
  });

  it('lists and gets users without any hash; a missing id is 404 User not found', async () => {
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const list = await users.list();
    expect(list.map((x) => x.username)).toEqual(['root', 'alice']);
    expect(JSON.stringify(list)).not.toContain('argon2');
    expect(await users.get(alice.id)).toEqual(alice);
    const err = await failure(users.get(9999));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.detail).toBe('User not found');
  });

  it('updates only the given fields', async () => {
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const updated = await users.update(admin, alice.id, { quota: 123, is_admin: true });
    expect(updated).toEqual({ ...alice, quota: 123, is_admin: true });
    expect(await users.update(admin, alice.id, {})).toEqual(updated);
    const renamed = await users.update(admin, alice.id, { username: 'alice2' });
    expect(renamed.username).toBe('alice2');
    // Changing only the case of one's own name is not a clash with oneself.
    expect((await users.update(admin, alice.id, { username: 'Alice2' })).username).toBe('Alice2');
  });

  it('refuses renaming onto a taken name (409) and an unknown id (404)', async () => {
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const taken = await failure(users.update(admin, alice.id, { username: 'Root' }));
    expect(taken).toBeInstanceOf(ConflictError);
    expect(taken.detail).toBe('Username already exists');
    const missing = await failure(users.update(admin, 4242, { quota: 1 }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((await users.get(alice.id)).username).toBe('alice');
  });

  it('an admin cannot remove their own admin rights (409), but may keep them', async () => {
    const err = await failure(users.update(admin, admin.id, { is_admin: false }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.detail).toBe('You cannot remove your own admin rights');
    expect((await users.get(admin.id)).is_admin).toBe(true);
    expect((await users.update(admin, admin.id, { is_admin: true, quota: 9 })).quota).toBe(9);
  });

  it('a password reset by an admin ends all of that user’s sessions, and an admin resetting their own keeps the current one', async () => {
    const auth = new AuthService(u.ctx);
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const a1 = await auth.login('alice', PASSWORD, '10.0.0.1');
    const a2 = await auth.login('alice', PASSWORD, '10.0.0.2');
    await users.update(admin, alice.id, { password: 'reset-password-1' });
    expect(await auth.authenticate(a1.sessionId)).toBeNull();
    expect(await auth.authenticate(a2.sessionId)).toBeNull();
    await expect(auth.login('alice', 'reset-password-1', '10.0.0.1')).resolves.toBeTruthy();

    const r1 = await auth.login('root', PASSWORD, '10.0.0.1');
    const r2 = await auth.login('root', PASSWORD, '10.0.0.2');
    await users.update(admin, admin.id, { password: 'root-password-2' }, r1.sessionId);
    expect(await auth.authenticate(r1.sessionId)).not.toBeNull();
    expect(await auth.authenticate(r2.sessionId)).toBeNull();
  });

  it('deletes a user: downloads forgotten first, row and sessions gone, files kept unless asked', async () => {
    const auth = new AuthService(u.ctx);
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    const folder = path.join(u.ctx.config.downloadDir, String(alice.id));
    fs.mkdirSync(path.join(folder, '.incomplete'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'file.bin'), 'data');

    await users.delete(admin, alice.id, false);
    expect(tasks.calls).toEqual([{ userId: alice.id, rowExisted: true }]);
    expect((await failure(users.get(alice.id))).status).toBe(404);
    expect(
      await u.db.selectFrom('sessions').selectAll().where('id_hash', '=', hashSessionId(sessionId)).execute(),
    ).toEqual([]);
    expect(fs.existsSync(path.join(folder, 'file.bin'))).toBe(true);
  });

  it('with deleteFiles also removes the user folder, and only theirs', async () => {
    const alice = await users.create({ username: 'alice', password: PASSWORD });
    const bob = await users.create({ username: 'bob', password: PASSWORD });
    const aliceFolder = path.join(u.ctx.config.downloadDir, String(alice.id));
    const bobFolder = path.join(u.ctx.config.downloadDir, String(bob.id));
    for (const f of [aliceFolder, bobFolder]) {
      fs.mkdirSync(path.join(f, '.incomplete'), { recursive: true });
      fs.writeFileSync(path.join(f, 'file.bin'), 'data');
    }
    await users.delete(admin, alice.id, true);
    expect(fs.existsSync(aliceFolder)).toBe(false);
    expect(fs.existsSync(path.join(bobFolder, 'file.bin'))).toBe(true);
    // A user who never downloaded anything has no folder; that is not an error.
    const carol = await users.create({ username: 'carol', password: PASSWORD });
    await users.delete(admin, carol.id, true);
  });

  it('an admin cannot delete themself (409); an unknown id is 404; neither touches downloads', async () => {
    const self = await failure(users.delete(admin, admin.id, true));
    expect(self).toBeInstanceOf(ConflictError);
    expect(self.detail).toBe('You cannot delete your own account');
    const missing = await failure(users.delete(admin, 777, false));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.detail).toBe('User not found');
    expect(tasks.calls).toEqual([]);
    expect((await users.get(admin.id)).username).toBe('root');
  });
});

describe('UsersService.ensureFirstAdmin', () => {
  let u: UnitContext | null = null;
  afterEach(async () => {
    vi.restoreAllMocks();
    await u?.close();
    u = null;
  });

  function captureStdout(): string[] {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    return written;
  }

  it('creates the admin with a generated 20-character password, printed once and saved with mode 600', async () => {
    u = await unitContext({ ADMIN_USERNAME: 'boss' });
    const users = new UsersService(u.ctx, { forgetAllOf: async () => undefined });
    const written = captureStdout();
    await users.ensureFirstAdmin();

    const file = path.join(u.dir, ADMIN_PASSWORD_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const password = /password: (\S+)/.exec(fs.readFileSync(file, 'utf8'))?.[1];
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    const printed = written.join('');
    expect(printed).toContain(password!);
    expect(printed).toContain(file);

    const row = (await findUserByUsername(u.db, 'boss'))!;
    expect(row.is_admin).toBe(1);
    expect(await verifyPassword(row.password_hash, password!)).toBe(true);
    // The log never carries it.
    expect(u.logger.text).toContain('first admin');
    expect(u.logger.text).not.toContain(password!);

    // A second start changes nothing and prints nothing.
    written.length = 0;
    await users.ensureFirstAdmin();
    expect(written.join('')).toBe('');
    expect(await users.list()).toHaveLength(1);
    const again = (await findUserByUsername(u.db, 'boss'))!;
    expect(again.password_hash).toBe(row.password_hash);
    expect(fs.readFileSync(file, 'utf8')).toContain(password!);
  });

  it('uses ADMIN_PASSWORD when set, writing no file and printing no password', async () => {
    u = await unitContext({ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'given-password-1' });
    const users = new UsersService(u.ctx, { forgetAllOf: async () => undefined });
    const written = captureStdout();
    await users.ensureFirstAdmin();
    expect(fs.existsSync(path.join(u.dir, ADMIN_PASSWORD_FILE))).toBe(false);
    expect(written.join('')).not.toContain('given-password-1');
    const row = (await findUserByUsername(u.db, 'admin'))!;
    expect(await verifyPassword(row.password_hash, 'given-password-1')).toBe(true);
    expect(row.is_admin).toBe(1);
  });

  it('makes a leftover admin-password.txt private again', async () => {
    u = await unitContext();
    const file = path.join(u.dir, ADMIN_PASSWORD_FILE);
    fs.writeFileSync(file, 'old', { mode: 0o644 });
    captureStdout();
    await new UsersService(u.ctx, { forgetAllOf: async () => undefined }).ensureFirstAdmin();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('old');
  });

  it('creates nobody when any user exists, even if it is not the configured admin', async () => {
    u = await unitContext({ ADMIN_USERNAME: 'admin' });
    const users = new UsersService(u.ctx, { forgetAllOf: async () => undefined });
    await users.create({ username: 'someone', password: PASSWORD });
    const written = captureStdout();
    await users.ensureFirstAdmin();
    expect((await users.list()).map((x) => x.username)).toEqual(['someone']);
    expect(written.join('')).toBe('');
    expect(fs.existsSync(path.join(u.dir, ADMIN_PASSWORD_FILE))).toBe(false);
  });
});
