import type { HealthBody, Stats } from '../contracts/stats.js';
import { LOCAL_NODE } from '../gateway/types.js';
import { speedTotals } from '../repositories/tasks.js';
import type { ServiceContext } from './context.js';
import type { Storage } from './storage.js';
import type { SpaceService } from './tasks/space.js';

export class StatsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly limits: Pick<SpaceService, 'space'>,
    private readonly storage: Pick<Storage, 'freeDisk'>,
  ) {}

  /** The caller's /api/stats: space from the database (kept incrementally), speeds from their active rows. */
  async forUser(userId: number): Promise<Stats> {
    const [space, speeds, disk] = await Promise.all([
      this.limits.space(userId),
      speedTotals(this.ctx.db, userId),
      this.storage.freeDisk(),
    ]);
    const diskLeft = Math.max(0, disk.free - this.ctx.settings.get().min_free_disk);
    return {
      used_space: space.used,
      quota: space.quota,
      // Unlimited quota: what the disk still allows.
      available_space: Math.min(space.available, diskLeft),
      ...speeds,
    };
  }

  async machine() {
    const disk = await this.storage.freeDisk();
    return {
      disk_total: disk.total,
      disk_used: Math.max(0, disk.total - disk.free),
      disk_free: disk.free,
      aria2: this.ctx.nodes.local.health(),
    };
  }

  /**
   * Liveness: `ok` while every download daemon answers, `degraded` otherwise; `aria2` is the local
   * node's connection.
   */
  health(): HealthBody {
    const nodes = this.ctx.nodes.health();
    const local = nodes.find((n) => n.node === LOCAL_NODE);
    return {
      status: nodes.every((n) => n.connected) ? 'ok' : 'degraded',
      aria2: { connected: local?.connected ?? false, version: local?.version ?? null },
    };
  }
}
