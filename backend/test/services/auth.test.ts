import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { ForbiddenError, NotAuthenticatedError, TooManyRequestsError } from '../../src/domain/errors.js';
import { hashSessionId } from '../../src/domain/passwords.js';
import { AuthService, addressKey, FailureWindow, TOO_MANY_ATTEMPTS } from '../../src/services/auth.js';
import { UsersService } from '../../src/services/users.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

const PASSWORD = 'alice-password-1';
const noTasks = { forgetAllOf: async () => undefined };

/** Rejection of a promise, for asserting on the error's class and fields. */
describe('addressKey', () => {
  it('keeps IPv4 as it is and unwraps IPv4-mapped IPv6', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts IPv6 by its /64, however it is written', () => {
    const key = addressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe(key);
    expect(addressKey('2001:db8:1:2:0:0:0:99%eth0')).toBe(key);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1.2.3.4')).toBe('fe80:0:0:0::/64');
  });
});

describe('FailureWindow', () => {
  let u: UnitContext;
  beforeEach(async () => {
    u = await unitContext();
  });
  afterEach(async () => {
    await u.close();
  });
  const counted = async (w: FailureWindow, key: string) => {
    const hit = await w.attempt(key);
    if (hit.id === null) throw new Error(`the attempt for ${key} was refused`);
    return hit.id;
  };

  it('allows up to the limit, then answers the seconds until the oldest failure leaves the window', async () => {
    let now = 1_000_000;
    const w = new FailureWindow(u.db, 't', 3, 60_000, 100, () => now);
    await counted(w, 'k');
    now += 10_000;
    await counted(w, 'k');
    expect(await w.retryAfter('k')).toBe(0);
    await counted(w, 'k');
    expect(await w.retryAfter('k')).toBe(50);
    expect(await w.attempt('k')).toEqual({ id: null, wait: 50 });
    now += 49_500;
    expect(await w.retryAfter('k')).toBe(1);
    now += 500;
    expect(await w.retryAfter('k')).toBe(0);
    expect(await w.retryAfter('other')).toBe(0);
  });

  it('takes back one failure with remove and all with clear', async () => {
    const now = 5_000;
    const w = new FailureWindow(u.db, 't', 2, 60_000, 100, () => now);
    const at = await counted(w, 'k');
    await counted(w, 'k');
    expect(await w.retryAfter('k')).toBeGreaterThan(0);
    await w.remove('k', at);
    expect(await w.retryAfter('k')).toBe(0);
    await counted(w, 'k');
    await w.clear('k');
    expect(await w.retryAfter('k')).toBe(0);
    expect(await w.size()).toBe(0);
  });

  it('stays bounded: beyond maxKeys the least recently failed keys are forgotten, old failures dropped', async () => {
    let now = 0;
    const w = new FailureWindow(u.db, 't', 1, 60_000, 100, () => now);
    await counted(w, 'first');
    for (let i = 0; i < 300; i++) await counted(w, `k${i}`);
    expect(await w.size()).toBeLessThanOrEqual(100);
    expect(await w.retryAfter('first')).toBe(0);
    expect(await w.retryAfter('k299')).toBeGreaterThan(0);
    const rows = () => u.db.selectFrom('login_failures').select('id').execute();
    expect((await rows()).length).toBeLessThanOrEqual(100);
    now += 60_001;
    await counted(w, 'late');
    expect(await rows()).toHaveLength(1);
  });

  it('counts parallel attempts exactly: never more than the limit get through', async () => {
    const w = new FailureWindow(u.db, 't', 5, 60_000, 100, () => 1_000);
    const hits = await Promise.all(Array.from({ length: 20 }, () => w.attempt('k')));
    expect(hits.filter((h) => h.id !== null)).toHaveLength(5);
  });

  it('is shared by every instance on the database, each counter apart', async () => {
    const second = await openDatabase(u.ctx.config.database);
    try {
      const a = new FailureWindow(u.db, 'sign-in', 2, 60_000, 100, () => 1_000);
      const b = new FailureWindow(second, 'sign-in', 2, 60_000, 100, () => 1_000);
      const otherScope = new FailureWindow(second, 'share', 2, 60_000, 100, () => 1_000);
      await counted(a, 'k');
      await counted(b, 'k');
      expect(await a.retryAfter('k')).toBe(60);
      expect((await b.attempt('k')).id).toBeNull();
      expect(await otherScope.retryAfter('k')).toBe(0);
    } finally {
      await second.destroy();
    }
  });
});

