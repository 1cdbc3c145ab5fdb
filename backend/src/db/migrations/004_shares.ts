import { type Kysely, sql } from 'kysely';

/** Public links to a user's file or folder. The token itself is never stored, only its SHA-256. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE shares (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    nonce TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    expires_at TEXT,
    max_downloads INTEGER,
    downloads INTEGER NOT NULL DEFAULT 0,
    revoked_at TEXT,
    created_at TEXT NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX shares_owner ON shares(owner_id, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS shares`.execute(db);
}
