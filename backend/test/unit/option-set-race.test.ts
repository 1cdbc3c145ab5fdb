/**
 * The option sets' collector on PostgreSQL (two connections, explicit transactions): a task inserted
 * with a set while another connection deletes the last task that used it keeps its set. The delete
 * waits for the inserting transaction and then sees its row; without the lock it would delete the set
 * from under the new task.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../src/db/index.js';
import * as repo from '../../src/repositories/tasks.js';
import { freshDatabaseUrl } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const OPTIONS = JSON.stringify({ header: ['X-Race: 1'] });

describe('option sets on PostgreSQL under concurrent writes', () => {
  let db: Db;
  let owner: number;

  beforeAll(async () => {
    db = await openDatabase({ kind: 'postgres', url: await freshDatabaseUrl() });
    const user = await db
      .insertInto('users')
      .values({
        username: 'racer',
        password_hash: 'x',
        is_admin: 0,
        quota: 0,
        created_at: '2026-01-01T00:00:00Z',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    owner = user.id;
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const row = (uri: string): repo.NewTaskRow => ({
    owner_id: owner,
    uri,
    display_uri: uri,
    status: 'complete',
    dir: '/nowhere',
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    options: OPTIONS,
  });

  it('keeps a set that a transaction still inserting a task uses, when its last other task is deleted', async () => {
    const first = await repo.insertTask(db, row('http://127.0.0.1:9/first'));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted!: () => void;
    const insertedYet = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    const inserting = db.transaction().execute(async (trx) => {
      const second = await repo.insertTask(trx, row('http://127.0.0.1:9/second'));
      inserted();
      await gate;
      return second;
    });
    await insertedYet;
    let deleted = false;
    const deleting = repo.deleteTask(db, first.id).then(() => {
      deleted = true;
    });
    // The delete either finished (the set went at once) or waits for the inserting transaction's lock.
    await waitFor(
      async () => {
        if (deleted) return true;
        const { rows } = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(db);
        return Number(rows[0]!.n) > 0;
      },
      10_000,
      'the delete to finish or to wait for a lock',
    );
    release();
    const second = await inserting;
    await deleting;
    const [withOptions] = await repo.attachOptions(db, [second]);
    expect(withOptions!.options).toBe(OPTIONS);
    const sets = await db
      .selectFrom('option_sets')
      .select('hash')
      .where('hash', '=', second.option_set!)
      .execute();
    expect(sets).toHaveLength(1);
    // And the set still goes with its last task.
    await repo.deleteTask(db, second.id);
    expect(await db.selectFrom('option_sets').selectAll().execute()).toEqual([]);
  });
});