describe('AuthService', () => {
  let u: UnitContext;
  let now: number;
  let auth: AuthService;
  let users: UsersService;

  beforeEach(async () => {
    u = await unitContext({ SESSION_TTL_DAYS: '1' });
    now = Date.parse('2026-01-23T10:00:00Z');
    auth = new AuthService(u.ctx, { now: () => now });
    users = new UsersService(u.ctx, noTasks);
    await users.create({ username: 'alice', password: PASSWORD });
  });
  afterEach(async () => {
    await u.close();
  });

  it('signs in, stores only the hash of the session id, and resolves the cookie to the user', async () => {
    const { user, sessionId, expiresAt } = await auth.login('alice', PASSWORD, '10.0.0.1');
    expect(user).toMatchObject({ username: 'alice', is_admin: false });
    expect(Object.keys(user).sort()).toEqual([
      'created_at',
      'id',
      'is_admin',
      'must_change_password',
      'node',
      'quota',
      'used_space',
      'username',
    ]);
    expect(expiresAt.getTime()).toBe(now + 24 * 3600 * 1000);
    const rows = await u.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id_hash).toBe(hashSessionId(sessionId));
    expect(JSON.stringify(rows)).not.toContain(sessionId);
    expect(await auth.authenticate(sessionId)).toEqual({
      id: user.id,
      username: 'alice',
      is_admin: false,
      quota: user.quota,
    });
  });

  it('accepts the username in any case, since names are case-insensitive', async () => {
    const { user } = await auth.login('ALICE', PASSWORD, '10.0.0.1');
    expect(user.username).toBe('alice');
  });

  it('answers a wrong password and an unknown user with the same 401 sentence', async () => {
    const wrong = await failure(auth.login('alice', 'not-the-password', '10.0.0.1'));
    const unknown = await failure(auth.login('nobody', PASSWORD, '10.0.0.1'));
    for (const err of [wrong, unknown]) {
      expect(err).toBeInstanceOf(NotAuthenticatedError);
      expect((err as NotAuthenticatedError).detail).toBe('Invalid username or password');
    }
    expect(await u.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('rejects unknown, malformed and expired session ids; an expired session is deleted', async () => {
    expect(await auth.authenticate('x'.repeat(43))).toBeNull();
    expect(await auth.authenticate('short')).toBeNull();
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    now += 24 * 3600 * 1000;
    expect(await auth.authenticate(sessionId)).toBeNull();
    expect(await u.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('slides the expiry forward on use', async () => {
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    // Used every 20 hours for three days: each use pushes the 24-hour expiry forward.
    for (let i = 0; i < 4; i++) {
      now += 20 * 3600 * 1000;
      expect(await auth.authenticate(sessionId)).not.toBeNull();
    }
    const row = await u.db.selectFrom('sessions').selectAll().executeTakeFirstOrThrow();
    expect(row.expires_at).toBe(now + 24 * 3600 * 1000);
  });

  it('logout ends the session', async () => {
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    await auth.logout(sessionId);
    expect(await auth.authenticate(sessionId)).toBeNull();
  });

  it('a deleted user takes their sessions along', async () => {
    const admin = await users.create({ username: 'root', password: PASSWORD, is_admin: true });
    const { user, sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    await users.delete({ ...admin, quota: 0 }, user.id, false);
    expect(await auth.authenticate(sessionId)).toBeNull();
    expect(await u.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
  });

  it('locks a username after 10 failures in 15 minutes, even for the right password, until the window passes', async () => {
    for (let i = 0; i < 10; i++) {
      // Each from another address, so only the per-username counter can be what stops it.
      expect(await failure(auth.login('alice', `wrong-${i}`, `10.0.1.${i}`))).toBeInstanceOf(
        NotAuthenticatedError,
      );
      now += 1000;
    }
    const blocked = await failure(auth.login('Alice', PASSWORD, '10.0.2.1'));
    expect(blocked).toBeInstanceOf(TooManyRequestsError);
    expect((blocked as TooManyRequestsError).detail).toBe(TOO_MANY_ATTEMPTS);
    // The first failure was 10 s before the last one; the window is 15 minutes from it.
    expect((blocked as TooManyRequestsError).retryAfterSeconds).toBe(15 * 60 - 10);
    // Other accounts are unaffected.
    await users.create({ username: 'bob', password: PASSWORD });
    await expect(auth.login('bob', PASSWORD, '10.0.2.1')).resolves.toMatchObject({
      user: { username: 'bob' },
    });

    now += 15 * 60 * 1000;
    await expect(auth.login('alice', PASSWORD, '10.0.2.1')).resolves.toMatchObject({
      user: { username: 'alice' },
    });
  });

  it('counts unknown usernames too, so guessing names is limited the same way', async () => {
    for (let i = 0; i < 10; i++) await failure(auth.login('ghost', PASSWORD, `10.0.1.${i}`));
    expect(await failure(auth.login('ghost', PASSWORD, '10.0.2.1'))).toBeInstanceOf(TooManyRequestsError);
  });

  it('limits failures per address across usernames', async () => {
    const limited = new AuthService(u.ctx, { now: () => now, limits: { perAddress: 5 } });
    for (let i = 0; i < 5; i++) await failure(limited.login(`user${i}`, 'wrong-password', '192.0.2.7'));
    const blocked = await failure(limited.login('alice', PASSWORD, '192.0.2.7'));
    expect(blocked).toBeInstanceOf(TooManyRequestsError);
    expect((blocked as TooManyRequestsError).retryAfterSeconds).toBeGreaterThan(0);
    // Another address still signs in.
    await expect(limited.login('alice', PASSWORD, '192.0.2.8')).resolves.toBeTruthy();
  });

  it('counts the addresses of one IPv6 /64 together', async () => {
    const limited = new AuthService(u.ctx, { now: () => now, limits: { perAddress: 3 } });
    for (let i = 1; i <= 3; i++)
      await failure(limited.login(`user${i}`, 'wrong-password', `2001:db8:5:6::${i}`));
    expect(await failure(limited.login('alice', PASSWORD, '2001:db8:5:6:abcd::1'))).toBeInstanceOf(
      TooManyRequestsError,
    );
    await expect(limited.login('alice', PASSWORD, '2001:db8:5:7::1')).resolves.toBeTruthy();
  });

  it('counts failures across instances: guesses spread over two on one database share one limit', async () => {
    const second = await openDatabase(u.ctx.config.database);
    try {
      const other = new AuthService({ ...u.ctx, db: second }, { now: () => now });
      for (let i = 0; i < 10; i++) {
        const instance = i % 2 === 0 ? auth : other;
        expect(await failure(instance.login('alice', `wrong-${i}`, `10.0.4.${i}`))).toBeInstanceOf(
          NotAuthenticatedError,
        );
      }
      expect(await failure(other.login('alice', PASSWORD, '10.0.5.1'))).toBeInstanceOf(TooManyRequestsError);
      expect(await failure(auth.login('alice', PASSWORD, '10.0.5.1'))).toBeInstanceOf(TooManyRequestsError);
    } finally {
      await second.destroy();
    }
  });

  it('does not let parallel guesses slip past the limit', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) => auth.login('alice', `guess-${i}`, `10.0.3.${i}`)),
    );
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : null));
    expect(reasons.filter((e) => e instanceof NotAuthenticatedError)).toHaveLength(10);
    expect(reasons.filter((e) => e instanceof TooManyRequestsError)).toHaveLength(15);
  });

  it('a successful sign-in clears the username counter', async () => {
    for (let i = 0; i < 9; i++) await failure(auth.login('alice', 'wrong-password', '10.0.0.1'));
    await auth.login('alice', PASSWORD, '10.0.0.1');
    for (let i = 0; i < 9; i++) {
      expect(await failure(auth.login('alice', 'wrong-password', '10.0.0.2'))).toBeInstanceOf(
        NotAuthenticatedError,
      );
    }
  });

  it('changes the password, keeps the current session and ends the others', async () => {
    const first = await auth.login('alice', PASSWORD, '10.0.0.1');
    const second = await auth.login('alice', PASSWORD, '10.0.0.2');
    const actor = (await auth.authenticate(first.sessionId))!;
    await auth.changePassword(actor, PASSWORD, 'new-password-2', first.sessionId);
    expect(await auth.authenticate(first.sessionId)).not.toBeNull();
    expect(await auth.authenticate(second.sessionId)).toBeNull();
    expect(await failure(auth.login('alice', PASSWORD, '10.0.0.3'))).toBeInstanceOf(NotAuthenticatedError);
    await expect(auth.login('alice', 'new-password-2', '10.0.0.3')).resolves.toBeTruthy();
  });

  it('refuses a wrong current password with 403 and counts it towards the lock', async () => {
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    const actor = (await auth.authenticate(sessionId))!;
    const err = await failure(auth.changePassword(actor, 'wrong-password', 'new-password-2', sessionId));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).detail).toBe('Current password is incorrect');
    for (let i = 0; i < 9; i++)
      await failure(auth.changePassword(actor, 'wrong-password', 'new-password-2', sessionId));
    expect(await failure(auth.changePassword(actor, PASSWORD, 'new-password-2', sessionId))).toBeInstanceOf(
      TooManyRequestsError,
    );
    // Nothing changed: the old password is still the password once the window has passed.
    now += 15 * 60 * 1000;
    await expect(auth.login('alice', PASSWORD, '10.0.0.1')).resolves.toBeTruthy();
  });

  it('never logs a password or a session id', async () => {
    const { sessionId } = await auth.login('alice', PASSWORD, '10.0.0.1');
    await failure(auth.login('alice', 'typed-wrong-password', '10.0.0.1'));
    await failure(auth.login('my-password-in-the-name-field', 'x', '10.0.0.1'));
    const actor = (await auth.authenticate(sessionId))!;
    await auth.changePassword(actor, PASSWORD, 'brand-new-password', sessionId);
    const logged = u.logger.text;
    expect(logged).toContain('failed sign-in');
    for (const secret of [
      PASSWORD,
      'typed-wrong-password',
      'brand-new-password',
      sessionId,
      'my-password-in-the-name-field',
    ]) {
      expect(logged).not.toContain(secret);
    }
    expect(logged).not.toContain('$argon2');
  });
});
