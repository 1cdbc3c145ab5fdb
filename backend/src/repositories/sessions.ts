import { compiledOnce } from '../db/compiled.js';
import type { Db } from '../db/index.js';
import type { UserRow } from './users.js';

export interface NewSession {
  idHash: string;
  userId: number;
  createdAt: string;
  expiresAt: number;
}

export interface SessionWithUser {
  expires_at: number;
  user: Pick<UserRow, 'id' | 'username' | 'is_admin' | 'quota'>;
}

export async function insertSession(db: Db, s: NewSession): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id_hash: s.idHash, user_id: s.userId, created_at: s.createdAt, expires_at: s.expiresAt })
    .execute();
}

const sessionWithUser = compiledOnce((db: Db, idHash: string) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.expires_at', 'users.id', 'users.username', 'users.is_admin', 'users.quota'])
    .where('sessions.id_hash', '=', idHash),
);

/** The session and its user in one query; undefined when either is gone. */
export async function findSessionWithUser(db: Db, idHash: string): Promise<SessionWithUser | undefined> {
  const row = (await sessionWithUser(db, idHash)).rows[0];
  if (!row) return undefined;
  const { expires_at, ...user } = row;
  return { expires_at, user };
}

export async function touchSession(db: Db, idHash: string, expiresAt: number): Promise<void> {
  await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of the user except the one whose hash is given (null: all of them). */
export async function deleteUserSessions(
  db: Db,
  userId: number,
  exceptIdHash: string | null,
): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptIdHash) query = query.where('id_hash', '!=', exceptIdHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteExpiredSessions(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function countUserSessions(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
