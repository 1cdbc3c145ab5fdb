import fs from 'node:fs/promises';
import path from 'node:path';
import type { User } from '../contracts/users.js';
import { BadRequestError, ConflictError, DependencyError, userNotFound } from '../domain/errors.js';
import { generatePassword, hashPassword, hashSessionId, verifyPassword } from '../domain/passwords.js';
import { nowIso } from '../domain/time.js';
import { deleteUserSessions } from '../repositories/sessions.js';
import { usedSpace, usedSpaceAll } from '../repositories/space.js';
import {
  countUsers,
  deleteUser,
  findUserById,
  findUserByUsername,
  insertUser,
  isUniqueViolation,
  listUsers,
  type UserPatch,
  type UserRow,
  updateUser,
} from '../repositories/users.js';
import type { Actor, ServiceContext } from './context.js';
import { Storage } from './storage.js';

/** The API's view of a user row: never the hash; `used` is the whole used space (the counter plus partial downloads). */
export function toUser(row: UserRow, used: number): User {
  return {
    id: row.id,
    username: row.username,
    is_admin: row.is_admin === 1,
    quota: row.quota,
    used_space: used,
    created_at: row.created_at,
    node: row.node,
    must_change_password: row.must_change_password === 1,
  };
}

export interface NewUser {
  username: string;
  password: string;
  is_admin?: boolean;
  quota?: number;
  /** The node to live on; default: the one with the most free space. */
  node?: string;
  /** Ask the user to choose their own password at their first sign-in. */
  must_change_password?: boolean;
}

export interface UserUpdate {
  username?: string;
  password?: string;
  is_admin?: boolean;
  quota?: number;
  must_change_password?: boolean;
}

/** What deleting a user needs from the tasks side: stop and forget their downloads in aria2. */
export interface UserTasks {
  forgetAllOf(userId: number): Promise<void>;
}

export const ADMIN_PASSWORD_FILE = 'admin-password.txt';

/**
 * Removes $DATA_DIR/admin-password.txt once the password it holds is no longer the account's: called
 * with the hash a password change replaced. A file holding another password is left alone.
 */
export async function removeReplacedAdminPassword(ctx: ServiceContext, replacedHash: string): Promise<void> {
  const file = path.join(ctx.config.dataDir, ADMIN_PASSWORD_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return;
  }
  const stored = /^password: (.*)$/m.exec(text)?.[1];
  if (stored === undefined || !(await verifyPassword(replacedHash, stored))) return;
  await removeAdminPasswordFile(ctx);
}

async function removeAdminPasswordFile(ctx: ServiceContext): Promise<void> {
  const file = path.join(ctx.config.dataDir, ADMIN_PASSWORD_FILE);
  try {
    await fs.rm(file, { force: true });
    ctx.logger.info('removed the generated first-admin password file: the password was changed');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    ctx.logger.warn({ code }, 'could not remove the generated first-admin password file');
  }
}

const usernameTaken = () => new ConflictError('Username already exists');

