import { sql } from 'kysely';
import { clockMs } from '../db/dialect.js';
import type { Db } from '../db/index.js';

/** The expiry `ttlMs` from now: on the given clock, or the database's (null). */
const expiry = (db: Db, now: number | null, ttlMs: number) =>
  now === null ? sql<number>`${clockMs(db)} + ${ttlMs}` : sql<number>`${now + ttlMs}`;

/**
 * Takes the lease, or renews it, in one statement: the row is written only when it is free, expired or
 * already ours, so two instances racing for it cannot both win. True when `holder` holds it now.
 * `now` null reads the database's clock (what instances use); tests give a clock of their own.
 */
export async function takeLease(
  db: Db,
  name: string,
  holder: string,
  now: number | null,
  ttlMs: number,
  /** A holder known to be dead (a process of this machine that is gone): its lease is taken at once. */
  deadHolder?: string,
): Promise<boolean> {
  const row = await db
    .insertInto('leases')
    .values({ name, holder, expires_at: expiry(db, now, ttlMs) })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet((eb) => ({
          holder: eb.ref('excluded.holder'),
          expires_at: eb.ref('excluded.expires_at'),
        }))
        .where((eb) =>
          eb.or([
            eb('leases.expires_at', '<', clockMs(db, now)),
            eb('leases.holder', '=', holder),
            ...(deadHolder ? [eb('leases.holder', '=', deadHolder)] : []),
          ]),
        ),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === holder;
}

/** Gives the lease up (only if `holder` still holds it), so another instance may take it at once. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** Who holds the lease, or null when nobody does (never taken, released or expired). */
export async function leaseHolder(db: Db, name: string, now: number | null): Promise<string | null> {
  const row = await db
    .selectFrom('leases')
    .select('holder')
    .where('name', '=', name)
    .where('expires_at', '>=', clockMs(db, now))
    .executeTakeFirst();
  return row?.holder ?? null;
}
