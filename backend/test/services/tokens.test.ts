import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import type { Actor } from '../../src/services/context.js';
import type { TokenRevoked } from '../../src/services/events.js';
import { hashToken, MAX_TOKENS_PER_USER, TOKEN_PATTERN, TokensService } from '../../src/services/tokens.js';
import { UsersService } from '../../src/services/users.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

const noTasks = { forgetAllOf: async () => undefined };

describe('TokensService', () => {
  let u: UnitContext;
  let now: number;
  let tokens: TokensService;
  let users: UsersService;
  let alice: Actor;
  let bob: Actor;

  beforeEach(async () => {
    u = await unitContext();
    now = Date.parse('2026-01-23T10:00:00Z');
    tokens = new TokensService(u.ctx, { now: () => now });
    users = new UsersService(u.ctx, noTasks);
    const a = await users.create({ username: 'alice', password: 'alice-password-1' });
    const b = await users.create({ username: 'bob', password: 'bob-password-1', is_admin: true });
    alice = { id: a.id, username: a.username, is_admin: false, quota: a.quota };
    bob = { id: b.id, username: b.username, is_admin: true, quota: b.quota };
  });
  afterEach(async () => {
    await u.close();
  });

  it('creates a 256-bit secret, keeps only its SHA-256 and logs no secret', async () => {
    const created = await tokens.create(alice, 'AriaNg');
    expect(created.token).toMatch(TOKEN_PATTERN);
    expect(created.name).toBe('AriaNg');
    const rows = await u.db.selectFrom('api_tokens').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(hashToken(created.token));
    expect(JSON.stringify(rows)).not.toContain(created.token.slice(4));
    expect(u.logger.text).not.toContain(created.token.slice(4));
    const second = await tokens.create(alice, 'AriaNg');
    expect(second.token).not.toBe(created.token);
  });

  it('authenticates as the owner, and not with an unknown, malformed or revoked secret', async () => {
    const created = await tokens.create(bob, 'script');
    expect(await tokens.authenticate(created.token)).toEqual({ actor: bob, tokenId: created.id });
    expect(await tokens.authenticate(`a2c_${'A'.repeat(43)}`)).toBeNull();
    expect(await tokens.authenticate('nonsense')).toBeNull();
    expect(await tokens.authenticate(created.token.slice(0, -1))).toBeNull();
    await tokens.revoke(bob, created.id);
    expect(await tokens.authenticate(created.token)).toBeNull();
  });

  it("fails for a deleted user's token, and the deletion closes its sockets", async () => {
    const created = await tokens.create(alice, 'script');
    const heard: TokenRevoked[] = [];
    u.ctx.events.on('token_revoked', (r) => heard.push(r));
    await users.delete(bob, alice.id, false);
    expect(await tokens.authenticate(created.token)).toBeNull();
    expect(heard).toEqual([{ userId: alice.id, tokenId: null }]);
  });

  it('lists only the caller’s tokens; revoking another user’s id is not found and emits nothing', async () => {
    const mine = await tokens.create(alice, 'one');
    await tokens.create(bob, 'theirs');
    const list = await tokens.list(alice);
    expect(list).toEqual([{ id: mine.id, name: 'one', created_at: mine.created_at, last_used_at: null }]);
    const heard: TokenRevoked[] = [];
    u.ctx.events.on('token_revoked', (r) => heard.push(r));
    await expect(tokens.revoke(bob, mine.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await tokens.list(alice)).toHaveLength(1);
    expect(heard).toEqual([]);
    await tokens.revoke(alice, mine.id);
    expect(heard).toEqual([{ userId: alice.id, tokenId: mine.id }]);
    expect(await tokens.list(alice)).toEqual([]);
  });

  it('updates last_used_at at most once a minute', async () => {
    const created = await tokens.create(alice, 'poller');
    const lastUsed = async () => (await tokens.list(alice))[0]!.last_used_at;
    await tokens.authenticate(created.token);
    expect(await lastUsed()).toBe('2026-01-23T10:00:00Z');
    now += 30_000;
    await tokens.authenticate(created.token);
    expect(await lastUsed()).toBe('2026-01-23T10:00:00Z');
    now += 30_000;
    await tokens.authenticate(created.token);
    expect(await lastUsed()).toBe('2026-01-23T10:01:00Z');
  });

  it(`refuses a token beyond ${MAX_TOKENS_PER_USER} per user with a 409`, async () => {
    for (let i = 0; i < MAX_TOKENS_PER_USER; i++) await tokens.create(alice, `t${i}`);
    const err = await tokens.create(alice, 'one more').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).detail).toContain(`limit ${MAX_TOKENS_PER_USER}`);
    expect(await tokens.list(alice)).toHaveLength(MAX_TOKENS_PER_USER);
    await tokens.create(bob, 'still fine');
  });
});
