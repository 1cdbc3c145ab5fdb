import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { reservation, sizeOverLimit } from '../domain/size.js';
import { diff, type SyncDiff } from '../domain/sync.js';
import { nowIso } from '../domain/time.js';
import type { DaemonStatus, DownloadGateway, ItemResult, NodeName } from '../gateway/types.js';
import * as spaceRepo from '../repositories/space.js';
import * as syncRepo from '../repositories/sync.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import type { Admission } from './admission.js';
import type { ServiceContext } from './context.js';
import { newGid } from './handover.js';
import { recordQueuePositions } from './queue-order.js';
import type { SpeedHistory } from './speed-history.js';
import { Storage } from './storage.js';
import { forgetDownloads } from './tasks/forget.js';
import type { HandOverService } from './tasks/hand-over.js';

export { MISPLACED_ERROR } from '../domain/sync.js';
export type { TaskRow } from '../repositories/tasks.js';

type Pair = { row: TaskRow; status: DaemonStatus };

/** What the sync passes work with besides the context, shared with the task services. */
export interface SyncDeps {
  /** Rows being handed over (or taken out) right now: the passes leave them alone. */
  handingOver: ReadonlySet<number>;
  admission: Pick<Admission, 'holdRestored' | 'admit' | 'soon'>;
  /** Lost downloads go back to the daemon the way new ones do. */
  handOver: Pick<HandOverService, 'handOverRows'>;
  storage: Pick<Storage, 'daemonUserDir' | 'removeEntries' | 'moveFinished'>;
  /** The task page's speed chart, fed by every pass. */
  speeds: Pick<SpeedHistory, 'record' | 'drop'>;
}

/**
 * The sync engine's data work: keeps the task rows in step with the daemon. `jobs/sync.ts` decides when
 * (connections, notifications, the once-a-second poll) and calls these passes one at a time.
 * - reconcile: every current task is matched to the daemon's downloads by gid (or info hash); one the
 *   daemon no longer knows is handed over again; downloads no task owns are removed.
 * - refresh: the rows of some gids (after notifications) are looked up and brought up to date.
 * - poll: the daemon's active list plus a targeted look at rows that left it.
 * The row changes come from `domain/sync.ts`'s diff; they are written in one transaction per pass.
 */
