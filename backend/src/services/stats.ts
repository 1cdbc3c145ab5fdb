import type { Stats } from '../contracts/stats.js';
import { speedTotals } from '../repositories/tasks.js';
import type { ServiceContext } from './context.js';
import type { TasksService } from './tasks.js';

export class StatsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: TasksService,
  ) {}

  /** The caller's /api/stats: space from the database (kept incrementally), speeds from their active rows. */
  async forUser(userId: number): Promise<Stats> {
    const [space, speeds, disk] = await Promise.all([
      this.tasks.space(userId),
      speedTotals(this.ctx.db, userId),
      this.tasks.storage.freeDisk(),
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
    const disk = await this.tasks.storage.freeDisk();
    return {
      disk_total: disk.total,
      disk_used: Math.max(0, disk.total - disk.free),
      disk_free: disk.free,
      aria2: this.ctx.nodes.local.health(),
    };
  }
}
