import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectOf, isDatabaseFailure, isUniqueViolation } from '../../src/db/dialect.js';
import { type DatabaseTarget, type Db, openDatabase } from '../../src/db/index.js';
import { addUsedSpace, usedSpace } from '../../src/repositories/space.js';
import * as repo from '../../src/repositories/tasks.js';
import { findUserByUsername, insertUser } from '../../src/repositories/users.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';

// What the dialect module writes for the repositories and migrations, checked on a real SQLite and a
// real PostgreSQL (a fresh database on the test cluster).

describe.each<[string, () => Promise<DatabaseTarget>]>([
  ['sqlite', async () => ({ kind: 'sqlite', file: ':memory:' })],
  ['postgres', async () => ({ kind: 'postgres', url: await freshDatabaseUrl() })],
])('on %s', (dialect, target) => {
  let db: Db;
  beforeAll(async () => {
    db = await openDatabase(await target());
  });
  afterAll(async () => {
    await db.destroy();
  });

  const now = '2026-01-01T00:00:00Z';
  const user = (username: string) =>
    insertUser(db, { username, password_hash: 'x', is_admin: 0, quota: 0, created_at: now });
  const task = (ownerId: number, name: string) =>
    repo.insertTask(db, {
      owner_id: ownerId,
      uri: `http://127.0.0.1:9/${name}`,
      display_uri: `http://127.0.0.1:9/${name}`,
      status: 'queued',
      name,
      created_at: now,
      updated_at: now,
      dir: `/tmp/${name}`,
    });

  describe('the migrated schema', () => {
    it('user names are one name whatever their case; the second is a unique violation', async () => {
      await user('Alice');
      const err = await user('alice').then(
        () => null,
        (e: unknown) => e,
      );
      expect(isUniqueViolation(err)).toBe(true);
      expect(isUniqueViolation(new Error('other'))).toBe(false);
      expect((await findUserByUsername(db, 'ALICE'))?.username).toBe('Alice');
    });

    it('the helpers know which database they write for', () => {
      expect(dialectOf(db)).toBe(dialect);
    });

    it('a deleted id is never given again (tasks and users)', async () => {
      const u = await user('ids');
      const a = await task(u.id, 'a');
      await repo.deleteTask(db, a.id);
      const b = await task(u.id, 'b');
      expect(b.id).toBeGreaterThan(a.id);
    });
  });

  describe('the helpers', () => {
    it('greatest: the used space never goes below zero', async () => {
      const u = await user('space');
      await addUsedSpace(db, u.id, 500);
      await addUsedSpace(db, u.id, -2000);
      expect((await usedSpace(db, u.id))?.used).toBe(0);
      await addUsedSpace(db, u.id, 300);
      expect((await usedSpace(db, u.id))?.used).toBe(300);
    });

    it('caseInsensitive: the list sorts names without regard to case', async () => {
      const u = await user('sorter');
      for (const name of ['beta', 'Alpha', 'gamma', 'Delta']) await task(u.id, name);
      const { rows } = await repo.listTasks(db, u.id, {
        view: 'all',
        sort: 'name',
        order: 'asc',
        limit: 10,
        offset: 0,
      });
      expect(rows.map((r) => r.name)).toEqual(['Alpha', 'beta', 'Delta', 'gamma']);
    });

    it('rowList: a retry finishes each new row with its own outcome, in one statement per chunk', async () => {
      const u = await user('rows');
      const [x, y, old] = [await task(u.id, 'x'), await task(u.id, 'y'), await task(u.id, 'old')];
      await repo.completeReplacements(
        db,
        [
          {
            newId: x.id,
            status: 'active',
            total_length: 10,
            completed_length: 3,
            error: null,
            finished_at: null,
          },
          {
            newId: y.id,
            status: 'error',
            total_length: 0,
            completed_length: 0,
            error: 'boom',
            finished_at: now,
          },
        ],
        [old.id],
        '2026-01-02T00:00:00Z',
      );
      const after = new Map((await repo.getTasks(db, u.id, [x.id, y.id, old.id])).map((r) => [r.id, r]));
      expect(after.get(x.id)).toMatchObject({
        status: 'active',
        total_length: 10,
        completed_length: 3,
        error: null,
      });
      expect(after.get(y.id)).toMatchObject({ status: 'error', error: 'boom', finished_at: now });
      expect(after.get(x.id)!.updated_at).toBe('2026-01-02T00:00:00Z');
      expect(after.has(old.id)).toBe(false);
    });
  });

  describe('numbers and text as SQLite gives them', () => {
    it('byte counts past 2^31, counts and sums come back as JS numbers', async () => {
      const u = await user('numbers');
      const big = 5 * 1024 ** 3;
      const t = await task(u.id, 'big');
      await repo.updateTask(db, t.id, { total_length: big, completed_length: big - 1, status: 'active' });
      await addUsedSpace(db, u.id, big);
      const row = (await repo.getTasks(db, u.id, [t.id]))[0]!;
      expect(row.total_length).toBe(big);
      expect(row.completed_length).toBe(big - 1);
      const space = await usedSpace(db, u.id);
      expect(space).toEqual({ quota: 0, used: big + big - 1, reserved: 1 });
      expect(await repo.countCurrentTasks(db, u.id)).toBe(1);
      const { total } = await repo.listTasks(db, u.id, {
        view: 'all',
        sort: 'size',
        order: 'asc',
        limit: 5,
        offset: 0,
      });
      expect(total).toBe(1);
    });

    it('likeIgnoringCase: a search finds a name whatever its case, and % and _ are literal', async () => {
      const u = await user('searcher');
      for (const name of ['Ubuntu-24.04.iso', 'debian_12.iso', 'debianX12.iso']) await task(u.id, name);
      const search = async (q: string) =>
        (
          await repo.listTasks(db, u.id, { view: 'all', q, sort: 'name', order: 'asc', limit: 10, offset: 0 })
        ).rows.map((r) => r.name);
      expect(await search('UBUNTU')).toEqual(['Ubuntu-24.04.iso']);
      expect(await search('Debian_')).toEqual(['debian_12.iso']);
      expect(await search('%')).toEqual([]);
    });

    it('an option set goes with the last row that references it (the collector triggers)', async () => {
      const u = await user('options');
      const options = JSON.stringify({ header: ['X-A: 1'] });
      const rows = [];
      for (const name of ['o1', 'o2']) {
        rows.push(
          await repo.insertTask(db, {
            owner_id: u.id,
            uri: `http://127.0.0.1:9/${name}`,
            display_uri: `http://127.0.0.1:9/${name}`,
            status: 'queued',
            name,
            created_at: now,
            updated_at: now,
            dir: `/tmp/${name}`,
            options,
          }),
        );
      }
      const sets = async () => (await db.selectFrom('option_sets').select('hash').execute()).length;
      const before = await sets();
      await repo.deleteTask(db, rows[0]!.id);
      expect(await sets()).toBe(before);
      await repo.deleteTask(db, rows[1]!.id);
      expect(await sets()).toBe(before - 1);
    });
  });
});

