import type { Compilable, CompiledQuery, Kysely, QueryResult, RawBuilder } from 'kysely';
import { dialectOf } from './dialect.js';

/** Stands in for one value of the arguments while a shape is compiled: where it is in them. */
class Slot {
  constructor(readonly path: readonly number[]) {}
}

/** `value` with every value that is not a list replaced by its stand-in. */
function standIn(value: unknown, path: number[]): unknown {
  return Array.isArray(value) ? value.map((v, i) => standIn(v, [...path, i])) : new Slot(path);
}

/** The lengths of the lists in `value`, nested as they are: what makes another SQL text. */
function shapeOf(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(shapeOf).join(',')}]` : '.';
}

/** Shapes kept per query (an `IN` list of every length up to a chunk's would be hundreds of texts). */
const MAX_SHAPES = 64;

/**
 * A query built and compiled once per dialect and shape, then run with each call's values: building
 * and compiling a Kysely query took more of the controller's CPU than running it on SQLite (a retry's
 * profile, bench/retry-continued.ts). The shape is the length of each list in the arguments, nested
 * lists included (an `IN` list or a `rowList` of a new length is a new text), so `build` must use its
 * arguments only as bound values: passed through to Kysely as they are, never looked at (no branch on
 * them but on a list's length, no `sql.raw` of them). `db` may be a transaction; the query runs on it.
 */
export function compiledOnce<A extends unknown[], R>(
  // biome-ignore lint/suspicious/noExplicitAny: the statement serves any schema's Kysely instance.
  build: (db: Kysely<any>, ...args: A) => Compilable<R> | RawBuilder<R>,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
): (db: Kysely<any>, ...args: A) => Promise<QueryResult<R>> {
  const shapes = new Map<string, CompiledQuery<R>>();
  return (db, ...args) => {
    const key = dialectOf(db) + shapeOf(args);
    let compiled = shapes.get(key);
    if (!compiled) {
      // A query builder compiles on its own; a `sql` template needs the database it is for.
      compiled = build(db, ...(standIn(args, []) as A)).compile(db);
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      shapes.set(key, compiled);
    }
    const parameters = compiled.parameters.map((p) =>
      p instanceof Slot ? p.path.reduce<unknown>((v, i) => (v as readonly unknown[])[i], args) : p,
    );
    return db.executeQuery<R>({ ...compiled, parameters });
  };
}
