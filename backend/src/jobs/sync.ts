import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Aria2Notification, Call } from '../aria2/client.js';
import { type Aria2Status, PROGRESS_KEYS, parseStatus, SYNC_KEYS } from '../aria2/types.js';
import { reservation, sizeOverLimit } from '../domain/size.js';
import { statusFromAria2 } from '../domain/task-status.js';
import { nowIso } from '../domain/time.js';
import { maskUrisIn } from '../domain/uri.js';
import * as spaceRepo from '../repositories/space.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import type { ServiceContext } from '../services/context.js';
import { newGid } from '../services/handover.js';
import { Storage } from '../services/storage.js';
import type { TasksService } from '../services/tasks.js';

/** How often progress is refreshed while anything runs. */
const POLL_INTERVAL_MS = 1000;
/** Notifications arriving together are folded into one targeted pass. */
const NOTIFY_DEBOUNCE_MS = 20;

const FIELDS = [
  'gid',
  'origin_gid',
  'status',
  'name',
  'total_length',
  'completed_length',
  'download_speed',
  'upload_speed',
  'error',
  'info_hash',
] as const;

/**
 * The sync engine: keeps the task rows in step with aria2.
 * - A full reconcile on every (re)connection: every current task is matched to aria2's downloads by gid
 *   (or info hash); one aria2 no longer knows is handed over again; downloads no task owns are removed.
 * - Notifications are hints: they trigger a targeted tellStatus of their gids.
 * - While anything is active or waiting, one multicall a second refreshes progress; nothing is polled
 *   while nothing runs.
 * Changes are written in one transaction per pass and emitted as task events.
 */
