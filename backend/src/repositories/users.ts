import type { Insertable, Selectable, Updateable } from 'kysely';
import { forUpdate } from '../db/dialect.js';
import type { Db } from '../db/index.js';
import type { UsersTable } from '../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserPatch = Updateable<Omit<UsersTable, 'id' | 'created_at' | 'used_space'>>;

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('id').execute();
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Case-insensitive: the column compares without regard to case, so "Alice" and "alice" are one name. */
/** How many users live on each node. */
export async function countUsersByNode(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('users')
    .select(['node', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('node')
    .execute();
  return new Map(rows.map((r) => [r.node, Number(r.n)]));
}

/** The node a user lives on, or undefined for no such user. */
export async function findUserNode(db: Db, id: number): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('node').where('id', '=', id).executeTakeFirst();
  return row?.node;
}

/** The node, quota and space counter of several users at once (the live hub's stats); missing ones are absent. */
export async function usersSpaceOf(
  db: Db,
  ids: readonly number[],
): Promise<Map<number, { node: string; quota: number; used_space: number }>> {
  const out = new Map<number, { node: string; quota: number; used_space: number }>();
  // Within the parameter limits of both databases.
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'node', 'quota', 'used_space'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, { node: r.node, quota: r.quota, used_space: r.used_space });
  }
  return out;
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

/**
 * Locks the user's row until the transaction `trx` ends: a check of what the user has (space, current
 * tasks, tokens) and the insert that follows cannot interleave with another's, on any instance.
 */
export async function lockUser(trx: Db, id: number): Promise<void> {
  await forUpdate(trx, trx.selectFrom('users').select('id').where('id', '=', id)).execute();
}

export async function insertUser(db: Db, user: NewUserRow): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export async function updateUser(db: Db, id: number, patch: UserPatch): Promise<UserRow | undefined> {
  if (Object.keys(patch).length === 0) return findUserById(db, id);
  return db.updateTable('users').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Deletes the row; sessions and task rows go with it (ON DELETE CASCADE). True when a row was deleted. */
export async function deleteUser(db: Db, id: number): Promise<boolean> {
  if (!db.isTransaction) return db.transaction().execute((trx) => deleteUser(trx, id));
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  // The cascade's task rows are counted out; the user's counts go with the user.
  await db.deleteFrom('task_counts').where('owner_id', '=', id).execute();
  return result.numDeletedRows > 0n;
}

/** True for a UNIQUE violation (a name taken between our check and the write). */
export { isUniqueViolation } from '../db/dialect.js';
