import type { Db } from '../db/index.js';

export async function insertFailure(db: Db, scope: string, key: string, at: number): Promise<number> {
  const row = await db
    .insertInto('login_failures')
    .values({ scope, key, at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The times of the key's failures since `since`, newest first, at most `limit`. */
export async function recentFailures(
  db: Db,
  scope: string,
  key: string,
  since: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('login_failures')
    .select('at')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('at', '>', since)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.at);
}

export async function deleteFailure(db: Db, scope: string, key: string, id: number): Promise<void> {
  await db
    .deleteFrom('login_failures')
    .where('id', '=', id)
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

export async function deleteKeyFailures(db: Db, scope: string, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('scope', '=', scope).where('key', '=', key).execute();
}

/** Keeps the key's newest `keep` failures only. */
export async function trimKeyFailures(db: Db, scope: string, key: string, keep: number): Promise<void> {
  const edge = await db
    .selectFrom('login_failures')
    .select('id')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .orderBy('id', 'desc')
    .offset(keep - 1)
    .limit(1)
    .executeTakeFirst();
  if (!edge) return;
  await db
    .deleteFrom('login_failures')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('id', '<', edge.id)
    .execute();
}

/** Drops the failures that left the window. */
export async function deleteFailuresBefore(db: Db, scope: string, since: number): Promise<void> {
  await db.deleteFrom('login_failures').where('scope', '=', scope).where('at', '<=', since).execute();
}

export async function countFailureKeys(db: Db, scope: string): Promise<number> {
  const row = await db
    .selectFrom('login_failures')
    .select((eb) => eb.fn.count<number>('key').distinct().as('n'))
    .where('scope', '=', scope)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Forgets the `count` keys whose last failure is oldest. */
export async function deleteOldestKeys(db: Db, scope: string, count: number): Promise<void> {
  if (count <= 0) return;
  const oldest = db
    .selectFrom('login_failures')
    .select('key')
    .where('scope', '=', scope)
    .groupBy('key')
    .orderBy((eb) => eb.fn.max('id'), 'asc')
    .limit(count);
  await db.deleteFrom('login_failures').where('scope', '=', scope).where('key', 'in', oldest).execute();
}
