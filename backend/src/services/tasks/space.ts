import { availableSpace, type SpaceLimits } from '../../domain/size.js';
import { usedSpace } from '../../repositories/space.js';
import type { Runner } from '../../repositories/tasks.js';
import type { ServiceContext } from '../context.js';
import type { Storage } from '../storage.js';

/** The space limits an add, a retry or a file selection is checked against. */
export class SpaceService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'settings'>,
    private readonly storage: Storage,
  ) {}

  async spaceLimits(userId: number): Promise<SpaceLimits> {
    const settings = this.ctx.settings.get();
    const [disk, space] = await Promise.all([this.storage.freeDisk(userId), usedSpace(this.ctx.db, userId)]);
    return {
      freeDisk: disk.free,
      minFreeDisk: settings.min_free_disk,
      maxTaskSize: settings.max_task_size,
      quota: space?.quota ?? 0,
      usedSpace: space?.used ?? 0,
      reserved: space?.reserved ?? 0,
    };
  }

  /**
   * The limits without the user's space (read later, with the claim: `spaceLimitsIn`): free disk and
   * the maximum size, which need no database.
   */
  async diskLimits(userId: number): Promise<SpaceLimits> {
    const settings = this.ctx.settings.get();
    const disk = await this.storage.freeDisk(userId);
    return {
      freeDisk: disk.free,
      minFreeDisk: settings.min_free_disk,
      maxTaskSize: settings.max_task_size,
      quota: 0,
      usedSpace: 0,
      reserved: 0,
    };
  }

  /**
   * `limits` with the user's quota, used space and reservations read again in `trx`, the transaction
   * that inserts the new rows: what a concurrent add reserved meanwhile counts, and nothing can
   * reserve between this check and the insert (the user's row stays locked until it ends).
   * `locked`: a statement of `trx` locked the user's row already (a retry's claim).
   */
  async spaceLimitsIn(
    trx: Runner,
    userId: number,
    limits: SpaceLimits,
    { locked = false }: { locked?: boolean } = {},
  ): Promise<SpaceLimits> {
    const space = await usedSpace(trx, userId, locked ? 'held' : true);
    return {
      ...limits,
      quota: space?.quota ?? 0,
      usedSpace: space?.used ?? 0,
      reserved: space?.reserved ?? 0,
    };
  }

  /** The used space and quota left of a user (for stats): what current downloads reserve is not left. */
  async space(userId: number): Promise<{ used: number; quota: number; available: number }> {
    const s = (await usedSpace(this.ctx.db, userId)) ?? { quota: 0, used: 0, reserved: 0 };
    return { used: s.used, quota: s.quota, available: availableSpace(s.quota, s.used, s.reserved) };
  }
}
