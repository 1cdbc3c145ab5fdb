import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAllSettings } from '../../src/repositories/settings.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

describe('SettingsService and an unreachable aria2', () => {
  let u: UnitContext;

  beforeEach(async () => {
    // The context's aria2 is never started: every call to it fails as unavailable.
    u = await unitContext();
  });
  afterEach(async () => {
    await u.close();
  });

  it('stores a limit change and logs the failed apply once at debug level', async () => {
    const updated = await u.ctx.settings.update({ max_concurrent_downloads: 7 });

    expect(updated.max_concurrent_downloads).toBe(7);
    expect(u.ctx.settings.get().max_concurrent_downloads).toBe(7);
    expect((await readAllSettings(u.db)).max_concurrent_downloads).toBe(7);
    const logged = u.logger.lines
      .map((l) => JSON.parse(l) as { level: string; msg?: string })
      .filter((l) => l.msg === 'could not apply the global limits to aria2');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.level).toBe('debug');
  });

  it('does not try aria2 for a change that is not one of its limits', async () => {
    await u.ctx.settings.update({ default_quota: 123 });

    expect(u.logger.text).not.toContain('could not apply the global limits to aria2');
  });
});
