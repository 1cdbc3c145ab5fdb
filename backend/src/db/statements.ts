import { createHash } from 'node:crypto';
import type SQLite from 'better-sqlite3';
import type { PostgresPool, PostgresPoolClient, SqliteDatabase, SqliteStatement } from 'kysely';
import type pg from 'pg';

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

/** Named statements kept per PostgreSQL connection; past this the least recently used is deallocated. */
export const MAX_NAMED_STATEMENTS = 200;

/** The part of pg's connection that remembers which named statements the server has parsed. */
interface ParsedStatements {
  connection?: { parsedStatements?: Record<string, string> };
}

/**
 * A `pg` pool as Kysely's PostgreSQL dialect uses it, with each statement text that takes parameters
 * sent as a named prepared statement: the server parses and plans it once per connection, and later
 * executions send only its parameters. Statements without parameters (BEGIN, COMMIT) keep the simple
 * protocol, one message each. Each connection keeps at most `max` names, least recently used first
 * deallocated, so a long-lived connection does not gather every `IN (…)` length it ever saw.
 */
export function withNamedStatements(pool: pg.Pool, max = MAX_NAMED_STATEMENTS): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    const names = new Map<string, string>();
    const forget = (name: string) => {
      // Forgotten by the client first, so a later use parses it again after the DEALLOCATE (one queue).
      delete (client as ParsedStatements).connection?.parsedStatements?.[name];
      client.query(`DEALLOCATE "${name}"`).catch(() => undefined);
    };
    return {
      // biome-ignore lint/suspicious/noExplicitAny: Kysely's overloads (a text or a cursor) in one body.
      query(text: any, parameters?: ReadonlyArray<unknown>): any {
        if (typeof text !== 'string' || !parameters || parameters.length === 0)
          return parameters === undefined ? client.query(text) : client.query(text, [...parameters]);
        let name = names.get(text);
        if (name) names.delete(text);
        else {
          name = `k${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
          if (names.size >= max) {
            const [oldest, oldName] = names.entries().next().value!;
            names.delete(oldest);
            forget(oldName);
          }
        }
        names.set(text, name);
        const statement = name;
        return client.query({ name, text, values: [...parameters] }).catch((err: unknown) => {
          // A table changed under a statement of this connection (another instance migrated): the next
          // use prepares it anew.
          if ((err as { code?: string }).code === '0A000') {
            names.delete(text);
            forget(statement);
          }
          throw err;
        });
      },
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        w = wrap(client);
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}
