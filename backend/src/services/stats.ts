import type { HealthBody, Stats } from '../contracts/stats.js';
import { TASK_STATUSES } from '../domain/task-status.js';
import { countDownloading, speedTotals, taskCounts } from '../repositories/tasks.js';
import { countUsersByNode, findUserNode } from '../repositories/users.js';
import type { ServiceContext } from './context.js';
import type { Storage } from './storage.js';
import type { SpaceService } from './tasks/space.js';

export class StatsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly limits: Pick<SpaceService, 'space'>,
    private readonly storage: Pick<Storage, 'freeDisk' | 'freeDiskOf'>,
  ) {}

  /** The caller's /api/stats: space from the database (kept incrementally), speeds from their active rows. */
  async forUser(userId: number): Promise<Stats> {
    const node = (await findUserNode(this.ctx.db, userId)) ?? this.ctx.nodes.first.node;
    const [space, speeds, disk, downloading, counts] = await Promise.all([
      this.limits.space(userId),
      speedTotals(this.ctx.db, userId),
      this.storage.freeDisk(userId),
      countDownloading(this.ctx.db, userId, node),
      // The kept counts per status (the lists' totals read them too): a few rows, not a count.
      taskCounts(this.ctx.db, userId),
    ]);
    const settings = this.ctx.settings.get();
    const diskLeft = Math.max(0, disk.free - settings.min_free_disk);
    return {
      used_space: space.used,
      quota: space.quota,
      // Unlimited quota: what the disk still allows.
      available_space: Math.min(space.available, diskLeft),
      ...speeds,
      waiting_counts: {
        user_limit: { running: downloading.own, limit: settings.max_active_per_user },
        slots: { running: downloading.node, limit: settings.max_concurrent_downloads },
      },
      status_counts: Object.fromEntries(
        TASK_STATUSES.map((s) => [s, counts.get(s) ?? 0]),
      ) as Stats['status_counts'],
    };
  }

  /** The disk and daemon of every node; the top-level fields are the first node's, as with one node. */
  async machine() {
    const users = await countUsersByNode(this.ctx.db);
    const nodes = await Promise.all(
      this.ctx.nodes.health().map(async (h) => {
        const disk = await this.storage.freeDiskOf(h.node).catch((err: unknown) => {
          // A mount that is gone must not hide the other nodes: its disk reads as empty.
          this.ctx.logger.warn({ node: h.node, err: String(err) }, 'could not read the disk of a node');
          return { total: 0, free: 0 };
        });
        return {
          id: h.node,
          connected: h.connected,
          version: h.version,
          disk_total: disk.total,
          disk_used: Math.max(0, disk.total - disk.free),
          disk_free: disk.free,
          users: users.get(h.node) ?? 0,
        };
      }),
    );
    const first = nodes[0]!;
    return {
      disk_total: first.disk_total,
      disk_used: first.disk_used,
      disk_free: first.disk_free,
      aria2: { connected: first.connected, version: first.version },
      nodes,
    };
  }

  /**
   * Liveness: `ok` while every download daemon answers, `degraded` otherwise; `aria2` is the first
   * node's connection (the only one with a single node), `nodes` every node's.
   */
  health(): HealthBody {
    const nodes = this.ctx.nodes
      .health()
      .map((n) => ({ id: n.node, connected: n.connected, version: n.version }));
    const first = nodes[0]!;
    return {
      status: nodes.every((n) => n.connected) ? 'ok' : 'degraded',
      aria2: { connected: first.connected, version: first.version },
      nodes,
    };
  }
}
