import { type Insertable, type Selectable, sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { SharesTable } from '../db/schema.js';

export type ShareRow = Selectable<SharesTable>;
export type NewShareRow = Insertable<SharesTable>;

/** Rows whose path is `rel` or lies under it (`rel` as stored: `/`-separated, relative). */
const under = (rel: string) =>
  sql<boolean>`(path = ${rel} OR substr(path, 1, ${rel.length + 1}) = ${`${rel}/`})`;

export function insertShare(db: Db, row: NewShareRow): Promise<ShareRow> {
  return db.insertInto('shares').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The owner's live (not revoked) shares, newest first. */
export function listShares(db: Db, ownerId: number): Promise<ShareRow[]> {
  return db
    .selectFrom('shares')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('revoked_at', 'is', null)
    .orderBy('id', 'desc')
    .execute();
}

export function findShareByTokenHash(db: Db, tokenHash: string): Promise<ShareRow | undefined> {
  return db.selectFrom('shares').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Revokes one of the owner's live shares; false when there is none with that id. */
export async function revokeShare(db: Db, ownerId: number, id: number, now: string): Promise<boolean> {
  const r = await db
    .updateTable('shares')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/**
 * Counts one download unless the share is used up: the conditional update is what keeps concurrent
 * downloads from passing max_downloads. False when it was used up.
 */
export async function countDownload(db: Db, id: number): Promise<boolean> {
  const r = await db
    .updateTable('shares')
    .set((eb) => ({ downloads: sql`${eb.ref('downloads')} + 1` }))
    .where('id', '=', id)
    .where((eb) => eb.or([eb('max_downloads', 'is', null), eb('downloads', '<', eb.ref('max_downloads'))]))
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Shares of `from` or anything under it follow a move to `to`. */
export async function rebaseShares(db: Db, ownerId: number, from: string, to: string): Promise<void> {
  await db
    .updateTable('shares')
    .set({ path: sql`${to} || substr(path, ${from.length + 1})` })
    .where('owner_id', '=', ownerId)
    .where(under(from))
    .execute();
}

/** Shares of `rel` or anything under it end with their file. */
export async function deleteSharesUnder(db: Db, ownerId: number, rel: string): Promise<void> {
  await db.deleteFrom('shares').where('owner_id', '=', ownerId).where(under(rel)).execute();
}
