import { type Kysely, sql } from 'kysely';
import { addIdColumn, bigintType, blobType, caseInsensitiveUniqueColumn } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Byte counts and epoch milliseconds pass 2^31: 64 bits on both databases.
  const bigint = bigintType(db);
  const uniqueName = await caseInsensitiveUniqueColumn(db);
  await addIdColumn(db, db.schema.createTable('users'))
    .addColumn('username', 'text', (c) => uniqueName(c.notNull()))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('quota', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('used_space', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at ${sql.raw(bigint.toUpperCase())} NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX sessions_user ON sessions(user_id)`.execute(db);
  // An id never reused: a client that saw task_removed for an id never sees it again.
  await addIdColumn(db, db.schema.createTable('tasks'))
    .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('gid', 'text')
    .addColumn('uri', 'text', (c) => c.notNull())
    .addColumn('display_uri', 'text', (c) => c.notNull())
    .addColumn('torrent', blobType(db))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('total_length', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('completed_length', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('download_speed', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('upload_speed', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('artifact_path', 'text')
    .addColumn('artifact_token', 'text', (c) => c.unique())
    .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('dir', 'text', (c) => c.notNull())
    .addColumn('info_hash', 'text')
    .addColumn('origin_gid', 'text')
    .addColumn('replaced_by', 'integer')
    .addColumn('retry_of', 'integer')
    .addColumn('counted_bytes', bigint, (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`CREATE INDEX tasks_owner_created ON tasks(owner_id, created_at, id)`.execute(db);
  await sql`CREATE INDEX tasks_owner_status ON tasks(owner_id, status, created_at, id)`.execute(db);
  await sql`CREATE INDEX tasks_owner_updated ON tasks(owner_id, updated_at, id)`.execute(db);
  await sql`CREATE INDEX tasks_gid ON tasks(gid) WHERE gid IS NOT NULL`.execute(db);
  await sql`CREATE INDEX tasks_retry_of ON tasks(retry_of) WHERE retry_of IS NOT NULL`.execute(db);
  await sql`CREATE INDEX tasks_status ON tasks(status)`.execute(db);
  await sql`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['tasks', 'sessions', 'users', 'settings']) {
    await sql`DROP TABLE IF EXISTS ${sql.table(table)}`.execute(db);
  }
}
