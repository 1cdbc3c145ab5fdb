import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, CreatedApiToken } from '../contracts/tokens.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { isoAt, nowIso } from '../domain/time.js';
import {
  countTokens,
  deleteToken,
  findByHash,
  insertToken,
  listTokens,
  type TokenRow,
  touch,
} from '../repositories/tokens.js';
import { lockUser } from '../repositories/users.js';
import type { Actor, ServiceContext } from './context.js';

/** Tokens one user may hold: enough for every client and script, not a table anyone can fill. */
export const MAX_TOKENS_PER_USER = 100;
/** A token's secret: a recognisable prefix (so leaked ones can be found in logs and code) and 256 random bits. */
export const TOKEN_PREFIX = 'a2c_';
export const TOKEN_PATTERN = /^a2c_[A-Za-z0-9_-]{43}$/;
/** `last_used_at` moves at most this often, so a client polling every second costs no write per call. */
const TOUCH_STEP_MS = 60 * 1000;

export const tokenNotFound = () => new NotFoundError('Token not found');
export const tooManyTokens = () =>
  new ConflictError(`You have too many API tokens (limit ${MAX_TOKENS_PER_USER}); revoke one first`);

/**
 * The secret is high-entropy, so a plain SHA-256 is enough (no slow hash), and a lookup by the hash
 * compares no secret byte by byte: timing tells nothing of a stored token.
 */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface TokenAuthentication {
  actor: Actor;
  tokenId: number;
}

export interface TokensServiceOptions {
  /** Clock in epoch milliseconds; tests move it. */
  now?: () => number;
}

const toApiToken = (row: TokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
});

/**
 * API tokens: what scripts and aria2 clients authenticate with instead of a session. The secret is
 * shown once, at creation; the database keeps only its SHA-256. Revoking one ends its use at once:
 * its next request is refused and the sockets opened with it close.
 */
export class TokensService {
  private readonly now: () => number;

  constructor(
    private readonly ctx: ServiceContext,
    options: TokensServiceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async create(actor: Actor, name: string): Promise<CreatedApiToken> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    // Counted and inserted in one transaction, so parallel creates cannot pass the cap.
    const row = await this.ctx.db.transaction().execute(async (trx) => {
      await lockUser(trx, actor.id);
      if ((await countTokens(trx, actor.id)) >= MAX_TOKENS_PER_USER) throw tooManyTokens();
      return insertToken(trx, {
        user_id: actor.id,
        name,
        token_hash: hashToken(token),
        created_at: nowIso(),
      });
    });
    this.ctx.logger.info({ userId: actor.id, tokenId: row.id }, 'API token created');
    return { id: row.id, name: row.name, token, created_at: row.created_at };
  }

  async list(actor: Actor): Promise<ApiToken[]> {
    return (await listTokens(this.ctx.db, actor.id)).map(toApiToken);
  }

  /** Deletes one of the caller's tokens (another user's id is not found) and closes its sockets. */
  async revoke(actor: Actor, id: number): Promise<void> {
    if (!(await deleteToken(this.ctx.db, actor.id, id))) throw tokenNotFound();
    this.ctx.events.emit('token_revoked', { userId: actor.id, tokenId: id });
    this.ctx.logger.info({ userId: actor.id, tokenId: id }, 'API token revoked');
  }

  /** The owner of a live token, or null for an unknown, malformed or revoked one (or a deleted user's). */
  async authenticate(secret: string): Promise<TokenAuthentication | null> {
    if (!TOKEN_PATTERN.test(secret)) return null;
    const { db } = this.ctx;
    const found = await findByHash(db, hashToken(secret));
    if (!found) return null;
    const now = this.now();
    const last = found.last_used_at === null ? null : Date.parse(found.last_used_at);
    if (last === null || now - last >= TOUCH_STEP_MS) {
      await touch(db, found.id, isoAt(now));
    }
    const { id, username, is_admin, quota } = found.user;
    return { actor: { id, username, is_admin: is_admin === 1, quota }, tokenId: found.id };
  }
}
