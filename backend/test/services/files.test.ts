/**
 * The files service (services/files.ts) called directly on a real SQLite file and a real folder: a
 * delete frees the quota at once and leaves the finished task in the history without its file, a
 * move carries the task's artifact and the links to it, and what a running download writes is in use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { nowIso } from '../../src/domain/time.js';
import { listShares } from '../../src/repositories/shares.js';
import { addUsedSpace, usedSpace } from '../../src/repositories/space.js';
import { getTask, insertTask } from '../../src/repositories/tasks.js';
import type { Actor } from '../../src/services/context.js';
import { FilesService, IN_USE } from '../../src/services/files.js';
import { SharesService } from '../../src/services/shares.js';
import { Storage } from '../../src/services/storage.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

describe('FilesService on a real SQLite file and folder', () => {
  let u: UnitContext;
  let storage: Storage;
  let files: FilesService;
  let alice: Actor;
  let bob: Actor;

  beforeEach(async () => {
    u = await unitContext();
    storage = new Storage(u.ctx);
    files = new FilesService(u.ctx, storage);
    alice = await u.user('alice', { quota: 1_000_000 });
    bob = await u.user('bob');
  });
  afterEach(async () => {
    await u.close();
  });

  /** A finished download of `owner`: its file in the user's folder, counted, and its history row. */
  async function finished(owner: Actor, rel: string, size: number) {
    const file = path.join(await storage.userDir(owner.id), rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.alloc(size, 3));
    await addUsedSpace(u.db, owner.id, size);
    const now = nowIso();
    return insertTask(u.db, {
      owner_id: owner.id,
      gid: null,
      uri: `http://127.0.0.1:9/${path.basename(rel)}`,
      display_uri: `http://127.0.0.1:9/${path.basename(rel)}`,
      status: 'complete',
      name: path.basename(rel),
      created_at: now,
      updated_at: now,
      finished_at: now,
      options: '{}',
      dir: path.join(storage.daemonIncompleteDir('local', owner.id), 'f0f0f0f0f0f0f0f0'),
      artifact_path: rel,
      artifact_token: 'token-of-the-artifact-0123456789abcdef',
      counted_bytes: size,
      total_length: size,
      completed_length: size,
      node: 'local',
    });
  }

  it('a delete frees the quota at once; the task stays in the history without its file', async () => {
    const task = await finished(alice, 'pack/a.bin', 4000);
    expect((await usedSpace(u.db, alice.id))!.used).toBe(4000);
    expect(await files.delete(alice, ['pack'])).toEqual({ deleted: 1, freed: 4000 });
    expect((await usedSpace(u.db, alice.id))!.used).toBe(0);
    expect(fs.existsSync(path.join(await storage.userDir(alice.id), 'pack'))).toBe(false);
    expect(await getTask(u.db, alice.id, task.id)).toMatchObject({
      status: 'complete',
      artifact_path: null,
      artifact_token: null,
    });
  });

  it('a move carries the finished task and the links to the file along', async () => {
    const task = await finished(alice, 'a.bin', 100);
    const shares = new SharesService(u.ctx, storage, files);
    await shares.create(alice, { path: 'a.bin' });
    await files.createFolder(alice, 'kept');
    const moved = await files.move(alice, 'a.bin', 'kept/b.bin');
    expect(moved).toMatchObject({ path: 'kept/b.bin', type: 'file', size: 100 });
    expect((await getTask(u.db, alice.id, task.id))!.artifact_path).toBe('kept/b.bin');
    expect((await listShares(u.db, alice.id)).map((s) => s.path)).toEqual(['kept/b.bin']);
    expect((await usedSpace(u.db, alice.id))!.used).toBe(100);
  });

  it("a path is the caller's own: another user's file is not found and stays", async () => {
    await finished(bob, 'secret.bin', 10);
    const err = await failure(files.delete(alice, ['secret.bin']));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(fs.existsSync(path.join(await storage.userDir(bob.id), 'secret.bin'))).toBe(true);
    expect((await usedSpace(u.db, bob.id))!.used).toBe(10);
  });

  it('what a running download writes in is in use, and a refused delete deletes nothing', async () => {
    await finished(alice, 'keep.bin', 10);
    const now = nowIso();
    const dir = path.join(storage.daemonIncompleteDir('local', alice.id), 'a1a1a1a1a1a1a1a1');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'part.bin'), 'partial');
    await insertTask(u.db, {
      owner_id: alice.id,
      gid: 'a1a1a1a1a1a1a1a1',
      uri: 'http://127.0.0.1:9/part.bin',
      display_uri: 'http://127.0.0.1:9/part.bin',
      status: 'active',
      name: 'part.bin',
      created_at: now,
      updated_at: now,
      options: '{}',
      dir,
      node: 'local',
    });
    const err = await failure(files.delete(alice, ['keep.bin', '.incomplete']));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.detail).toBe(IN_USE);
    expect(fs.existsSync(path.join(await storage.userDir(alice.id), 'keep.bin'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'part.bin'))).toBe(true);
  });
});
