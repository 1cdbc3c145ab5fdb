import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseFailure, isUniqueViolation } from '../../src/db/dialect.js';
import { type Db, openDatabase } from '../../src/db/index.js';
import { addUsedSpace, usedSpace } from '../../src/repositories/space.js';
import * as repo from '../../src/repositories/tasks.js';
import { insertUser } from '../../src/repositories/users.js';

// What the dialect module writes for the repositories and migrations, checked on a real SQLite.

let db: Db;
beforeAll(async () => {
  db = await openDatabase(':memory:');
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
    expect(isDatabaseFailure(err)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
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