export class SyncEngine {
  private pollTimer: NodeJS.Timeout | null = null;
  private notifyTimer: NodeJS.Timeout | null = null;
  private readonly dirty = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  private sessionId: string | null = null;
  /** Whether the last pass saw active or waiting rows: the poll runs only then. */
  private busy = false;
  /** aria2's active downloads at the last poll: fewer now means a slot came free. */
  private activeCount = 0;
  private readonly onConnected = () => this.enqueue(() => this.reconcile());
  private readonly onNotification = (n: Aria2Notification) => this.markDirty(n.gid);
  private readonly onTaskUpdate = (row: TaskRow) => {
    if ((row.status === 'active' || row.status === 'waiting') && !this.busy) {
      this.busy = true;
      this.schedulePoll();
    }
  };

  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: TasksService,
  ) {}

  start(): void {
    this.stopped = false;
    this.ctx.aria2.on('connected', this.onConnected);
    this.ctx.aria2.on('notification', this.onNotification);
    this.ctx.events.on('task_update', this.onTaskUpdate);
    this.tasks.admission.start();
    if (this.ctx.aria2.connected) this.onConnected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ctx.aria2.off('connected', this.onConnected);
    this.ctx.aria2.off('notification', this.onNotification);
    this.ctx.events.off('task_update', this.onTaskUpdate);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.pollTimer = null;
    this.notifyTimer = null;
    await this.running;
    await this.tasks.admission.stop();
  }

  /** Schedules a targeted pass for a gid (notifications arriving together share one pass). */
  private markDirty(gid: string): void {
    if (this.stopped) return;
    this.dirty.add(gid);
    if (!this.notifyTimer) {
      this.notifyTimer = setTimeout(() => {
        this.notifyTimer = null;
        this.enqueue(() => this.refreshDirty());
      }, NOTIFY_DEBOUNCE_MS);
    }
  }

  /** Passes never overlap: each waits for the one before. */
  private enqueue(pass: () => Promise<void>): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped || !this.ctx.aria2.connected) return;
      try {
        await pass();
      } catch (err) {
        this.ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sync pass failed');
      }
    });
    return this.running;
  }

  /** Runs a full reconcile now (tests and start-up use it to wait for a settled state). */
  reconcileNow(): Promise<void> {
    return this.enqueue(() => this.reconcile());
  }

  /** Runs one progress pass now. */
  pollNow(): Promise<void> {
    return this.enqueue(() => this.poll());
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.enqueue(() => this.poll()).then(() => {
        if (this.busy) this.schedulePoll();
      });
    }, POLL_INTERVAL_MS);
  }

  /** tellStatus of many gids in one multicall: a status, 'gone' when aria2 no longer knows the gid, or null. */
  private async statuses(gids: readonly string[]): Promise<(Aria2Status | 'gone' | null)[]> {
    const results = await this.ctx.aria2.multicall(
      gids.map((gid) => ({ method: 'aria2.tellStatus', params: [gid, SYNC_KEYS] })),
    );
    return results.map((r) => {
      if (r.ok) return parseStatus(r.value);
      return /no such download|not found/i.test(r.error.reason) ? 'gone' : null;
    });
  }

  /** Everything aria2 holds, in one multicall. */
  private async everything(): Promise<{
    all: Aria2Status[];
    waitingOrder: string[] | null;
    sessionId: string | null;
  }> {
    const results = await this.ctx.aria2.multicall([
      { method: 'aria2.tellActive', params: [SYNC_KEYS] },
      { method: 'aria2.tellWaiting', params: [0, 100_000, SYNC_KEYS] },
      { method: 'aria2.tellStopped', params: [0, 100_000, SYNC_KEYS] },
      { method: 'aria2.getSessionInfo', params: [] },
    ]);
    const all: Aria2Status[] = [];
    for (const r of results.slice(0, 3)) if (r.ok) all.push(...(r.value as unknown[]).map(parseStatus));
    const info = results[3];
    const waitingOrder = results[1]?.ok ? (results[1].value as { gid: string }[]).map((w) => w.gid) : null;
    return {
      all,
      waitingOrder,
      sessionId: info?.ok ? (info.value as { sessionId: string }).sessionId : null,
    };
  }

  private async reconcile(): Promise<void> {
    const { all, waitingOrder, sessionId } = await this.everything();
    this.sessionId = sessionId;
    const byGid = new Map(all.map((s) => [s.gid, s]));
    const rows = (await repo.listCurrentTasks(this.ctx.db)).filter((r) => !this.tasks.handingOver.has(r.id));
    const owned = await repo.listOwnedGids(this.ctx.db);

    const updates: { row: TaskRow; status: Aria2Status }[] = [];
    const lost: TaskRow[] = [];
    const adopted = new Set<string>();
    for (const row of rows) {
      let status = row.gid ? byGid.get(row.gid) : undefined;
      if (!status && row.info_hash) {
        // After an aria2 restart a magnet or torrent may come back under a new gid: match by info hash.
        status = all.find((s) => s.infoHash === row.info_hash && !owned.has(s.gid) && !adopted.has(s.gid));
        if (status) adopted.add(status.gid);
      }
      if (status) updates.push({ row, status });
      else lost.push(row);
    }
    const kept = await this.removeMisplaced(updates);
    await this.tasks.admission.holdRestored(kept);
    await this.apply(kept);

    // A current task aria2 no longer knows is handed over again from its stored source.
    await this.handOverAgain(lost, new Set(byGid.keys()));

    // aria2's session brings failed downloads back to life at its start: a finished, failed or stopped
    // task's download must not run again behind its row.
    const currentGids = new Set((await repo.listCurrentTasks(this.ctx.db)).map((r) => r.gid));
    const revived = all.filter(
      (s) =>
        ['active', 'waiting', 'paused'].includes(s.status) && owned.has(s.gid) && !currentGids.has(s.gid),
    );
    if (revived.length > 0) {
      this.ctx.logger.info(
        { count: revived.length },
        'stopping downloads of finished tasks that aria2 restarted',
      );
      await this.tasks.forgetInAria2(revived.map((s) => s.gid));
    }

    // Downloads no task owns (a crash between a hand-over and its row, a deleted row) are removed,
    // unless a hand-over is running right now.
    if (this.tasks.handingOver.size === 0) {
      const ownedNow = await repo.listOwnedGids(this.ctx.db);
      const orphans = all.filter(
        (s) =>
          !ownedNow.has(s.gid) &&
          !(s.following && ownedNow.has(s.following)) &&
          !(s.belongsTo && ownedNow.has(s.belongsTo)),
      );
      if (orphans.length > 0) {
        this.ctx.logger.info({ count: orphans.length }, 'removing downloads no task owns');
        await this.tasks.forgetInAria2(orphans.map((s) => s.gid));
      }
    }
    // Slots may have been freed or taken while the controller was away from aria2.
    await this.tasks.admission.admit();
    if (waitingOrder) await this.tasks.recordPositions(waitingOrder);
    await this.updateBusy();
  }

  /**
   * A download aria2 writes anywhere but its row's folder inside its owner's folder (an option read
   * back wrongly from aria2's session file, a change made to aria2 directly) is removed from aria2,
   * never resumed, and its row says why. Returns the updates that remain.
   */
  private async removeMisplaced(
    updates: { row: TaskRow; status: Aria2Status }[],
  ): Promise<{ row: TaskRow; status: Aria2Status }[]> {
    const misplaced = updates.filter(({ row, status }) => !inOwnFolder(row, status, this.tasks.storage));
    if (misplaced.length === 0) return updates;
    this.ctx.logger.warn({ count: misplaced.length }, 'removing downloads aria2 writes outside their folder');
    await this.tasks.forgetInAria2(misplaced.map((m) => m.status.gid));
    const now = nowIso();
    const stored = await this.ctx.db.transaction().execute(async (trx) => {
      const out: TaskRow[] = [];
      for (const { row } of misplaced) {
        const updated = await repo.updateTask(trx, row.id, {
          status: 'error',
          error: MISPLACED_ERROR,
          download_speed: 0,
          upload_speed: 0,
          finished_at: now,
          updated_at: now,
        });
        if (updated) out.push(updated);
      }
      return out;
    });
    for (const r of stored) this.tasks.emitUpdate(r);
    return updates.filter((u) => !misplaced.includes(u));
  }

  /** Hands current tasks aria2 no longer knows to it again, keeping each gid unless aria2 uses it. */
  private async handOverAgain(lost: TaskRow[], gidsInUse: ReadonlySet<string>): Promise<void> {
    if (lost.length === 0) return;
    const now = nowIso();
    const fresh = await this.ctx.db.transaction().execute(async (trx) => {
      const out: TaskRow[] = [];
      for (const row of lost) {
        const gid = row.gid && !gidsInUse.has(row.gid) ? row.gid : newGid();
        // It goes back paused: held again unless its owner paused it.
        const held_for = row.status === 'paused' ? null : (row.held_for ?? 'queue');
        out.push((await repo.updateTask(trx, row.id, { gid, held_for, updated_at: now }))!);
      }
      return out;
    });
    this.ctx.logger.info({ count: fresh.length }, 'handing lost downloads to aria2 again');
    const stored = await this.tasks.handOverRows(fresh);
    for (const r of stored) this.tasks.emitUpdate(r);
  }

  /**
   * Applies the statuses of rows looked up one by one; a row whose gid aria2 no longer knows (its
   * result dropped, aria2 restarted) is handed over again rather than left current for ever.
   */
  private async applyLookedUp(rows: TaskRow[], told: (Aria2Status | 'gone' | null)[]): Promise<void> {
    const updates: { row: TaskRow; status: Aria2Status }[] = [];
    const lost: TaskRow[] = [];
    rows.forEach((row, i) => {
      const s = told[i];
      if (s === 'gone') lost.push(row);
      else if (s) updates.push({ row, status: s });
    });
    await this.apply(updates);
    await this.handOverAgain(lost, new Set());
  }

  private async updateBusy(): Promise<void> {
    const running = await this.ctx.db
      .selectFrom('tasks')
      .select('id')
      .where('status', 'in', ['active', 'waiting'])
      .limit(1)
      .executeTakeFirst();
    this.busy = !!running;
    if (this.busy) this.schedulePoll();
  }

  /** The progress pass: aria2's active list plus a targeted look at rows that left it. */
  private async poll(): Promise<void> {
    const rows = (
      await this.ctx.db.selectFrom('tasks').selectAll().where('status', 'in', ['active', 'waiting']).execute()
    ).filter((r) => r.gid && !this.tasks.handingOver.has(r.id));
    if (rows.length === 0) {
      this.busy = false;
      return;
    }
    const calls: Call[] = [
      { method: 'aria2.getSessionInfo', params: [] },
      { method: 'aria2.tellActive', params: [PROGRESS_KEYS] },
      // Only the gids: a waiting row that is in neither list changed state and is looked up below.
      { method: 'aria2.tellWaiting', params: [0, 100_000, ['gid']] },
    ];
    const results = await this.ctx.aria2.multicall(calls);
    const session = results[0]?.ok ? (results[0].value as { sessionId: string }).sessionId : null;
    if (session && this.sessionId && session !== this.sessionId) {
      // aria2 restarted under us: reconcile everything.
      await this.reconcile();
      return;
    }
    const active = new Map(
      (results[1]?.ok ? (results[1].value as unknown[]) : []).map((raw) => {
        const s = parseStatus(raw);
        return [s.gid, s] as const;
      }),
    );
    const waitingOrder = (results[2]?.ok ? (results[2].value as { gid: string }[]) : []).map((w) => w.gid);
    const waiting = new Set(waitingOrder);
    // However the slot came free (a user deleted, a download removed in aria2 itself), held downloads
    // get their turn.
    if (results[1]?.ok && active.size < this.activeCount) this.tasks.admission.soon();
    if (results[1]?.ok) this.activeCount = active.size;
    const updates: { row: TaskRow; status: Aria2Status }[] = [];
    const others: TaskRow[] = [];
    for (const row of rows) {
      const s = active.get(row.gid!);
      if (s) updates.push({ row, status: s });
      else if (row.status === 'active' || !waiting.has(row.gid!)) others.push(row);
    }
    await this.apply(updates);
    if (others.length > 0) await this.applyLookedUp(others, await this.statuses(others.map((r) => r.gid!)));
    if (results[2]?.ok) await this.tasks.recordPositions(waitingOrder);
    await this.updateBusy();
  }

  /** The targeted pass after notifications. */
  private async refreshDirty(): Promise<void> {
    const gids = [...this.dirty];
    this.dirty.clear();
    if (gids.length === 0) return;
    const rows = await this.ctx.db
      .selectFrom('tasks')
      .selectAll()
      .where((eb) => eb.or([eb('gid', 'in', gids), eb('origin_gid', 'in', gids)]))
      .execute();
    // A row being handed over is written by the hand-over right now: look again once it is done.
    // Dropping the news would leave a download that started and finished meanwhile `waiting` for ever
    // (the poll only looks at aria2's active list, and no further notification comes).
    for (const r of rows) {
      if (!this.tasks.handingOver.has(r.id)) continue;
      for (const gid of [r.gid, r.origin_gid]) if (gid && gids.includes(gid)) this.markDirty(gid);
    }
    const current = rows.filter(
      (r) =>
        r.gid &&
        !this.tasks.handingOver.has(r.id) &&
        ['queued', 'active', 'waiting', 'paused'].includes(r.status),
    );
    if (current.length === 0) return;
    await this.applyLookedUp(current, await this.statuses(current.map((r) => r.gid!)));
    await this.updateBusy();
  }

  /**
   * Turns aria2's view into row changes: follows metadata downloads to the real one, moves finished
   * downloads into the user's folder, re-checks sizes once known, and writes only what changed.
   */
  private async apply(updates: { row: TaskRow; status: Aria2Status }[]): Promise<void> {
    if (updates.length === 0) return;
    const now = nowIso();
    const patches: { row: TaskRow; patch: repo.TaskPatch; usedDelta: number }[] = [];
    const followUps: string[] = [];
    const cancel: string[] = [];
    const failed: string[] = [];
    const settings = this.ctx.settings.get();
    // Reservations grown in this pass, per owner: the rows are written only after the loop, so two
    // downloads whose sizes become known together still count against each other.
    const grown = new Map<number, number>();

    for (const { row, status } of updates) {
      const patch: repo.TaskPatch = {};
      let usedDelta = 0;
      if (status.gid !== row.gid) patch.gid = status.gid;
      const followed = status.followedBy?.[0];
      if (status.status === 'complete' && followed) {
        // A magnet's metadata or a .torrent file finished: the task follows the real download.
        patch.gid = followed;
        patch.origin_gid = row.origin_gid ?? status.gid;
        patch.status = 'active';
        followUps.push(followed);
      } else {
        const s = statusFromAria2(status.status, row.held_for !== null);
        patch.status = s;
        // aria2 says 0 until it knows the size (a waiting download, or a paused one it has not opened
        // since a restart): the row keeps the size it knows (a HEAD's, a torrent's, the last seen), so it
        // stays reserved and shown; an unopened download keeps its progress too, as resuming goes on.
        const unopened = status.totalLength === 0 && status.completedLength === 0 && s !== 'complete';
        if (status.totalLength > 0 || row.total_length === 0) patch.total_length = status.totalLength;
        patch.completed_length = unopened ? row.completed_length : status.completedLength;
        patch.download_speed = s === 'active' ? status.downloadSpeed : 0;
        patch.upload_speed = s === 'active' ? status.uploadSpeed : 0;
        if (s === 'active') this.tasks.speeds.record(row.id, status.downloadSpeed, status.uploadSpeed, now);
        else this.tasks.speeds.drop(row.id);
        const name = nameOf(row, status);
        if (name) patch.name = name;
        if (status.infoHash) patch.info_hash = status.infoHash;
        patch.error =
          s === 'error'
            ? maskUrisIn(status.errorMessage || `aria2 error ${status.errorCode ?? 'unknown'}`)
            : s === 'removed'
              ? null
              : null;
        if (s === 'error' || s === 'removed') patch.finished_at = now;
        // Tells a passing failure from a lasting one for the auto-retry (services/auto-retry.ts).
        patch.error_code = s === 'error' ? (status.errorCode ?? null) : null;

        // The size became known (a magnet's metadata, a server without HEAD): check it again. A server
        // that sends no length at all leaves totalLength at 0 until the end: the bytes so far are then a
        // lower bound of the size, checked as they grow, so such a download cannot outgrow the limits.
        const sizeKnown = status.totalLength > 0;
        const size = sizeKnown ? status.totalLength : status.completedLength;
        if (
          (s === 'active' || s === 'waiting' || s === 'paused') &&
          size > 0 &&
          (sizeKnown
            ? row.total_length !== status.totalLength
            : row.completed_length !== status.completedLength)
        ) {
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

        if (s === 'error') failed.push(status.gid);
        if (s === 'complete' && row.status !== 'complete') {
          const finished = await this.finish(row, status);
          Object.assign(patch, finished, { finished_at: now });
          usedDelta = finished.counted_bytes ?? 0;
        }
      }
      if (changed(row, patch)) {
        patch.updated_at = now;
        patches.push({ row, patch, usedDelta });
      }
    }

    if (cancel.length > 0) await this.tasks.forgetInAria2(cancel);
    if (patches.length > 0) {
      const stored = await this.ctx.db.transaction().execute(async (trx) => {
        const out: TaskRow[] = [];
        for (const { row, patch, usedDelta } of patches) {
          const updated = await repo.updateTask(trx, row.id, patch);
          if (usedDelta) await spaceRepo.addUsedSpace(trx, row.owner_id, usedDelta);
          if (updated) out.push(updated);
        }
        return out;
      });
      for (const r of stored) this.tasks.emitUpdate(r);
    }
    // aria2 saves failed downloads in its session and runs them again at its next start; the row keeps
    // the failure, so aria2 forgets it (a retry is a new download).
    if (failed.length > 0) await this.tasks.forgetInAria2(failed, { stopped: true });
    if (followUps.length > 0) {
      for (const gid of followUps) this.dirty.add(gid);
      await this.refreshDirty();
    }
  }

  /**
   * A followed .torrent URL leaves the .torrent file aria2 fetched in the task folder: it is not part of
   * the download, and nothing would ever count or remove it.
   */
  private async removeOriginFiles(row: TaskRow): Promise<void> {
    const files = await this.ctx.aria2.getFiles(row.origin_gid!).catch(() => []);
    const entries = Storage.topEntries(row.dir, files, null);
    if (entries.length > 0) await this.tasks.storage.removeEntries(row.dir, entries);
  }

  /** Moves a finished download into the user's folder and gives it its artifact token. */
  private async finish(row: TaskRow, status: Aria2Status): Promise<repo.TaskPatch> {
    const entries = Storage.topEntries(row.dir, status.files, row.name);
    let artifact: string | null = null;
    try {
      if (entries.length === 1) {
        artifact = await this.tasks.storage.moveFinished(row.owner_id, row.dir, entries[0]!);
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
      artifact = path.relative(this.tasks.storage.userDir(row.owner_id), path.join(row.dir, entries[0]!));
    }
    if (artifact && row.origin_gid) await this.removeOriginFiles(row);
    return {
      artifact_path: artifact,
      artifact_token: artifact ? randomBytes(24).toString('base64url') : null,
      counted_bytes: status.totalLength,
      // Partial bytes of this row were counted live; from now on the folder total holds them.
      completed_length: status.completedLength,
      download_speed: 0,
      upload_speed: 0,
      error: null,
    };
  }
}

export const MISPLACED_ERROR =
  'aria2 was writing this download outside its folder; it was removed from aria2 and not resumed';

/** aria2's folder of a download is its row's folder, and that lies inside the owner's folder. */
function inOwnFolder(row: TaskRow, status: Aria2Status, storage: Storage): boolean {
  if (status.dir === undefined) return true;
  const dir = path.resolve(status.dir);
  if (dir !== path.resolve(row.dir)) return false;
  const rel = path.relative(path.resolve(storage.userDir(row.owner_id)), dir);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The name aria2 gives a download: the torrent's name, or the first file's name under the task folder. */
function nameOf(row: TaskRow, status: Aria2Status): string | null {
  const btName = status.bittorrent?.info?.name;
  if (btName) return btName;
  const first = status.files[0]?.path;
  if (first && !first.startsWith('[METADATA]')) {
    const rel = path.relative(row.dir, first);
    if (rel && !rel.startsWith('..')) return rel.split(path.sep)[0]!;
    return path.basename(first);
  }
  return null;
}

function changed(row: TaskRow, patch: repo.TaskPatch): boolean {
  for (const key of [...FIELDS, 'artifact_path', 'artifact_token', 'finished_at', 'counted_bytes'] as const) {
    if (key in patch && (patch as Record<string, unknown>)[key] !== (row as Record<string, unknown>)[key])
      return true;
  }
  return false;
}
