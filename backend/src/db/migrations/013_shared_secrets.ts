import type { Kysely } from 'kysely';

/**
 * State several instances must agree on:
 * - `secrets`: values created once by whichever instance needs one first and read by all (the share
 *   secret on PostgreSQL); a row is never changed once written.
 * - `egress_proxies`: each running instance's loopback egress proxy (address and credentials), so a
 *   download handed to a node's aria2 by any instance goes through the proxy of the instance that
 *   drives the node (services/leases.ts, egress/node-proxies.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('egress_proxies')
    .addColumn('holder', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('password', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('egress_proxies').ifExists().execute();
  await db.schema.dropTable('secrets').ifExists().execute();
}
