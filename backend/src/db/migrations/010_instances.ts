import type { Kysely } from 'kysely';
import { addIdColumn, bigintType } from '../dialect.js';

/**
 * State that several controller instances on one database share (docs/architecture.md, "Several
 * instances"). Times here are epoch milliseconds (as `sessions.expires_at`), compared with each
 * instance's clock.
 * - `leases`: who drives something that only one instance may drive (a node's sync), until when.
 * - `login_failures`: failed sign-ins and share-password guesses per key, in a sliding window.
 * - `hand_overs`: tasks an instance is handing to a daemon (or taking out) right now; the expiry lets a
 *   crashed instance's marks lapse by themselves.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bigint = bigintType(db);
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .execute();
  await addIdColumn(db, db.schema.createTable('login_failures'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', bigint, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('login_failures_key')
    .on('login_failures')
    .columns(['scope', 'key', 'id'])
    .execute();
  await db.schema.createIndex('login_failures_at').on('login_failures').columns(['scope', 'at']).execute();
  await db.schema
    .createTable('hand_overs')
    .addColumn('task_id', 'integer', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', bigint, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('hand_overs').ifExists().execute();
  await db.schema.dropTable('login_failures').ifExists().execute();
  await db.schema.dropTable('leases').ifExists().execute();
}
