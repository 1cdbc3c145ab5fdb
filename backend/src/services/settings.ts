import {
  DEFAULT_SETTINGS,
  type PinnedSettings,
  SETTING_VARIABLES,
  type Settings,
  type SettingsSeed,
} from '../config/index.js';
import type { Db } from '../db/index.js';
import type { DownloadGateway } from '../gateway/types.js';
import { readAllSettings, writeSettings } from '../repositories/settings.js';
import { ignored } from './ignored.js';
import type { Logger } from './logger.js';

/**
 * The admin settings of /api/config, held in memory (read on every add) and stored in the database.
 * Variables that are set win at every start; aria2's global limits follow every change.
 */
export class SettingsService {
  private current: Settings = { ...DEFAULT_SETTINGS };
  private pinnedBy: PinnedSettings = {};
  private readonly listeners = new Set<(patch: Partial<Settings>) => Promise<void>>();

  constructor(
    private readonly db: Db,
    /**
     * Only the daemons' global options (every node's: each applies the limits to its own slots); the
     * daemons may start after the settings are loaded.
     */
    private readonly daemon: Pick<DownloadGateway, 'changeGlobalOptions'>,
    private readonly logger: Logger,
  ) {}

  /** Told after this instance stored a change, with the changed keys (the other instances are sent them). */
  announce: ((keys: string[]) => void) | null = null;

  async load(seed: Readonly<SettingsSeed>): Promise<void> {
    await writeSettings(this.db, { ...seed });
    this.current = await this.read();
    const pinned: Record<string, string> = {};
    for (const key of Object.keys(seed) as (keyof SettingsSeed)[]) pinned[key] = SETTING_VARIABLES[key];
    this.pinnedBy = pinned as PinnedSettings;
  }

  /**
   * The settings a variable set at this start pinned, each with the variable's name: a change through
   * the API applies until the next start, when the variable wins again.
   */
  pinned(): PinnedSettings {
    return { ...this.pinnedBy };
  }

  private async read(): Promise<Settings> {
    const stored = await readAllSettings(this.db);
    const merged: Settings = { ...DEFAULT_SETTINGS };
    for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof Settings)[]) {
      const v = stored[key];
      if (typeof v === typeof DEFAULT_SETTINGS[key]) (merged as unknown as Record<string, unknown>)[key] = v;
    }
    return merged;
  }

  /**
   * Reads the stored settings again (another instance changed them); the listeners hear what changed.
   * Returns the changes.
   */
  async reload(): Promise<Partial<Settings>> {
    const next = await this.read();
    const patch: Record<string, unknown> = {};
    for (const key of Object.keys(next) as (keyof Settings)[]) {
      if (next[key] !== this.current[key]) patch[key] = next[key];
    }
    this.current = next;
    if (Object.keys(patch).length > 0) await this.tell(patch as Partial<Settings>);
    return patch as Partial<Settings>;
  }

  private async tell(patch: Partial<Settings>): Promise<void> {
    await Promise.all(
      [...this.listeners].map((l) => l(patch).catch(ignored(this.logger, 'a settings listener failed'))),
    );
  }

  get(): Readonly<Settings> {
    return this.current;
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    // Another instance may have changed other keys meanwhile: those are kept as stored.
    const next = { ...(await this.read()), ...patch };
    await writeSettings(this.db, patch);
    this.current = next;
    if (
      patch.max_concurrent_downloads !== undefined ||
      patch.max_overall_download_limit !== undefined ||
      patch.seed_ratio !== undefined ||
      patch.seed_time_min !== undefined
    ) {
      // Applied again on the next connection to aria2.
      await this.applyToAria2().catch(ignored(this.logger, 'could not apply the global limits to aria2'));
    }
    this.announce?.(Object.keys(patch));
    // Whoever follows a setting (the fair admission) has applied the change when the PUT answers.
    await this.tell(patch);
    return { ...next };
  }

  /** Calls `listener` after every change (with the changed keys); returns the unsubscribe. */
  onChange(listener: (patch: Partial<Settings>) => Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Pushes aria2's global limits (to every node); called after a change. */
  async applyToAria2(): Promise<void> {
    await this.applyTo(this.daemon);
  }

  /** Pushes aria2's global limits to one daemon; called on every (re)connection of a node. */
  async applyTo(daemon: Pick<DownloadGateway, 'changeGlobalOptions'>): Promise<void> {
    await daemon.changeGlobalOptions({
      'max-concurrent-downloads': String(this.current.max_concurrent_downloads),
      'max-overall-download-limit': String(this.current.max_overall_download_limit),
      // The defaults of downloads added from now on; a task's own seed options win.
      'seed-ratio': String(this.current.seed_ratio),
      'seed-time': String(this.current.seed_time_min),
    });
  }
}
