import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Distinct statement texts the controller runs are a few hundred shapes (an `IN` list or a VALUES
 * list of a new length is a new text); past this the least recently used is finalised.
 */
export const MAX_CACHED_STATEMENTS = 500;

/**
 * better-sqlite3 as Kysely's SQLite dialect uses it, with each statement text prepared once: Kysely
 * asks for `prepare()` on every execution, and preparing (parsing and planning the SQL) cost more than
 * running most of the controller's statements. A statement held here is re-prepared by SQLite itself
 * when the schema changes under it (a migration), so a cached one never runs a stale plan.
 */
export function withStatementCache(sqlite: SQLite.Database, max = MAX_CACHED_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(text: string): SqliteStatement {
      const hit = cache.get(text);
      // A statement still iterating (a stream of rows) cannot run again until it is done.
      if (hit && !hit.busy) {
        // Most recently used last: Map keeps insertion order, so the first key is the one to drop.
        cache.delete(text);
        cache.set(text, hit);
        return hit as unknown as SqliteStatement;
      }
      const statement = sqlite.prepare(text);
      if (!hit) {
        cache.set(text, statement);
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return statement as unknown as SqliteStatement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}
