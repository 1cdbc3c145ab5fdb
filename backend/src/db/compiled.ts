import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import { dialectOf } from './dialect.js';

/** Stands in for argument `arg` (element `item` of a list argument) while a shape is compiled. */
class Slot {
  constructor(
    readonly arg: number,
    readonly item: number,
  ) {}
}

/**
 * A query built and compiled once per dialect and shape, then run with each call's values: building
 * and compiling a Kysely query took more of the controller's CPU than running it on SQLite (a retry's
 * profile, bench/retry-continued.ts). The shape is the length of each list argument (an `IN` list of a
 * new length is a new text), so `build` must use its arguments only as bound values: passed through
 * to Kysely as they are, never looked at (no branch on them, no `sql.raw` of them). `db` may be a
 * transaction; the query runs on it.
 */
export function compiledOnce<A extends unknown[], R>(
  // biome-ignore lint/suspicious/noExplicitAny: the statement serves any schema's Kysely instance.
  build: (db: Kysely<any>, ...args: A) => Compilable<R>,
  // biome-ignore lint/suspicious/noExplicitAny: as above.
): (db: Kysely<any>, ...args: A) => Promise<QueryResult<R>> {
  const shapes = new Map<string, CompiledQuery<R>>();
  return (db, ...args) => {
    let key: string = dialectOf(db);
    for (const a of args) key += Array.isArray(a) ? `,${a.length}` : ',';
    let compiled = shapes.get(key);
    if (!compiled) {
      const slots = args.map((a, i) =>
        Array.isArray(a) ? a.map((_, j) => new Slot(i, j)) : new Slot(i, -1),
      ) as A;
      compiled = build(db, ...slots).compile();
      shapes.set(key, compiled);
    }
    const parameters = compiled.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const a = args[p.arg];
      return p.item < 0 ? a : (a as readonly unknown[])[p.item];
    });
    return db.executeQuery<R>({ ...compiled, parameters });
  };
}
