/**
 * The settings service (services/settings.ts) on a real SQLite file and a real aria2c: a change is
 * stored (a restart reads it back), pushed to aria2's global options and heard by who follows it;
 * a variable that is set wins at every start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsService } from '../../src/services/settings.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

describe('SettingsService', () => {
  let u: UnitContext;
  afterEach(async () => {
    await u?.close();
  });

  it("stores a change, pushes aria2's global limits and tells the listeners what changed", async () => {
    u = await unitContext({}, { aria2: true });
    const heard: object[] = [];
    u.ctx.settings.onChange(async (patch) => {
      heard.push(patch);
    });
    const next = await u.ctx.settings.update({ max_concurrent_downloads: 7, max_task_size: 1234 });
    expect(next).toMatchObject({ max_concurrent_downloads: 7, max_task_size: 1234 });
    expect(heard).toEqual([{ max_concurrent_downloads: 7, max_task_size: 1234 }]);
    const global = await u.aria2!.rpc<Record<string, string>>('aria2.getGlobalOption');
    expect(global['max-concurrent-downloads']).toBe('7');

    // A restart: what was stored comes back.
    const again = new SettingsService(u.db, u.ctx.nodes.first, u.logger);
    await again.load(u.ctx.config.settingsSeed);
    expect(again.get()).toMatchObject({ max_concurrent_downloads: 7, max_task_size: 1234 });
  });

  it('a variable that is set wins over the stored value at the next start', async () => {
    u = await unitContext({ MAX_TASK_SIZE: '2000' });
    expect(u.ctx.settings.get().max_task_size).toBe(2000);
    await u.ctx.settings.update({ max_task_size: 9000 });
    const again = new SettingsService(u.db, u.ctx.nodes.first, u.logger);
    await again.load(u.ctx.config.settingsSeed);
    expect(again.get().max_task_size).toBe(2000);
  });
});
