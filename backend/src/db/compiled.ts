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

/** A compiled parameter with the arguments' values in place of the stand-ins (a list bound as one value included). */
function boundValue(parameter: unknown, args: readonly unknown[]): unknown {
  if (parameter instanceof Slot)
    return parameter.path.reduce<unknown>((v, i) => (v as readonly unknown[])[i], args);
  return Array.isArray(parameter) ? parameter.map((p) => boundValue(p, args)) : parameter;
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
    return db.executeQuery<R>({
      ...compiled,
      parameters: compiled.parameters.map((p) => boundValue(p, args)),
    });
  };
}

/**
 * `compiledOnce` for queries whose SQL text also depends on a list of names (an insert's columns):
 * `make` builds the compiled query of one list, once per list.
 */
export function compiledPerNames<F>(make: (names: readonly string[]) => F): (names: readonly string[]) => F {
  const made = new Map<string, F>();
  return (names) => {
    const key = names.join();
    let f = made.get(key);
    if (!f) {
      if (made.size >= MAX_SHAPES) made.clear();
      f = make(names);
      made.set(key, f);
    }
    return f;
  };
}

/**
 * Rows to insert as the columns they give a value for and each row's values in that order (for a
 * `compiledPerNames` insert), or null when the rows do not all give the same columns: Kysely fills a
 * column a row lacks with its default, and such an insert is left to it.
 */
export function rowValues(
  rows: readonly Record<string, unknown>[],
): { columns: string[]; values: unknown[][] } | null {
  const first = rows[0];
  if (!first) return null;
  const columns = Object.keys(first).filter((c) => first[c] !== undefined);
  const values: unknown[][] = [];
  for (const row of rows) {
    const given = Object.keys(row).filter((c) => row[c] !== undefined);
    if (given.length !== columns.length) return null;
    const v = columns.map((c) => row[c]);
    if (v.includes(undefined)) return null;
    values.push(v);
  }
  return { columns, values };
}

/** A row as an object again: `columns` named, `values` in their order. */
export function rowOf(columns: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  columns.forEach((c, i) => {
    row[c] = values[i];
  });
  return row;
}
