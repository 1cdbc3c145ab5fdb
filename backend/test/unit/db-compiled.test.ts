import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compiledOnce, rowValues } from '../../src/db/compiled.js';
import { rowList } from '../../src/db/dialect.js';
import { type DatabaseTarget, type Db, openDatabase } from '../../src/db/index.js';
import { insertUser } from '../../src/repositories/users.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';

// A query compiled once per shape runs each call with that call's values, on both databases.

describe.each<[string, () => Promise<DatabaseTarget>]>([
  ['sqlite', async () => ({ kind: 'sqlite', file: ':memory:' })],
  ['postgres', async () => ({ kind: 'postgres', url: await freshDatabaseUrl() })],
])('compiledOnce on %s', (_dialect, target) => {
  let db: Db;
  const ids: number[] = [];
  beforeAll(async () => {
    db = await openDatabase(await target());
    for (const username of ['ann', 'ben', 'cat'])
      ids.push(
        (await insertUser(db, { username, password_hash: 'x', is_admin: 0, quota: 0, created_at: 'now' })).id,
      );
  });
  afterAll(async () => {
    await db.destroy();
  });

  it('builds a shape once and gives each call its own values; a list of a new length is a new shape', async () => {
    const build = vi.fn((d: Db, quota: number, userIds: readonly number[]) =>
      d
        .selectFrom('users')
        .select('username')
        .where('quota', '=', quota)
        .where('id', 'in', userIds)
        .orderBy('id'),
    );
    const read = compiledOnce(build);
    const names = async (quota: number, userIds: number[]) =>
      (await read(db, quota, userIds)).rows.map((r) => r.username);
    expect(await names(0, [ids[0]!])).toEqual(['ann']);
    expect(await names(0, [ids[1]!])).toEqual(['ben']);
    expect(await names(1, [ids[1]!])).toEqual([]);
    expect(build).toHaveBeenCalledTimes(1);
    expect(await names(0, [ids[0]!, ids[2]!])).toEqual(['ann', 'cat']);
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('takes nested lists (a rowList) and sql templates, and runs in a transaction it is given', async () => {
    const setQuotas = compiledOnce((d: Db, rows: readonly (readonly [number, number])[]) => {
      const v = rowList(d, 'v', { id: 'integer', quota: 'bigint' }, rows);
      return sql`UPDATE users SET quota = ${v.column('quota')} FROM ${v.table} WHERE users.id = ${v.column('id')}`;
    });
    await db.transaction().execute(async (trx) => {
      await setQuotas(trx, [
        [ids[0]!, 5],
        [ids[1]!, 7],
      ]);
    });
    await setQuotas(db, [
      [ids[1]!, 9],
      [ids[2]!, 11],
    ]);
    const quotas = await db.selectFrom('users').select(['id', 'quota']).orderBy('id').execute();
    expect(quotas.map((r) => Number(r.quota))).toEqual([5, 9, 11]);
  });
});

describe('rowValues', () => {
  it('gives the columns every row gives a value for, and no list when the rows give different ones', () => {
    expect(
      rowValues([
        { a: 1, b: null, c: undefined },
        { a: 2, b: 'x' },
      ]),
    ).toEqual({
      columns: ['a', 'b'],
      values: [
        [1, null],
        [2, 'x'],
      ],
    });
    expect(rowValues([{ a: 1 }, { b: 2 }])).toBeNull();
    expect(rowValues([{ a: 1, b: 2 }, { a: 1 }])).toBeNull();
  });
});