describe('database errors', () => {
  it('tells a failing database from a statement the data refused', () => {
    const coded = (code: string) => Object.assign(new Error('x'), { code });
    for (const code of [
      'SQLITE_BUSY',
      'SQLITE_FULL',
      '08006',
      '53300',
      '57P01',
      '58030',
      'XX000',
      'ECONNREFUSED',
    ]) {
      expect(isDatabaseFailure(coded(code)), code).toBe(true);
    }
    expect(isDatabaseFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
    for (const code of ['23505', '22P02', '42P01', 'ENOENT'])
      expect(isDatabaseFailure(coded(code)), code).toBe(false);
    expect(isDatabaseFailure(new Error('Internal'))).toBe(false);
    expect(isUniqueViolation(coded('23505'))).toBe(true);
    expect(isUniqueViolation(coded('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
    expect(isUniqueViolation(coded('23503'))).toBe(false);
  });

  it('PostgreSQL that cannot be reached is a database failure, and the error shows no password', async () => {
    const url = new URL(await freshDatabaseUrl());
    url.port = '9';
    url.password = 'not-shown-anywhere';
    const err = await openDatabase({ kind: 'postgres', url: url.href }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(isDatabaseFailure(err)).toBe(true);
    expect(String(err?.message)).not.toContain('not-shown-anywhere');
  });
});
