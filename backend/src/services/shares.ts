import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CreateShareBody, Share } from '../contracts/shares.js';
import type { Db } from '../db/index.js';
import {
  ForbiddenError,
  GoneError,
  InvalidInputError,
  NotFoundError,
  TooManyRequestsError,
} from '../domain/errors.js';
import { hashPassword, verifyPassword } from '../domain/passwords.js';
import { nowIso } from '../domain/time.js';
import { sharedSecret } from '../repositories/secrets.js';
import {
  countDownload,
  findShareByTokenHash,
  insertShare,
  listShares,
  revokeShare,
  type ShareRow,
} from '../repositories/shares.js';
import { addressKey, DEFAULT_LOGIN_LIMITS, FailureWindow } from './auth.js';
import type { Actor, ServiceContext } from './context.js';
import type { Download, FilesService } from './files.js';
import type { Storage } from './storage.js';

export const LINK_EXPIRED = 'This link has expired';
export const WRONG_PASSWORD = 'Wrong password';
export const TOO_MANY_GUESSES = 'Too many wrong passwords; try again later';
const linkNotFound = () => new NotFoundError('Link not found');

/** How long a right password opens its link in that browser. */
export const SHARE_ACCESS_MS = 60 * 60 * 1000;
/** A token is 256 bits, base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const SHARE_SECRET_FILE = 'share-secret';

const b64 = (buf: Buffer) => buf.toString('base64url');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface ShareOptions {
  /** Clock in epoch milliseconds; tests move it. */
  now?: () => number;
  /** The secret, when it is not this instance's file (several instances: `databaseShareSecret`). */
  secret?: Buffer;
}

/**
 * Links to one of a user's files or folders that work without an account. A link's token is an HMAC
 * (under a secret kept in DATA_DIR, mode 600) of a random nonce; the database keeps the nonce and the
 * token's SHA-256, so the owner's list can show the link while a copy of the SQLite database alone
 * opens nothing. On PostgreSQL the instances share the secret through the database, so there a
 * database dump holds what opens the links (docs/scale-out.md, "Backups"). Wrong passwords are counted per link and per address, like failed sign-ins.
 */
