import { type ColumnDefinitionBuilder, type CreateTableBuilder, type RawBuilder, sql } from 'kysely';

/**
 * Everything SQL that is particular to SQLite, in one place: repositories and migrations use these
 * instead of writing it, so a second database (PostgreSQL) changes only this module.
 */

/** The larger of two values (SQLite's MAX takes two arguments; elsewhere it is GREATEST). */
export function greatest<T>(a: unknown, b: unknown): RawBuilder<T> {
  return sql<T>`MAX(${a}, ${b})`;
}

/** An expression ordered and compared without regard to case. */
export function caseInsensitive<T>(expr: unknown): RawBuilder<T> {
  return sql<T>`${expr} COLLATE NOCASE`;
}

/** A text column whose values compare without regard to case (so "Alice" and "alice" are one name). */
export function caseInsensitiveColumn(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder {
  return col.modifyEnd(sql`COLLATE NOCASE`);
}

/** An integer id column that is never reused, not even the id of the row deleted last. */
export function addIdColumn<TB extends string, C extends string>(
  table: CreateTableBuilder<TB, C>,
): CreateTableBuilder<TB, C | 'id'> {
  return table.addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement());
}

/**
 * A list of rows given inline, to join against (`FROM … WHERE t.id = v.id`): `table` is the FROM
 * item, `column(name)` one of its columns by the name given in `columns`.
 */
export function rowList(
  alias: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): { table: RawBuilder<unknown>; column(name: string): RawBuilder<unknown> } {
  const values = sql.join(rows.map((row) => sql`(${sql.join(row.map((v) => sql`${v}`))})`));
  return {
    // SQLite names the columns of a VALUES list column1, column2, …
    table: sql`(VALUES ${values}) AS ${sql.ref(alias)}`,
    column(name) {
      const i = columns.indexOf(name);
      if (i < 0) throw new Error(`rowList ${alias} has no column ${name}`);
      return sql.ref(`${alias}.column${i + 1}`);
    },
  };
}

/** The database's error code of a failed statement, if it is one. */
function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A UNIQUE constraint refused the write (a name taken between a check and the write). */
export function isUniqueViolation(err: unknown): boolean {
  return codeOf(err) === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** The database itself failed (busy, full, corrupt, …), not the statement's input. */
export function isDatabaseFailure(err: unknown): boolean {
  return codeOf(err)?.startsWith('SQLITE_') ?? false;
}
