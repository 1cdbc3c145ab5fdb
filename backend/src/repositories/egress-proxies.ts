import { clockMs } from '../db/dialect.js';
import type { Db } from '../db/index.js';

export interface ProxyEntry {
  url: string;
  username: string;
  password: string;
}

/** Records (or records again) the egress proxy an instance runs. */
export async function registerProxy(db: Db, holder: string, proxy: ProxyEntry): Promise<void> {
  await db
    .insertInto('egress_proxies')
    .values({ holder, ...proxy })
    .onConflict((oc) =>
      oc.column('holder').doUpdateSet((eb) => ({
        url: eb.ref('excluded.url'),
        username: eb.ref('excluded.username'),
        password: eb.ref('excluded.password'),
      })),
    )
    .execute();
}

/** Forgets an instance's proxy (it stops). */
export async function removeProxy(db: Db, holder: string): Promise<void> {
  await db.deleteFrom('egress_proxies').where('holder', '=', holder).execute();
}

/** The proxy of the instance that holds the lease now, or null (nobody holds it, or it runs no proxy). */
export async function proxyOfLeaseHolder(db: Db, lease: string): Promise<ProxyEntry | null> {
  const row = await db
    .selectFrom('leases')
    .innerJoin('egress_proxies', 'egress_proxies.holder', 'leases.holder')
    .select(['egress_proxies.url', 'egress_proxies.username', 'egress_proxies.password'])
    .where('leases.name', '=', lease)
    .where('leases.expires_at', '>=', clockMs(db))
    .executeTakeFirst();
  return row ?? null;
}

/**
 * Forgets the proxies of instances that hold no lease (a killed instance never removes its own); a live
 * one records its proxy again when it takes a lease, which is the only time another reads it.
 */
export async function removeUnusedProxies(db: Db, except: string): Promise<void> {
  await db
    .deleteFrom('egress_proxies')
    .where('holder', '!=', except)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('leases').select('name').whereRef('leases.holder', '=', 'egress_proxies.holder'),
        ),
      ),
    )
    .execute();
}
