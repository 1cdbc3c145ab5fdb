/**
 * Share links (services/shares.ts) called directly on a real SQLite file and folder: only the owner
 * lists and revokes a link, a revoked, expired or used-up link is gone (410), and wrong passwords are
 * refused and counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, GoneError, NotFoundError, TooManyRequestsError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/services/context.js';
import { FilesService } from '../../src/services/files.js';
import { LINK_EXPIRED, SharesService, WRONG_PASSWORD } from '../../src/services/shares.js';
import { Storage } from '../../src/services/storage.js';
import { failure, type UnitContext, unitContext } from '../helpers/service-context.js';

const tokenOf = (url: string) => url.replace(/^\/s\//, '');

describe('SharesService on a real SQLite file and folder', () => {
  let u: UnitContext;
  let storage: Storage;
  let shares: SharesService;
  let alice: Actor;
  let bob: Actor;
  let now: number;

  beforeEach(async () => {
    u = await unitContext();
    storage = new Storage(u.ctx);
    now = Date.parse('2030-01-01T00:00:00Z');
    shares = new SharesService(u.ctx, storage, new FilesService(u.ctx, storage), { now: () => now });
    alice = await u.user('alice');
    bob = await u.user('bob');
    fs.mkdirSync(await storage.userDir(alice.id), { recursive: true });
    fs.writeFileSync(path.join(await storage.userDir(alice.id), 'a.bin'), 'shared bytes');
  });
  afterEach(async () => {
    await u.close();
  });

  it("only the owner lists and revokes a link; another user's revoke is not found and the link works", async () => {
    const share = await shares.create(alice, { path: 'a.bin' });
    expect(await shares.list(bob)).toEqual([]);
    const err = await failure(shares.revoke(bob, share.id));
    expect(err).toBeInstanceOf(NotFoundError);
    expect((await shares.find(tokenOf(share.url))).id).toBe(share.id);
    await shares.revoke(alice, share.id);
    expect(await failure(shares.find(tokenOf(share.url)))).toBeInstanceOf(GoneError);
  });

  it('a link used up by its downloads, or past its expiry, is gone', async () => {
    const once = await shares.create(alice, { path: 'a.bin', max_downloads: 1 });
    const row = await shares.find(tokenOf(once.url));
    const download = await shares.open(row, true);
    if (download.kind === 'file') await download.file.handle.close();
    const gone = await failure(shares.find(tokenOf(once.url)));
    expect(gone).toBeInstanceOf(GoneError);
    expect(gone.detail).toBe(LINK_EXPIRED);
    expect((await shares.list(alice)).find((s) => s.id === once.id)!.downloads).toBe(1);

    const soon = await shares.create(alice, { path: 'a.bin', expires_at: '2030-01-01T01:00:00Z' });
    expect((await shares.find(tokenOf(soon.url))).id).toBe(soon.id);
    now += 2 * 60 * 60 * 1000;
    expect(await failure(shares.find(tokenOf(soon.url)))).toBeInstanceOf(GoneError);
  });

  it('a wrong password is refused and counted; the right one grants access to that link only', async () => {
    const locked = await shares.create(alice, { path: 'a.bin', password: 'pass-word-1' });
    const other = await shares.create(alice, { path: 'a.bin', password: 'pass-word-2' });
    const row = await shares.find(tokenOf(locked.url));
    expect(shares.hasAccess(row, undefined)).toBe(false);
    const wrong = await failure(shares.unlock(row, 'nope', '127.0.0.1'));
    expect(wrong).toBeInstanceOf(ForbiddenError);
    expect(wrong.detail).toBe(WRONG_PASSWORD);
    const { value } = await shares.unlock(row, 'pass-word-1', '127.0.0.1');
    expect(shares.hasAccess(row, value)).toBe(true);
    expect(shares.hasAccess(await shares.find(tokenOf(other.url)), value)).toBe(false);
    let limited: Error | null = null;
    for (let i = 0; i < 50 && !limited; i++) {
      limited = await shares.unlock(row, 'nope', `10.0.0.${i}`).then(
        () => null,
        (err: Error) => (err instanceof TooManyRequestsError ? err : null),
      );
    }
    expect(limited).toBeInstanceOf(TooManyRequestsError);
  });
});
