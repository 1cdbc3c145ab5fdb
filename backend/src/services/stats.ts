import type { HealthBody, Stats } from '../contracts/stats.js';
import { availableSpace } from '../domain/size.js';
import { TASK_STATUSES } from '../domain/task-status.js';
import { downloadingByNode, speedAndSpaceOf, taskCountsOf } from '../repositories/tasks.js';
import { countUsersByNode, usersSpaceOf } from '../repositories/users.js';
import type { ServiceContext } from './context.js';
import type { Storage } from './storage.js';

export class StatsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly storage: Pick<Storage, 'freeDiskOf'>,
  ) {}

  /** The caller's /api/stats: space from the database (kept incrementally), speeds from their active rows. */
  async forUser(userId: number): Promise<Stats> {
    return (await this.forUsers([userId])).get(userId)!;
  }

  /**
   * The /api/stats of several users in a few statements whatever their number (the live hub computes
   * every user due in one tick together): each user's rows are read once per statement, the node's
   * running downloads are counted once, and each node's disk is read once.
   */
  async forUsers(userIds: readonly number[]): Promise<Map<number, Stats>> {
    const ids = [...new Set(userIds)];
    const out = new Map<number, Stats>();
    if (ids.length === 0) return out;
    const [users, rows, downloading, counts] = await Promise.all([
      usersSpaceOf(this.ctx.db, ids),
      speedAndSpaceOf(this.ctx.db, ids),
      downloadingByNode(this.ctx.db),
      // The kept counts per status (the lists' totals read them too): a few rows, not a count.
      taskCountsOf(this.ctx.db, ids),
    ]);
    const fallback = this.ctx.nodes.first.node;
    const nodes = new Set(ids.map((id) => users.get(id)?.node ?? fallback));
    const disks = new Map(
      await Promise.all([...nodes].map(async (node) => [node, await this.storage.freeDiskOf(node)] as const)),
    );
    // Each node's running downloads, summed once: not once per user (1,000 users a tick).
    const runningOn = new Map<string, number>();
    for (const [node, byOwner] of downloading) {
      let n = 0;
      for (const count of byOwner.values()) n += count;
      runningOn.set(node, n);
    }
    const settings = this.ctx.settings.get();
    for (const id of ids) {
      const user = users.get(id);
      const node = user?.node ?? fallback;
      const own = rows.get(id);
      const quota = user?.quota ?? 0;
      const used = (user?.used_space ?? 0) + (own?.partial ?? 0);
      const diskLeft = Math.max(0, disks.get(node)!.free - settings.min_free_disk);
      const onNode = downloading.get(node);
      const statuses = counts.get(id);
      out.set(id, {
        used_space: used,
        quota,
        // Unlimited quota: what the disk still allows.
        available_space: Math.min(availableSpace(quota, used, own?.reserved ?? 0), diskLeft),
        download_speed: own?.download_speed ?? 0,
        upload_speed: own?.upload_speed ?? 0,
        active_count: own?.active_count ?? 0,
        waiting_counts: {
          user_limit: { running: onNode?.get(id) ?? 0, limit: settings.max_active_per_user },
          slots: { running: runningOn.get(node) ?? 0, limit: settings.max_concurrent_downloads },
        },
        status_counts: Object.fromEntries(
          TASK_STATUSES.map((s) => [s, statuses?.get(s) ?? 0]),
        ) as Stats['status_counts'],
      });
    }
    return out;
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
