import type { TaskOptions } from '../contracts/tasks.js';
import { isCurrent, type TaskStatus } from '../domain/task-status.js';
import type { DaemonStatus, StatusFields } from '../gateway/types.js';
import * as repo from '../repositories/tasks.js';
import type { Actor, ServiceContext } from './context.js';
import { storedOptions } from './handover.js';
import type { Storage } from './storage.js';
import { byNode, eachItem } from './tasks/daemon.js';

/** How long a status read of the daemon is reused: under the once-a-second poll of aria2's clients. */
const RECENT_MS = 900;
/** From this many downloads of one node on, their statuses come from the daemon's whole lists. */
const WHOLE_LIST_FROM = 20;
/** Past this many remembered statuses the stale ones are dropped. */
const MAX_RECENT = 10_000;

/** A task row as the daemon-shaped views need it: the Task's columns, its folder and node. */
export type ViewRow = Awaited<ReturnType<typeof repo.listRowsByStatus>>[number];

/**
 * Read-only views of a user's tasks together with the daemon's status of each, read in one batch per
 * node (the aria2-compatible RPC lists whole pages of them at once, about once a second per client).
 */
export class TaskViewsService {
  /**
   * Statuses read in the last moment, by node, gid and fields: several clients polling once a second
   * share one read of the daemon instead of one each (as fresh as the sync engine's own pass).
   */
  private readonly recent = new Map<string, { at: number; status: DaemonStatus }>();

  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'nodes'>,
    private readonly storage: Storage,
  ) {}

  /** The user's folder as their node's daemon names it: paths shown to the user are relative to it. */
  async userDir(userId: number): Promise<string> {
    return this.storage.daemonUserDir(await this.storage.nodeOf(userId), userId);
  }

  /** One of the user's tasks by its gid, or undefined (another user's gid is simply not found). */
  byGid(actor: Actor, gid: string): Promise<ViewRow | undefined> {
    return repo.getTaskByGid(this.ctx.db, actor.id, gid);
  }

  page(actor: Actor, statuses: readonly TaskStatus[], offset: number, limit: number): Promise<ViewRow[]> {
    if (limit <= 0) return Promise.resolve([]);
    return repo.listRowsByStatus(this.ctx.db, actor.id, statuses, { offset, limit, newestFirst: false });
  }

  counts(actor: Actor): Promise<Partial<Record<TaskStatus, number>>> {
    return repo.countByStatus(this.ctx.db, actor.id);
  }

  async options(row: ViewRow): Promise<TaskOptions> {
    const [withOptions] = await repo.attachOptions(this.ctx.db, [row]);
    return storedOptions(withOptions!.options);
  }

  /**
   * The daemon's status of each current row (null for a row it has no download of, cannot answer
   * about, or a finished one: its figures are the row's own), one batch per node.
   */
  async statuses(rows: readonly ViewRow[], fields: StatusFields): Promise<(DaemonStatus | null)[]> {
    const out: (DaemonStatus | null)[] = rows.map(() => null);
    const asked = rows
      .map((row, i) => ({ row, i, node: row.node }))
      .filter(({ row }) => row.gid && row.status !== 'queued' && isCurrent(row.status));
    const now = Date.now();
    if (this.recent.size > MAX_RECENT) this.prune(now);
    const key = (a: { row: ViewRow }) => `${a.row.node}:${a.row.gid}:${fields}`;
    const missing = asked.filter((a) => {
      const hit = this.recent.get(key(a));
      if (hit && now - hit.at < RECENT_MS) out[a.i] = hit.status;
      return !(hit && now - hit.at < RECENT_MS);
    });
    for (const [gateway, all] of byNode(this.ctx.nodes, missing)) {
      if (!gateway.connected) continue;
      let list = all;
      if (list.length >= WHOLE_LIST_FROM) {
        // Many at once (a client's whole list): the daemon's own lists in one round trip cost less
        // than a status look-up per download.
        const snap = await gateway.snapshot({ active: fields, waiting: fields }).catch(() => null);
        const byGid = new Map([...(snap?.active ?? []), ...(snap?.waiting ?? [])].map((st) => [st.gid, st]));
        list = list.filter((a) => {
          const st = byGid.get(a.row.gid!);
          if (!st) return true;
          out[a.i] = st;
          this.recent.set(key(a), { at: now, status: st });
          return false;
        });
      }
      const told = await eachItem(
        gateway,
        () =>
          gateway.statuses(
            list.map((a) => a.row.gid!),
            fields,
          ),
        list.length,
      );
      list.forEach((a, k) => {
        const t = told[k]!;
        if (t.ok) {
          out[a.i] = t.value;
          this.recent.set(key(a), { at: now, status: t.value });
        }
      });
    }
    return out;
  }

  private prune(now: number): void {
    for (const [k, v] of this.recent) if (now - v.at >= RECENT_MS) this.recent.delete(k);
  }
}