export class SyncService {
  /** The daemon's session at the last reconcile: another one at a poll means it restarted. */
  private sessionId: string | null = null;
  /** Whether the last pass saw active or waiting rows: the poll runs only then. */
  busy = false;
  /** The daemon's active downloads at the last poll: fewer now means a slot came free. */
  private activeCount = 0;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly deps: SyncDeps,
    /** The node these passes keep in step (each node has its own); a single-node set-up has one. */
    readonly node: NodeName = ctx.nodes.first.node,
  ) {}

  get gateway(): DownloadGateway {
    return this.ctx.nodes.gatewayFor(this.node);
  }

  /** Stops (unless known stopped) and forgets downloads in the daemon; they may be gone already. */
  private forget(gids: readonly string[], options?: { stopped?: boolean }): Promise<void> {
    return forgetDownloads(this.gateway, gids, { ...options, logger: this.ctx.logger });
  }

  private emit(rows: readonly TaskRow[]): void {
    for (const r of rows) this.ctx.events.taskUpdate(r);
  }

  /** Records the daemon's queue order on the rows and tells their owners. */
  private async recordPositions(waitingGids: readonly string[]): Promise<void> {
    this.emit(await recordQueuePositions(this.ctx.db, waitingGids, this.node));
  }

  /** Returns the gids to look at again shortly. */
  async reconcile(): Promise<string[]> {
    const snap = await this.gateway.snapshot({
      active: 'sync',
      waiting: 'sync',
      stopped: 'sync',
      session: true,
    });
    const all = [...(snap.active ?? []), ...(snap.waiting ?? []), ...(snap.stopped ?? [])];
    const waitingOrder = snap.waiting?.map((s) => s.gid) ?? null;
    this.sessionId = snap.sessionId;
    const byGid = new Map(all.map((s) => [s.gid, s]));
    const rows = (await repo.listCurrentTasks(this.ctx.db, this.node)).filter(
      (r) => !this.deps.handingOver.has(r.id),
    );
    const owned = await repo.listOwnedGids(this.ctx.db, this.node);

    const updates: Pair[] = [];
    const lost: TaskRow[] = [];
    const adopted = new Set<string>();
    for (const row of rows) {
      let status = row.gid ? byGid.get(row.gid) : undefined;
      if (!status && row.info_hash) {
        // After a daemon restart a magnet or torrent may come back under a new gid: match by info hash.
        status = all.find((s) => s.infoHash === row.info_hash && !owned.has(s.gid) && !adopted.has(s.gid));
        if (status) adopted.add(status.gid);
      }
      if (status) updates.push({ row, status });
      else lost.push(row);
    }
    const kept = await this.removeMisplaced(updates);
    await this.deps.admission.holdRestored(kept);
    const again = await this.apply(kept);

    // A current task the daemon no longer knows is handed over again from its stored source.
    await this.handOverAgain(lost, new Set(byGid.keys()));

    // The daemon's session brings failed downloads back to life at its start: a finished, failed or
    // stopped task's download must not run again behind its row.
    const currentGids = new Set((await repo.listCurrentTasks(this.ctx.db, this.node)).map((r) => r.gid));
    const revived = all.filter(
      (s) =>
        ['active', 'waiting', 'paused'].includes(s.status) && owned.has(s.gid) && !currentGids.has(s.gid),
    );
    if (revived.length > 0) {
      this.ctx.logger.info(
        { count: revived.length },
        'stopping downloads of finished tasks that aria2 restarted',
      );
      await this.forget(revived.map((s) => s.gid));
    }

    // Downloads no task owns (a crash between a hand-over and its row, a deleted row) are removed,
    // unless a hand-over is running right now.
    if (this.deps.handingOver.size === 0) {
      const ownedNow = await repo.listOwnedGids(this.ctx.db, this.node);
      const orphans = all.filter(
        (s) =>
          !ownedNow.has(s.gid) &&
          !(s.following && ownedNow.has(s.following)) &&
          !(s.belongsTo && ownedNow.has(s.belongsTo)),
      );
      if (orphans.length > 0) {
        this.ctx.logger.info({ count: orphans.length }, 'removing downloads no task owns');
        await this.forget(orphans.map((s) => s.gid));
      }
    }
    // Slots may have been freed or taken while the controller was away from the daemon.
    await this.deps.admission.admit();
    if (waitingOrder) await this.recordPositions(waitingOrder);
    await this.updateBusy();
    return again;
  }

  /**
   * A download the daemon writes anywhere but its row's folder inside its owner's folder (an option
   * read back wrongly from a session file, a change made to the daemon directly) is removed from the
   * daemon, never resumed, and its row says why. Returns the updates that remain.
   */
  private async removeMisplaced(updates: Pair[]): Promise<Pair[]> {
    const now = nowIso();
    const misplaced = updates
      .map((u) => ({
        ...u,
        d: diff(u.row, u.status, now, this.deps.storage.daemonUserDir(u.row.node, u.row.owner_id)),
      }))
      .filter((u) => u.d.misplaced);
    if (misplaced.length === 0) return updates;
    this.ctx.logger.warn({ count: misplaced.length }, 'removing downloads aria2 writes outside their folder');
    await this.forget(misplaced.map((m) => m.status.gid));
    const stored = await syncRepo.writeSyncPatches(
      this.ctx.db,
      misplaced.map((m) => ({ row: m.row, patch: m.d.patch })),
    );
    this.emit(stored);
    const gone = new Set(misplaced.map((m) => m.row.id));
    return updates.filter((u) => !gone.has(u.row.id));
  }

  /** Hands current tasks the daemon no longer knows to it again, keeping each gid unless it is in use. */
  private async handOverAgain(rows: TaskRow[], gidsInUse: ReadonlySet<string>): Promise<void> {
    // A row marked since it was read is being stopped, deleted or handed over right now: its download
    // is gone on purpose.
    const lost = rows.filter((r) => !this.deps.handingOver.has(r.id));
    if (lost.length === 0) return;
    const now = nowIso();
    const written = await syncRepo.writeSyncPatches(
      this.ctx.db,
      lost.map((row) => ({
        row,
        patch: {
          gid: row.gid && !gidsInUse.has(row.gid) ? row.gid : newGid(),
          // It goes back paused: held again unless its owner paused it.
          held_for: row.status === 'paused' ? null : (row.held_for ?? 'queue'),
          updated_at: now,
        },
      })),
    );
    const fresh = written.filter((r) => !this.deps.handingOver.has(r.id));
    if (fresh.length === 0) return;
    this.ctx.logger.info({ count: fresh.length }, 'handing lost downloads to aria2 again');
    const stored = await this.deps.handOver.handOverRows(fresh);
    this.emit(stored);
  }

  /**
   * Applies the statuses of rows looked up one by one; a row whose gid the daemon no longer knows (its
   * result dropped, the daemon restarted) is handed over again rather than left current for ever.
   * Returns the gids to look at again.
   */
  private async applyLookedUp(rows: TaskRow[], told: ItemResult<DaemonStatus>[]): Promise<string[]> {
    const updates: Pair[] = [];
    const lost: TaskRow[] = [];
    rows.forEach((row, i) => {
      const s = told[i];
      if (s?.ok) updates.push({ row, status: s.value });
      else if (s?.error.kind === 'not_found') lost.push(row);
    });
    const again = await this.apply(updates);
    await this.handOverAgain(lost, new Set());
    return again;
  }

  private async updateBusy(): Promise<void> {
    this.busy = await syncRepo.hasRunningRow(this.ctx.db, this.node);
  }

  /** The progress pass: the daemon's active list plus a targeted look at rows that left it. */
  async poll(): Promise<string[]> {
    const rows = (await syncRepo.listRunningRows(this.ctx.db, this.node)).filter(
      (r) => r.gid && !this.deps.handingOver.has(r.id),
    );
    if (rows.length === 0) {
      this.busy = false;
      return [];
    }
    // Only the gids of the waiting: a waiting row that is in neither list changed state and is looked
    // up below.
    const snap = await this.gateway.snapshot({ session: true, active: 'progress', waiting: 'ids' });
    if (snap.sessionId && this.sessionId && snap.sessionId !== this.sessionId) {
      // The daemon restarted under us: reconcile everything.
      return this.reconcile();
    }
    const active = new Map((snap.active ?? []).map((s) => [s.gid, s] as const));
    const waitingOrder = (snap.waiting ?? []).map((w) => w.gid);
    const waiting = new Set(waitingOrder);
    // However the slot came free (a user deleted, a download removed in the daemon itself), held
    // downloads get their turn.
    if (snap.active) {
      if (active.size < this.activeCount) this.deps.admission.soon();
      this.activeCount = active.size;
    }
    const updates: Pair[] = [];
    const others: TaskRow[] = [];
    for (const row of rows) {
      const s = active.get(row.gid!);
      if (s) updates.push({ row, status: s });
      else if (row.status === 'active' || !waiting.has(row.gid!)) others.push(row);
    }
    const again = await this.apply(updates);
    if (others.length > 0) {
      const told = await this.gateway.statuses(
        others.map((r) => r.gid!),
        'sync',
      );
      again.push(...(await this.applyLookedUp(others, told)));
    }
    if (snap.waiting) await this.recordPositions(waitingOrder);
    await this.updateBusy();
    return again;
  }

  /** The targeted pass after notifications. Returns the gids to look at again shortly. */
  async refresh(gids: readonly string[]): Promise<string[]> {
    if (gids.length === 0) return [];
    const rows = await syncRepo.listRowsByGids(this.ctx.db, gids, this.node);
    // A row being handed over is written by the hand-over right now: look again once it is done.
    // Dropping the news would leave a download that started and finished meanwhile `waiting` for ever
    // (the poll only looks at the daemon's active list, and no further notification comes).
    const again: string[] = [];
    for (const r of rows) {
      if (!this.deps.handingOver.has(r.id)) continue;
      for (const gid of [r.gid, r.origin_gid]) if (gid && gids.includes(gid)) again.push(gid);
    }
    const current = rows.filter(
      (r) =>
        r.gid &&
        !this.deps.handingOver.has(r.id) &&
        ['queued', 'active', 'waiting', 'paused'].includes(r.status),
    );
    if (current.length === 0) return again;
    const told = await this.gateway.statuses(
      current.map((r) => r.gid!),
      'sync',
    );
    again.push(...(await this.applyLookedUp(current, told)));
    await this.updateBusy();
    return again;
  }

  /**
   * Turns the daemon's view into row changes (domain/sync.ts), then does what they call for: size
   * checks against the owner's space, moving finished downloads into the user's folder, forgetting
   * failures, following metadata downloads to the real one. Returns the gids to look at again.
   */
  private async apply(updates: Pair[]): Promise<string[]> {
    if (updates.length === 0) return [];
    const now = nowIso();
    const patches: { row: TaskRow; patch: repo.TaskPatch; usedDelta: number }[] = [];
    const followUps: string[] = [];
    const cancel: string[] = [];
    const failed: string[] = [];
    const settings = this.ctx.settings.get();
    // Reservations grown in this pass, per owner: the rows are written only after the loop, so two
    // downloads whose sizes become known together still count against each other.
    const grown = new Map<number, number>();
    let seeding = false;

    for (const { row, status } of updates) {
      const d: SyncDiff = diff(row, status, now);
      const patch: repo.TaskPatch = d.patch;
      let usedDelta = 0;
      if (d.follow) followUps.push(d.follow);
      if (d.status === 'active')
        this.deps.speeds.record(row.id, status.downloadSpeed, status.uploadSpeed, now);
      else if (d.status) this.deps.speeds.drop(row.id);
      if (d.recheckSize !== null) {
        const sizeKnown = status.totalLength > 0;
        const size = d.recheckSize;
        // The space the user's other downloads take (their bytes and reservations): this row's own
        // bytes and reservation are what the new size replaces.
        const space = await spaceRepo.usedSpace(this.ctx.db, row.owner_id);
        const own = reservation(row.total_length, row.completed_length);
        const reason = sizeOverLimit(
          {
            maxTaskSize: settings.max_task_size,
            quota: space?.quota ?? 0,
            usedSpace: Math.max(0, (space?.used ?? 0) - row.completed_length),
            reserved: Math.max(0, (space?.reserved ?? 0) - own + (grown.get(row.owner_id) ?? 0)),
          },
          size,
        );
        if (!reason && sizeKnown) {
          const delta = reservation(size, status.completedLength) - own;
          grown.set(row.owner_id, (grown.get(row.owner_id) ?? 0) + delta);
        }
        if (reason) {
          cancel.push(status.gid);
          Object.assign(patch, {
            status: 'error',
            error: reason,
            error_code: null,
            download_speed: 0,
            upload_speed: 0,
            finished_at: now,
          });
        }
      }
      if (d.failed) failed.push(status.gid);
      if (d.seeds && !patch.error) {
        Object.assign(patch, this.artifactInPlace(row, status));
        seeding = true;
      }
      if (d.completes) {
        const finished = await this.finish(row, status);
        Object.assign(patch, finished, { finished_at: now });
        usedDelta = finished.counted_bytes ?? 0;
      }
      if (Object.keys(patch).length > 0) patches.push({ row, patch, usedDelta });
    }

    if (cancel.length > 0) await this.forget(cancel);
    if (patches.length > 0) {
      const stored = await syncRepo.writeSyncPatches(this.ctx.db, patches);
      this.emit(stored);
    }
    // The daemon saves failed downloads in its session and runs them again at its next start; the row
    // keeps the failure, so the daemon forgets it (a retry is a new download).
    if (failed.length > 0) await this.forget(failed, { stopped: true });
    // A seeding torrent takes no download slot (aria2 runs with --bt-detach-seed-only): one is free.
    if (seeding) this.deps.admission.soon();
    if (followUps.length > 0) return this.refresh(followUps);
    return [];
  }

  /**
   * A followed .torrent URL leaves the .torrent file the daemon fetched in the task folder: it is not
   * part of the download, and nothing would ever count or remove it.
   */
  private async removeOriginFiles(row: TaskRow): Promise<void> {
    const [got] = await this.gateway.files([row.origin_gid!]).catch((err: unknown) => {
      this.ctx.logger.debug({ err: String(err) }, 'could not list the files of a metadata download');
      return [];
    });
    const entries = Storage.topEntries(row.dir, got?.ok ? got.value : [], null);
    if (entries.length > 0) await this.deps.storage.removeEntries(row.node, row.dir, entries);
  }

  /**
   * A torrent that seeds is done for its owner: its artifact is its one top entry where aria2 reads it
   * (under `.incomplete/`), relative to the user's folder. It moves when seeding ends (finish).
   */
  private artifactInPlace(row: TaskRow, status: DaemonStatus): repo.TaskPatch {
    const entries = Storage.topEntries(row.dir, status.files, row.name);
    if (entries.length !== 1) return {};
    return {
      artifact_path: path.relative(
        this.deps.storage.daemonUserDir(row.node, row.owner_id),
        path.join(row.dir, entries[0]!),
      ),
      artifact_token: randomBytes(24).toString('base64url'),
    };
  }

  /** Moves a finished download into the user's folder and gives it its artifact token. */
  private async finish(row: TaskRow, status: DaemonStatus): Promise<repo.TaskPatch> {
    const entries = Storage.topEntries(row.dir, status.files, row.name);
    let artifact: string | null = null;
    try {
      if (entries.length === 1) {
        artifact = await this.deps.storage.moveFinished(row, entries[0]!);
      }
    } catch (err) {
      this.ctx.logger.warn(
        { task: row.id, err: (err as Error).message },
        'could not move a finished download',
      );
    }
    // Left where it is: the artifact path is still relative to the user's folder (the task folder is
    // `.incomplete/<gid>/`, not `.incomplete/`).
    if (!artifact && entries.length === 1) {
      artifact = path.relative(
        this.deps.storage.daemonUserDir(row.node, row.owner_id),
        path.join(row.dir, entries[0]!),
      );
    }
    if (artifact && row.origin_gid) await this.removeOriginFiles(row);
    return {
      artifact_path: artifact,
      // A torrent that seeded keeps the token its owner has had since: the same link downloads it.
      artifact_token: artifact ? (row.artifact_token ?? randomBytes(24).toString('base64url')) : null,
      counted_bytes: status.totalLength,
      // Partial bytes of this row were counted live; from now on the folder total holds them.
      completed_length: status.completedLength,
      download_speed: 0,
      upload_speed: 0,
      error: null,
    };
  }
}
