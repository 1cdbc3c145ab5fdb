import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    quota INTEGER NOT NULL DEFAULT 0,
    used_space INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  )`.execute(db);
  await sql`CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX sessions_user ON sessions(user_id)`.execute(db);
  // AUTOINCREMENT: a task id is never reused, so a client that saw task_removed for an id never sees it again.
  await sql`CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    gid TEXT,
    uri TEXT NOT NULL,
    display_uri TEXT NOT NULL,
    torrent BLOB,
    status TEXT NOT NULL,
    name TEXT,
    total_length INTEGER NOT NULL DEFAULT 0,
    completed_length INTEGER NOT NULL DEFAULT 0,
    download_speed INTEGER NOT NULL DEFAULT 0,
    upload_speed INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    artifact_path TEXT,
    artifact_token TEXT UNIQUE,
    options TEXT NOT NULL DEFAULT '{}',
    dir TEXT NOT NULL,
    info_hash TEXT,
    origin_gid TEXT,
    replaced_by INTEGER,
    retry_of INTEGER,
    counted_bytes INTEGER NOT NULL DEFAULT 0
  )`.execute(db);
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
