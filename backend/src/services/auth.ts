import { isIPv6 } from 'node:net';
import type { User } from '../contracts/users.js';
import { lockUntilCommit } from '../db/dialect.js';
import type { Db } from '../db/index.js';
import { ForbiddenError, NotAuthenticatedError, TooManyRequestsError } from '../domain/errors.js';
import {
  generatePassword,
  hashPassword,
  hashSessionId,
  newSessionId,
  SESSION_ID_PATTERN,
  verifyPassword,
} from '../domain/passwords.js';
import { nowIso } from '../domain/time.js';
import * as failures from '../repositories/login-failures.js';
import {
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  findSessionWithUser,
  insertSession,
  touchSession,
} from '../repositories/sessions.js';
import { usedSpace } from '../repositories/space.js';
import { findUserById, findUserByUsername, updateUser } from '../repositories/users.js';
import type { Actor, ServiceContext } from './context.js';
import { removeReplacedAdminPassword, toUser } from './users.js';

export interface LoginLimits {
  /** Failed attempts allowed per username within the window (at most 10 per 15 minutes, as SECURITY.md says). */
  perUsername: number;
  /** Failed attempts allowed per client address within the window; higher, as addresses can be shared (NAT). */
  perAddress: number;
  windowMs: number;
  /** Most keys each counter remembers; the least recently failed are forgotten first. */
  maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: Readonly<LoginLimits> = Object.freeze({
  perUsername: 10,
  perAddress: 50,
  windowMs: 15 * 60 * 1000,
  maxKeys: 10_000,
});

export interface AuthServiceOptions {
  limits?: Partial<LoginLimits>;
  /** Clock in epoch milliseconds; tests move it. */
  now?: () => number;
}

export const TOO_MANY_ATTEMPTS = 'Too many failed sign-in attempts; try again later';
const INVALID_CREDENTIALS = 'Invalid username or password';
/** A session's expiry is written back only when it moves by at least this much, not on every request. */
const SLIDE_STEP_MS = 60 * 1000;

/**
 * The key failures of an address are counted under: IPv4 as it is; IPv6 by its /64 prefix, as one
 * host or home usually holds a whole /64 and could otherwise rotate through it.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const bare = ip.split('%')[0]!;
  if (!isIPv6(bare)) return ip;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  // An embedded IPv4 tail (a.b.c.d) fills two groups.
  const width = (list: string[]) => list.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const left = groups(head);
  const right = groups(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - width(left) - width(right)).fill('0');
  const prefix = [...left, ...zeros, ...right].slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** One attempt under a failure window: counted (`id`, to take back on success) or refused (`wait` seconds). */
export type Attempt = { id: number; wait: 0 } | { id: null; wait: number };

/**
 * Failures per key in a sliding window, kept in the database so every controller instance counts the
 * same attempts, and bounded: each key keeps at most `limit` failures, a scope at most `maxKeys` keys
 * (the least recently failed are forgotten first), and failures that left the window are dropped.
 */
export class FailureWindow {
  constructor(
    private readonly db: Db,
    /** Which counter this is (several share the table). */
    private readonly scope: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number,
  ) {}

  /** How many keys have failures in the window. */
  async size(): Promise<number> {
    await failures.deleteFailuresBefore(this.db, this.scope, this.now() - this.windowMs);
    return failures.countFailureKeys(this.db, this.scope);
  }

  /** Seconds until the key may try again; 0 when it may now. */
  async retryAfter(key: string): Promise<number> {
    return this.waitFor(await failures.recentFailures(this.db, this.scope, key, this.since(), this.limit));
  }

  /**
   * Counts an attempt as a failure unless the key is at its limit; the count and the write are one
   * step under a lock of the key, so parallel attempts (on any instance) cannot all slip under.
   */
  async attempt(key: string): Promise<Attempt> {
    const at = this.now();
    const since = at - this.windowMs;
    const result = await this.db.transaction().execute(async (trx) => {
      // One attempt of a key at a time (on any instance): each counts the ones before it exactly.
      await lockUntilCommit(trx, `failures:${this.scope}:${key}`);
      const before = await failures.recentFailures(trx, this.scope, key, since, this.limit);
      const wait = this.waitFor(before);
      if (wait > 0) return { id: null, wait } as const;
      const id = await failures.insertFailure(trx, this.scope, key, at);
      await failures.trimKeyFailures(trx, this.scope, key, this.limit);
      return { id, wait: 0 } as const;
    });
    if (result.id === null) return result;
    await failures.deleteFailuresBefore(this.db, this.scope, since);
    const keys = await failures.countFailureKeys(this.db, this.scope);
    if (keys > this.maxKeys) {
      await failures.deleteOldestKeys(this.db, this.scope, keys - Math.floor(this.maxKeys * 0.9));
    }
    return result;
  }

  /** Takes back one counted attempt (the caller proved it was no guess). */
  async remove(key: string, id: number): Promise<void> {
    await failures.deleteFailure(this.db, this.scope, key, id);
  }

  async clear(key: string): Promise<void> {
    await failures.deleteKeyFailures(this.db, this.scope, key);
  }

  private since(): number {
    return this.now() - this.windowMs;
  }

  /** The wait given the newest failures (at most `limit`, newest first). */
  private waitFor(recent: readonly number[]): number {
    if (recent.length < this.limit) return 0;
    const oldest = recent[recent.length - 1]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }
}

/**
 * Sign-in, sessions and password changes. The cookie carries a random 256-bit id; the database keeps
 * only its SHA-256. Failed sign-ins are counted per username and per client address.
 */
export class AuthService {
  private readonly now: () => number;
  private readonly byUsername: FailureWindow;
  private readonly byAddress: FailureWindow;
  /** Verified against for unknown usernames, so they cost the same time as a wrong password. */
  private readonly dummyHash: Promise<string>;