export class SharesService {
  private readonly secret: Buffer;
  private readonly now: () => number;
  private readonly byShare: FailureWindow;
  private readonly byAddress: FailureWindow;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly storage: Storage,
    private readonly files: FilesService,
    options: ShareOptions = {},
  ) {
    this.secret = options.secret ?? loadSecret(path.join(ctx.config.dataDir, SHARE_SECRET_FILE));
    this.now = options.now ?? Date.now;
    const l = DEFAULT_LOGIN_LIMITS;
    this.byShare = new FailureWindow(ctx.db, 'share:link', l.perUsername, l.windowMs, l.maxKeys, this.now);
    this.byAddress = new FailureWindow(
      ctx.db,
      'share:address',
      l.perAddress,
      l.windowMs,
      l.maxKeys,
      this.now,
    );
  }

  private token(nonce: string): string {
    return b64(createHmac('sha256', this.secret).update(`share-token:${nonce}`).digest());
  }

  toShare(row: ShareRow): Share {
    return {
      id: row.id,
      path: row.path,
      url: `/s/${this.token(row.nonce)}`,
      expires_at: row.expires_at,
      has_password: row.password_hash !== null,
      max_downloads: row.max_downloads,
      downloads: row.downloads,
      created_at: row.created_at,
    };
  }

  // ---- the owner's side ---------------------------------------------------------------------

  async create(actor: Actor, body: CreateShareBody): Promise<Share> {
    const real = await this.storage.resolveUserPath(actor.id, body.path);
    const rel = await this.storage.toUserPath(actor.id, real);
    if (rel === '') throw new InvalidInputError('Invalid path: choose a file or folder inside your folder');
    let expires: string | null = null;
    if (body.expires_at) {
      const at = Date.parse(body.expires_at);
      if (at <= this.now()) throw new InvalidInputError('Invalid expires_at: it is in the past');
      expires = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const nonce = b64(randomBytes(16));
    const row = await insertShare(this.ctx.db, {
      owner_id: actor.id,
      path: rel,
      nonce,
      token_hash: sha256(this.token(nonce)),
      password_hash: body.password ? await hashPassword(body.password) : null,
      expires_at: expires,
      max_downloads: body.max_downloads ?? null,
      created_at: nowIso(),
    });
    return this.toShare(row);
  }

  async list(actor: Actor): Promise<Share[]> {
    return (await listShares(this.ctx.db, actor.id)).map((r) => this.toShare(r));
  }

  async revoke(actor: Actor, id: number): Promise<void> {
    if (!(await revokeShare(this.ctx.db, actor.id, id, nowIso()))) throw new NotFoundError('Share not found');
  }

  // ---- the public side ----------------------------------------------------------------------

  /** A live link: 404 for an unknown token, 410 for a revoked, expired or used-up one. */
  async find(token: string): Promise<ShareRow> {
    if (!TOKEN_PATTERN.test(token)) throw linkNotFound();
    const row = await findShareByTokenHash(this.ctx.db, sha256(token));
    if (!row) throw linkNotFound();
    const expired = row.expires_at !== null && Date.parse(row.expires_at) <= this.now();
    const exhausted = row.max_downloads !== null && row.downloads >= row.max_downloads;
    if (row.revoked_at !== null || expired || exhausted) throw new GoneError(LINK_EXPIRED);
    return row;
  }

  /** The value of the access cookie a right password earns: its expiry and an HMAC binding it to the link. */
  private accessValue(row: ShareRow, until: number): string {
    const mac = createHmac('sha256', this.secret)
      .update(`share-access:${row.id}:${row.password_hash}:${until}`)
      .digest();
    return `${until}.${b64(mac)}`;
  }

  /** True when the link needs no password, or the cookie is a live grant for it. */
  hasAccess(row: ShareRow, cookie: string | undefined): boolean {
    if (row.password_hash === null) return true;
    const m = /^(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? '');
    if (!m) return false;
    const until = Number(m[1]);
    if (until <= this.now()) return false;
    const want = Buffer.from(this.accessValue(row, until));
    const got = Buffer.from(cookie!);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /** Checks a password (rate-limited like sign-in); returns the access cookie value and its lifetime. */
  async unlock(row: ShareRow, password: string, ip: string): Promise<{ value: string; maxAgeMs: number }> {
    if (row.password_hash === null) {
      return { value: this.accessValue(row, this.now() + SHARE_ACCESS_MS), maxAgeMs: SHARE_ACCESS_MS };
    }
    const shareKey = String(row.id);
    const address = addressKey(ip);
    // Counted before the slow hash check, so parallel guesses cannot all slip under the limit.
    const shareHit = await this.byShare.attempt(shareKey);
    if (shareHit.id === null) throw new TooManyRequestsError(TOO_MANY_GUESSES, shareHit.wait);
    const addressHit = await this.byAddress.attempt(address);
    if (addressHit.id === null) {
      await this.byShare.remove(shareKey, shareHit.id);
      throw new TooManyRequestsError(TOO_MANY_GUESSES, addressHit.wait);
    }
    if (!(await verifyPassword(row.password_hash, password))) {
      this.ctx.logger.warn({ ip, share: row.id }, 'wrong share password');
      throw new ForbiddenError(WRONG_PASSWORD);
    }
    await this.byShare.clear(shareKey);
    await this.byAddress.remove(address, addressHit.id);
    return { value: this.accessValue(row, this.now() + SHARE_ACCESS_MS), maxAgeMs: SHARE_ACCESS_MS };
  }

  /**
   * Opens what a link points at. `count` (a GET of the whole file, or of its first bytes) uses up one
   * download; a link used up meanwhile is 410. A file gone is 404.
   */
  async open(row: ShareRow, count: boolean): Promise<Download> {
    const real = await this.storage.resolveUserPath(row.owner_id, row.path).catch(() => {
      throw new NotFoundError('File not found');
    });
    const download = await this.files.openReal(row.owner_id, real);
    if (count && !(await countDownload(this.ctx.db, row.id))) {
      if (download.kind === 'file') await download.file.handle.close().catch(() => undefined);
      else download.stream.destroy();
      throw new GoneError(LINK_EXPIRED);
    }
    return download;
  }
}

/** The secret in the file, when there is a well-formed one. */
function readSecret(file: string): Buffer | null {
  try {
    const hex = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  } catch {
    // first start
  }
  return null;
}

/**
 * The share secret of several instances on one database (PostgreSQL): created once, in the database,
 * so every instance shows the same link for a share. An installation moved from SQLite offers the
 * secret of its `DATA_DIR/share-secret`, so the links it gave out keep their tokens.
 */
export async function databaseShareSecret(db: Db, dataDir: string): Promise<Buffer> {
  const offered = readSecret(path.join(dataDir, SHARE_SECRET_FILE)) ?? randomBytes(32);
  return Buffer.from(await sharedSecret(db, 'share', offered.toString('hex')), 'hex');
}

/** The share secret of one instance: 32 random bytes, created once in DATA_DIR (readable only by this user). */
function loadSecret(file: string): Buffer {
  const existing = readSecret(file);
  if (existing) return existing;
  const secret = randomBytes(32);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return secret;
}