/** Accounts, for admins. Input shapes are already validated by the routes' zod contracts. */
export class UsersService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: UserTasks,
    /** The users' folders; only it knows where they are on disk. */
    private readonly storage: Pick<Storage, 'removeUserFolder' | 'freeDiskOf'> = new Storage(ctx),
  ) {}

  /**
   * On a start with no users, creates the first admin. A generated password is shown once on stdout
   * and kept in $DATA_DIR/admin-password.txt (mode 600) until the admin changes it, which they are
   * asked to at their first sign-in; a later start changes nothing.
   */
  async ensureFirstAdmin(): Promise<void> {
    if ((await countUsers(this.ctx.db)) > 0) {
      await this.flagGeneratedAdminPassword();
      return;
    }
    const { adminUsername, adminPassword, dataDir } = this.ctx.config;
    const password = adminPassword ?? generatePassword(20);
    // The first admin has no quota (0 = unlimited); they set everyone's limits.
    try {
      await this.create({
        username: adminUsername,
        password,
        is_admin: true,
        quota: 0,
        must_change_password: adminPassword === null,
      });
    } catch (err) {
      // Another instance starting on the same database at the same moment created it first.
      if ((await countUsers(this.ctx.db)) > 0) return;
      throw err;
    }
    if (adminPassword) {
      this.ctx.logger.info({ username: adminUsername }, 'created the first admin with ADMIN_PASSWORD');
      return;
    }
    const file = path.join(dataDir, ADMIN_PASSWORD_FILE);
    await fs.mkdir(dataDir, { recursive: true });
    await fs.writeFile(file, `username: ${adminUsername}\npassword: ${password}\n`, { mode: 0o600 });
    // writeFile's mode applies only to a new file; a leftover file keeps its old mode otherwise.
    await fs.chmod(file, 0o600);
    // Printed (not only logged) so it shows whatever the log level; the log line carries no password.
    process.stdout.write(
      `\nCreated the first admin account "${adminUsername}" with the generated password: ${password}\n` +
        `It is also saved in ${file} (readable only by this user) until you change it at your first sign-in.\n\n`,
    );
    this.ctx.logger.info(
      { username: adminUsername, file },
      'created the first admin with a generated password',
    );
  }

  /**
   * An installation from before first sign-ins asked for a new password may still have its admin on the
   * generated password in admin-password.txt: that admin is asked for a new one at the next sign-in. A
   * file whose password the account no longer has is removed (it was left behind by a change).
   */
  private async flagGeneratedAdminPassword(): Promise<void> {
    const file = path.join(this.ctx.config.dataDir, ADMIN_PASSWORD_FILE);
    const text = await fs.readFile(file, 'utf8').catch(() => null);
    if (text === null) return;
    const username = /^username: (.*)$/m.exec(text)?.[1];
    const password = /^password: (.*)$/m.exec(text)?.[1];
    const row = username === undefined ? undefined : await findUserByUsername(this.ctx.db, username);
    if (!row || password === undefined) return;
    if (!(await verifyPassword(row.password_hash, password))) {
      await removeAdminPasswordFile(this.ctx);
      return;
    }
    if (row.must_change_password === 1) return;
    await updateUser(this.ctx.db, row.id, { must_change_password: 1 });
    this.ctx.logger.info(
      { username },
      'the first admin still has the generated password: asked to change it',
    );
  }

  async list(): Promise<User[]> {
    const [rows, used] = await Promise.all([listUsers(this.ctx.db), usedSpaceAll(this.ctx.db)]);
    return rows.map((row) => toUser(row, used.get(row.id) ?? 0));
  }

  async get(id: number): Promise<User> {
    const row = await findUserById(this.ctx.db, id);
    if (!row) throw userNotFound();
    return this.view(row);
  }

  /** A user as the API shows it, with the used space of now. */
  async view(row: UserRow): Promise<User> {
    return toUser(row, (await usedSpace(this.ctx.db, row.id))?.used ?? 0);
  }

  async create(input: NewUser): Promise<User> {
    const { db, settings } = this.ctx;
    if (await findUserByUsername(db, input.username)) throw usernameTaken();
    const node = input.node ?? (await this.roomiestNode());
    if (!this.ctx.nodes.has(node)) {
      throw new BadRequestError(
        `Invalid node: no node is named that (known: ${this.ctx.nodes.names().join(', ')})`,
      );
    }
    const passwordHash = await hashPassword(input.password);
    try {
      const row = await insertUser(db, {
        username: input.username,
        password_hash: passwordHash,
        is_admin: input.is_admin ? 1 : 0,
        quota: input.quota ?? settings.get().default_quota,
        created_at: nowIso(),
        node,
        must_change_password: input.must_change_password ? 1 : 0,
      });
      this.ctx.logger.info(
        { userId: row.id, username: row.username, isAdmin: input.is_admin === true, node },
        'user created',
      );
      return toUser(row, 0);
    } catch (err) {
      if (isUniqueViolation(err)) throw usernameTaken();
      throw err;
    }
  }

  /**
   * The node whose download folder has the most free space (the first on a tie); a node whose disk
   * cannot be read is passed over. With one node, that node.
   */
  private async roomiestNode(): Promise<string> {
    const names = this.ctx.nodes.names();
    if (names.length === 1) return names[0]!;
    const free = await Promise.all(
      names.map((n) =>
        this.storage.freeDiskOf(n).then(
          (d) => d.free,
          () => -1,
        ),
      ),
    );
    let best = 0;
    for (let i = 1; i < names.length; i++) if (free[i]! > free[best]!) best = i;
    return names[best]!;
  }

  /**
   * Changes the given fields. A new password ends the user's sessions (all of them, or all but
   * `keepSessionId` when admins reset their own). An admin cannot drop their own admin flag.
   */
  async update(actor: Actor, id: number, patch: UserUpdate, keepSessionId?: string): Promise<User> {
    const { db } = this.ctx;
    if (id === actor.id && patch.is_admin === false) {
      throw new ConflictError('You cannot remove your own admin rights');
    }
    const current = await findUserById(db, id);
    if (!current) throw userNotFound();
    if (patch.username !== undefined && patch.username !== current.username) {
      const other = await findUserByUsername(db, patch.username);
      if (other && other.id !== id) throw usernameTaken();
    }
    const changes: UserPatch = {};
    if (patch.username !== undefined) changes.username = patch.username;
    if (patch.is_admin !== undefined) changes.is_admin = patch.is_admin ? 1 : 0;
    if (patch.quota !== undefined) changes.quota = patch.quota;
    if (patch.password !== undefined) changes.password_hash = await hashPassword(patch.password);
    // Admins who set their own password chose it; anyone else's stays as asked (or as it was).
    if (patch.must_change_password !== undefined)
      changes.must_change_password = patch.must_change_password ? 1 : 0;
    else if (patch.password !== undefined && id === actor.id) changes.must_change_password = 0;
    const keep = id === actor.id && keepSessionId ? hashSessionId(keepSessionId) : null;
    try {
      const row = await db.transaction().execute(async (trx) => {
        const updated = await updateUser(trx, id, changes);
        if (updated && patch.password !== undefined) {
          await deleteUserSessions(trx, id, keep);
        }
        return updated;
      });
      if (!row) throw userNotFound();
      if (patch.password !== undefined) {
        this.ctx.events.emit('sessions_ended', { userId: id, exceptIdHash: keep });
        await removeReplacedAdminPassword(this.ctx, current.password_hash);
      }
      this.ctx.logger.info(
        { userId: id, by: actor.id, fields: Object.keys(patch).filter((k) => k !== 'password') },
        patch.password !== undefined ? 'user updated; password reset' : 'user updated',
      );
      return await this.view(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw usernameTaken();
      throw err;
    }
  }

  /**
   * Stops and forgets the user's downloads in aria2, deletes the row (sessions and task rows go with it
   * by foreign key) and, with deleteFiles, their folder.
   */
  async delete(actor: Actor, id: number, deleteFiles: boolean): Promise<void> {
    const { db, logger } = this.ctx;
    if (id === actor.id) throw new ConflictError('You cannot delete your own account');
    if (!(await findUserById(db, id))) throw userNotFound();
    await this.tasks.forgetAllOf(id);
    if (!(await deleteUser(db, id))) throw userNotFound();
    this.ctx.events.emit('sessions_ended', { userId: id, exceptIdHash: null });
    this.ctx.events.emit('token_revoked', { userId: id, tokenId: null });
    logger.info({ userId: id, by: actor.id, deleteFiles }, 'user deleted');
    if (!deleteFiles) return;
    try {
      await this.storage.removeUserFolder(id);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      logger.error({ userId: id, code }, 'could not remove a deleted user folder');
      throw new DependencyError(`The user was deleted, but their folder could not be removed (${code})`);
    }
  }
}