  constructor(
    private readonly ctx: ServiceContext,
    options: AuthServiceOptions = {},
  ) {
    const limits = { ...DEFAULT_LOGIN_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    const window = (scope: string, limit: number) =>
      new FailureWindow(ctx.db, scope, limit, limits.windowMs, limits.maxKeys, this.now);
    this.byUsername = window('sign-in:username', limits.perUsername);
    this.byAddress = window('sign-in:address', limits.perAddress);
    this.dummyHash = hashPassword(generatePassword(20));
    this.dummyHash.catch(() => undefined);
  }

  /** The user of a live session, sliding its expiry; null for an unknown, malformed or expired id. */
  async authenticate(sessionId: string): Promise<Actor | null> {
    if (!SESSION_ID_PATTERN.test(sessionId)) return null;
    const { db, config } = this.ctx;
    const idHash = hashSessionId(sessionId);
    const found = await findSessionWithUser(db, idHash);
    if (!found) return null;
    const now = this.now();
    if (found.expires_at <= now) {
      await deleteSession(db, idHash);
      this.ctx.events.emit('sessions_ended', { idHash });
      return null;
    }
    const next = now + config.sessionTtlMs;
    if (next - found.expires_at >= SLIDE_STEP_MS) await touchSession(db, idHash, next);
    const { id, username, is_admin, quota } = found.user;
    return { id, username, is_admin: is_admin === 1, quota };
  }

  /** When the session with this id hash expires (epoch ms), or null when it is gone; no sliding. */
  async sessionExpiresAt(idHash: string): Promise<number | null> {
    return (await findSessionWithUser(this.ctx.db, idHash))?.expires_at ?? null;
  }

  async login(
    username: string,
    password: string,
    ip: string,
  ): Promise<{ user: User; sessionId: string; expiresAt: Date }> {
    const { db, config, logger } = this.ctx;
    // Usernames are case-insensitive, so are their counters.
    const userKey = username.toLowerCase();
    const address = addressKey(ip);
    // Counted before the slow hash check, so parallel guesses cannot all slip under the limit; a
    // refused attempt is not counted.
    const userHit = await this.byUsername.attempt(userKey);
    if (userHit.id === null) throw new TooManyRequestsError(TOO_MANY_ATTEMPTS, userHit.wait);
    const addressHit = await this.byAddress.attempt(address);
    if (addressHit.id === null) {
      await this.byUsername.remove(userKey, userHit.id);
      throw new TooManyRequestsError(TOO_MANY_ATTEMPTS, addressHit.wait);
    }

    const row = await findUserByUsername(db, username);
    const ok = row
      ? await verifyPassword(row.password_hash, password)
      : await verifyPassword(await this.dummyHash, password).then(() => false);
    if (!row || !ok) {
      // The username is logged only when it names an account: an unknown one may be a mistyped password.
      logger.warn({ ip, ...(row ? { username: row.username } : {}) }, 'failed sign-in');
      throw new NotAuthenticatedError(INVALID_CREDENTIALS);
    }
    // The account's owner proved the password: earlier failures for the name no longer count. The
    // address keeps its earlier failures (a guesser could otherwise reset them with an account of their own).
    await this.byUsername.clear(userKey);
    await this.byAddress.remove(address, addressHit.id);

    const now = this.now();
    const sessionId = newSessionId();
    const expiresAt = now + config.sessionTtlMs;
    await deleteExpiredSessions(db, now);
    await insertSession(db, {
      idHash: hashSessionId(sessionId),
      userId: row.id,
      createdAt: nowIso(),
      expiresAt,
    });
    logger.info({ userId: row.id, ip }, 'signed in');
    const used = (await usedSpace(db, row.id))?.used ?? 0;
    return { user: toUser(row, used), sessionId, expiresAt: new Date(expiresAt) };
  }

  async logout(sessionId: string): Promise<void> {
    const idHash = hashSessionId(sessionId);
    await deleteSession(this.ctx.db, idHash);
    this.ctx.events.emit('sessions_ended', { idHash });
  }

  /**
   * Checks the current password (counted like a failed sign-in, so a stolen session cannot guess it
   * freely), stores the new one and ends every other session of the user.
   */
  async changePassword(actor: Actor, current: string, next: string, keepSessionId: string): Promise<void> {
    const { db, logger } = this.ctx;
    const userKey = actor.username.toLowerCase();
    const hit = await this.byUsername.attempt(userKey);
    if (hit.id === null) throw new TooManyRequestsError(TOO_MANY_ATTEMPTS, hit.wait);
    const row = await findUserById(db, actor.id);
    if (!row) throw new NotAuthenticatedError();
    if (!(await verifyPassword(row.password_hash, current))) {
      logger.warn({ userId: actor.id }, 'failed password change: wrong current password');
      throw new ForbiddenError('Current password is incorrect');
    }
    await this.byUsername.remove(userKey, hit.id);
    const passwordHash = await hashPassword(next);
    const keep = hashSessionId(keepSessionId);
    const ended = await db.transaction().execute(async (trx) => {
      // The user chose this one: nothing more to ask at sign-in.
      await updateUser(trx, actor.id, { password_hash: passwordHash, must_change_password: 0 });
      return deleteUserSessions(trx, actor.id, keep);
    });
    this.ctx.events.emit('sessions_ended', { userId: actor.id, exceptIdHash: keep });
    logger.info({ userId: actor.id, endedSessions: ended }, 'password changed');
    await removeReplacedAdminPassword(this.ctx, row.password_hash);
  }
}
