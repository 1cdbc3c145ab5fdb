import type { Insertable, Selectable } from 'kysely';
import type { Db } from '../db/index.js';
import type { ApiTokensTable } from '../db/schema.js';
import type { UserRow } from './users.js';

export type TokenRow = Selectable<ApiTokensTable>;
export type NewTokenRow = Insertable<ApiTokensTable>;

export interface TokenWithUser {
  id: number;
  last_used_at: string | null;
  user: Pick<UserRow, 'id' | 'username' | 'is_admin' | 'quota'>;
}

export function insertToken(db: Db, row: NewTokenRow): Promise<TokenRow> {
  return db.insertInto('api_tokens').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The owner's tokens, newest first. */
export function listTokens(db: Db, userId: number): Promise<TokenRow[]> {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .execute();
}

export async function countTokens(db: Db, userId: number): Promise<number> {
  const row = await db
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deletes one of the owner's tokens; false when the owner has none with that id. */
export async function deleteToken(db: Db, userId: number, id: number): Promise<boolean> {
  const r = await db
    .deleteFrom('api_tokens')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return r.numDeletedRows > 0n;
}

/** The token with this hash and its user in one query; undefined when either is gone. */
export async function findByHash(db: Db, tokenHash: string): Promise<TokenWithUser | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id as token_id',
      'api_tokens.last_used_at',
      'users.id',
      'users.username',
      'users.is_admin',
      'users.quota',
    ])
    .where('api_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const { token_id, last_used_at, ...user } = row;
  return { id: token_id, last_used_at, user };
}

export async function touch(db: Db, id: number, at: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}
