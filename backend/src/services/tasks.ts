import path from 'node:path';
import { Aria2Error } from '../aria2/errors.js';
import type { Aria2Status } from '../aria2/types.js';
import {
  type AddExtras,
  type ListTasksQuery,
  selectFileOption,
  type Task,
  type TaskFile,
  type TaskOptions,
} from '../contracts/tasks.js';
import {
  BadRequestError,
  ConflictError,
  DependencyError,
  DuplicateError,
  InvalidInputError,
  NotFoundError,
  taskNotFound,
  tooManyCurrentTasks,
} from '../domain/errors.js';
import { publicMessage } from '../domain/messages.js';
import { availableSpace, checkSpaceBeforeAdd, type SpaceLimits, withReserved } from '../domain/size.js';
import { isCurrent, statusFromAria2, TORRENT_URI } from '../domain/task-status.js';
import { nowIso } from '../domain/time.js';
import { parseTorrent } from '../domain/torrent.js';
import {
  ALLOWED_SCHEMES,
  MAX_URI_LENGTH,
  magnetInfoHash,
  maskUri,
  maskUrisIn,
  nameFromUri,
  uriScheme,
} from '../domain/uri.js';
import { EgressGuard } from '../egress/guard.js';
import { deleteSharesUnder } from '../repositories/shares.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import { Admission } from './admission.js';
import type { Actor, ServiceContext } from './context.js';
import { aria2OptionsFor, handOver, newGid, storedOptions } from './handover.js';
import { guardHost, guardSources, probeSize } from './network.js';
import { recordQueuePositions } from './queue-order.js';
import { SpeedHistory } from './speed-history.js';
import { Storage } from './storage.js';
import { filesOf, filesOnDisk, peersOf, serversOf } from './task-detail.js';

/** How many HEAD requests a batch (of adds or retries) sends at once. */
export const HEAD_CONCURRENCY = 32;

/** Runs `fn` over items with at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** The indexes of aria2's `select-file` value ("1,3"). */
function selectedIndexes(value: string): number[] {
  return value.split(',').map(Number);
}

/** A URI the controller accepts: a known scheme, parseable, with a host (or a magnet with an info hash). */
export function validateUri(uri: string): string {
  const trimmed = uri.trim();
  if (trimmed.length === 0) throw new InvalidInputError('Invalid uri: it is empty');
  if (trimmed.length > MAX_URI_LENGTH) throw new InvalidInputError('Invalid uri: it is longer than 16 KiB');
  if (/[\s\0]/.test(trimmed))
    throw new InvalidInputError('Invalid uri: it contains white space or control characters');
  const scheme = uriScheme(trimmed);
  if (!scheme || !(ALLOWED_SCHEMES as readonly string[]).includes(scheme)) {
    throw new InvalidInputError(`Invalid uri: the scheme must be one of ${ALLOWED_SCHEMES.join(', ')}`);
  }
  if (scheme === 'magnet') {
    if (!magnetInfoHash(trimmed))
      throw new InvalidInputError('Invalid uri: a magnet link needs xt=urn:btih:<info hash>');
    return trimmed;
  }
  try {
    const url = new URL(trimmed);
    if (!url.hostname) throw new Error('no host');
  } catch {
    throw new InvalidInputError('Invalid uri: it is not a valid URL');
  }
  return trimmed;
}

export const DUPLICATE_SENTENCE = new DuplicateError(0).detail;

/**
 * Downloads: adding, listing, controlling and deleting a user's tasks. Every method takes the acting
 * user first; ownership lives in the repository queries, so a foreign task is simply not found.
 */
export class TasksService {
  readonly storage: Storage;
  /** Task ids being handed to aria2 (or taken out of it) right now; the sync engine leaves them alone. */
  readonly handingOver = new Set<number>();
  /** The network guard every add, retry and size check goes through. */
  readonly guard: EgressGuard;
  /** Lets held downloads start, fairly between users (services/admission.ts). */
  readonly admission: Admission;
  /** The last few minutes of each running task's speed, for the task page's chart. */
  readonly speeds = new SpeedHistory();

  constructor(private readonly ctx: ServiceContext) {
    this.storage = new Storage(ctx.config.downloadDir);
    this.guard =
      ctx.egress ?? new EgressGuard({ allowPrivate: () => ctx.settings.get().allow_private_network });
    this.admission = new Admission(ctx, this.handingOver);
  }

  // ---- events -------------------------------------------------------------------------------

  emitUpdate(row: TaskRow): void {
    this.ctx.events.emit('task_update', row);
  }

  /** Records aria2's queue order (its waiting gids, in order) on the rows and tells their owners. */
  async recordPositions(waitingGids: readonly string[]): Promise<void> {
    for (const r of await recordQueuePositions(this.ctx.db, waitingGids)) this.emitUpdate(r);
  }

  emitRemoved(ownerId: number, id: number, replacedBy?: number): void {
    this.ctx.events.emit('task_removed', ownerId, id, replacedBy);
  }

  // ---- checks -------------------------------------------------------------------------------

  async spaceLimits(userId: number): Promise<SpaceLimits> {
    const settings = this.ctx.settings.get();
    const [disk, space] = await Promise.all([this.storage.freeDisk(), repo.usedSpace(this.ctx.db, userId)]);
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
   * `limits` with the user's quota, used space and reservations read again in `trx`, the transaction
   * that inserts the new rows: what a concurrent add reserved meanwhile counts, and nothing can
   * reserve between this check and the insert.
   */
  async spaceLimitsIn(trx: repo.Runner, userId: number, limits: SpaceLimits): Promise<SpaceLimits> {
    const space = await repo.usedSpace(trx, userId);
    return {
      ...limits,
      quota: space?.quota ?? 0,
      usedSpace: space?.used ?? 0,
      reserved: space?.reserved ?? 0,
    };
  }

  /** The size a HEAD reports for http(s) URIs (null when unknown or not http). */
  probe(uri: string): Promise<number | null> {
    if (!/^https?:/i.test(uri)) return Promise.resolve(null);
    return probeSize(uri, { guard: this.guard });
  }

  /**
   * The checks before adding one URI: disk, then size over the maximum, then size over the quota left.
   * Returns the size the HEAD reported (null when unknown), which the new row reserves.
   */
  async checkBeforeAdd(actor: Actor, uri: string, limits?: SpaceLimits): Promise<number | null> {
    const l = limits ?? (await this.spaceLimits(actor.id));
    checkSpaceBeforeAdd(l, null);
    const size = await this.probe(uri);
    checkSpaceBeforeAdd(l, size);
    return size;
  }

  /**
   * How many more current tasks the user may add (max_current_tasks_per_user). Called inside the
   * transaction that inserts them, so concurrent adds cannot both take the last place.
   */
  private async currentTasksRoom(trx: repo.Runner, userId: number): Promise<number> {
    const limit = this.ctx.settings.get().max_current_tasks_per_user;
    return Math.max(0, limit - (await repo.countCurrentTasks(trx, userId)));
  }

  /**
   * Inserts one new row, reserving its known size (`total_length`), unless it no longer fits the
   * space left after what the user's other downloads reserve, or the user is at the current-tasks
   * limit (403 either way). The check and the insert share one transaction, so concurrent adds
   * cannot both take the same space or place.
   */
  private insertChecked(actor: Actor, limits: SpaceLimits, row: repo.NewTaskRow): Promise<TaskRow> {
    return this.ctx.db.transaction().execute(async (trx) => {
      checkSpaceBeforeAdd(await this.spaceLimitsIn(trx, actor.id, limits), row.total_length || null);
      if ((await this.currentTasksRoom(trx, actor.id)) < 1) {
        throw tooManyCurrentTasks(this.ctx.settings.get().max_current_tasks_per_user);
      }
      return repo.insertTask(trx, row);
    });
  }

  // ---- adding -------------------------------------------------------------------------------

  /** Refuses an add that one of the caller's current tasks already downloads, unless allowed. */
  private async refuseDuplicate(
    actor: Actor,
    uri: string | null,
    infoHash: string | null,
    extras: AddExtras | undefined,
  ): Promise<void> {
    if (extras?.allow_duplicate) return;
    const existing = await repo.findCurrentDuplicate(this.ctx.db, actor.id, uri, infoHash);
    if (existing !== undefined) throw new DuplicateError(existing);
  }

  private newRow(
    actor: Actor,
    fields: { uri: string; name: string | null; options: TaskOptions | undefined; autoRetry?: number },
  ): repo.NewTaskRow {
    const now = nowIso();
    const gid = newGid();
    return {
      owner_id: actor.id,
      gid,
      uri: fields.uri,
      display_uri: fields.uri === TORRENT_URI ? TORRENT_URI : maskUri(fields.uri),
      status: 'queued',
      name: fields.options?.out ?? fields.name,
      created_at: now,
      updated_at: now,
      options: JSON.stringify(fields.options ?? {}),
      // A folder of its own: two downloads of the same name never share a file or a control file,
      // and a retry reuses it to resume.
      dir: path.join(this.storage.incompleteDir(actor.id), gid),
      info_hash: fields.uri.startsWith('magnet:') ? magnetInfoHash(fields.uri) : null,
      auto_retry: fields.autoRetry ?? null,
      node: this.ctx.nodes.local.node,
    };
  }

  /**
   * Hands inserted rows to aria2 and records the outcome: aria2's status, or `error` with the reason
   * (the row stays, so it can be retried). aria2 gets them paused; the admission pass that follows lets
   * in what may start. Returns the rows as stored after it.
   */
  async handOverRows(rows: TaskRow[]): Promise<TaskRow[]> {
    const stored = await this.handOverHeld(rows);
    if (!stored.some((r) => r.held_for !== null && r.status === 'waiting')) return stored;
    await this.admission.admit();
    const now = new Map(
      (
        await repo.getTasksAnyOwner(
          this.ctx.db,
          stored.map((r) => r.id),
        )
      ).map((r) => [r.id, r]),
    );
    return stored.map((r) => now.get(r.id) ?? r);
  }

  private async handOverHeld(rows: TaskRow[]): Promise<TaskRow[]> {
    for (const r of rows) this.handingOver.add(r.id);
    try {
      const results = await handOver(
        this.ctx.nodes.local,
        await repo.attachOptions(this.ctx.db, rows),
        this.ctx.downloadOptions,
      );
      const now = nowIso();
      return await this.ctx.db.transaction().execute(async (trx) => {
        const out: TaskRow[] = [];
        for (const row of rows) {
          const r = results.get(row.id)!;
          const patch: repo.TaskPatch = r.ok
            ? this.statusPatch(r.gid, r.status, now, row.held_for !== null)
            : {
                gid: null,
                status: 'error',
                error: `Failed to hand the download to aria2: ${maskUrisIn(r.reason)}`,
                updated_at: now,
                finished_at: now,
              };
          out.push((await repo.updateTask(trx, row.id, patch)) ?? row);
        }
        return out;
      });
    } finally {
      for (const r of rows) this.handingOver.delete(r.id);
    }
  }

  /**
   * The row fields right after aria2 accepted a download: its status, never `queued`. A held row
   * (paused in aria2 until admitted) is `waiting`.
   */
  statusPatch(gid: string, status: Aria2Status | null, now: string, held: boolean): repo.TaskPatch {
    // A download cannot finish inside the multicall that adds it; should aria2 ever say so, the row
    // stays current so the sync engine's completion (moving the file, the artifact token) runs.
    const reported = status ? statusFromAria2(status.status, held) : 'waiting';
    const s = reported === 'complete' ? 'active' : reported;
    return {
      gid,
      status: s,
      // aria2 says 0 until it knows the size (a download handed over again after a restart, still
      // paused): keep what the row knows, so a paused task does not fall back to 0 % and "Size unknown".
      ...(status?.totalLength
        ? { total_length: status.totalLength, completed_length: status.completedLength }
        : {}),
      error:
        s === 'error'
          ? maskUrisIn(status?.errorMessage || `aria2 error ${status?.errorCode ?? ''}`.trim())
          : null,
      updated_at: now,
      finished_at: s === 'error' ? now : null,
    };
  }

  async create(actor: Actor, uriInput: string, options?: TaskOptions, extras?: AddExtras): Promise<Task> {
    const uri = validateUri(uriInput);
    await this.refuseDuplicate(actor, uri, uri.startsWith('magnet:') ? magnetInfoHash(uri) : null, extras);
    await guardHost(uri, this.guard);
    const limits = await this.spaceLimits(actor.id);
    const size = await this.checkBeforeAdd(actor, uri, limits);
    const row = await this.insertChecked(actor, limits, {
      ...this.newRow(actor, { uri, name: nameFromUri(uri), options, autoRetry: extras?.auto_retry }),
      total_length: size ?? 0,
    });
    const [stored] = await this.handOverRows([row]);
    this.emitUpdate(stored!);
    return repo.toTask(stored!);
  }

  async createBatch(
    actor: Actor,
    uris: readonly string[],
    options?: TaskOptions,
    extras?: AddExtras,
  ): Promise<{ created: Task[]; failed: { uri: string; detail: string }[] }> {
    const limits = await this.spaceLimits(actor.id);
    // A URI twice in one batch is a duplicate too (the first one is added).
    const seen = new Set<string>();
    const checked = await mapLimit(uris, HEAD_CONCURRENCY, async (raw) => {
      try {
        const uri = validateUri(raw);
        const hash = uri.startsWith('magnet:') ? magnetInfoHash(uri) : null;
        const key = hash ? `btih:${hash.toLowerCase()}` : uri;
        if (!extras?.allow_duplicate && seen.has(key)) throw new ConflictError(DUPLICATE_SENTENCE);
        seen.add(key);
        await this.refuseDuplicate(actor, uri, hash, extras);
        await guardHost(uri, this.guard);
        const size = await this.checkBeforeAdd(actor, uri, limits);
        return { ok: true as const, uri, size };
      } catch (err) {
        if (
          err instanceof InvalidInputError ||
          err instanceof BadRequestError ||
          err instanceof ConflictError ||
          (err as { status?: number }).status === 403
        ) {
          return { ok: false as const, uri: maskUri(raw), detail: (err as Error).message };
        }
        throw err;
      }
    });
    const { rows, refused } = await this.ctx.db.transaction().execute(async (trx) => {
      // In the given order, each accepted URI reserves its size before the next is checked, and the
      // URIs past the user's current-tasks limit fail with its sentence; the first ones go in.
      let l = await this.spaceLimitsIn(trx, actor.id, limits);
      let room = await this.currentTasksRoom(trx, actor.id);
      const limitDetail = tooManyCurrentTasks(this.ctx.settings.get().max_current_tasks_per_user).detail;
      const refused = new Map<number, string>();
      const accepted: { uri: string; size: number | null }[] = [];
      checked.forEach((c, i) => {
        if (!c.ok) return;
        try {
          checkSpaceBeforeAdd(l, c.size);
        } catch (err) {
          refused.set(i, (err as Error).message);
          return;
        }
        if (room > 0) {
          room--;
          l = withReserved(l, c.size);
          accepted.push(c);
        } else refused.set(i, limitDetail);
      });
      const rows = await repo.insertTasks(
        trx,
        accepted.map(({ uri, size }) => ({
          ...this.newRow(actor, { uri, name: nameFromUri(uri), options, autoRetry: extras?.auto_retry }),
          total_length: size ?? 0,
        })),
      );
      return { rows, refused };
    });
    const stored = await this.handOverRows(rows);
    for (const r of stored) this.emitUpdate(r);
    return {
      created: stored.map(repo.toTask),
      failed: checked.flatMap((c, i) => {
        if (!c.ok) return [{ uri: c.uri, detail: c.detail }];
        const detail = refused.get(i);
        return detail === undefined ? [] : [{ uri: maskUri(c.uri), detail }];
      }),
    };
  }

  async createTorrent(
    actor: Actor,
    torrent: Buffer,
    options?: TaskOptions,
    extras?: AddExtras,
  ): Promise<Task> {
    if (torrent.length > 16 * 1024 * 1024) throw new InvalidInputError('Invalid torrent: larger than 16 MiB');
    const parsed = parseTorrent(torrent);
    await this.refuseDuplicate(actor, null, parsed.infoHash, extras);
    await guardSources([...parsed.trackers, ...parsed.webSeeds], this.guard, 'Invalid torrent file');
    const chosen = options?.['select-file'] ? selectedIndexes(options['select-file']) : null;
    const missing = chosen?.find((i) => i > parsed.files.length);
    if (missing !== undefined)
      throw new InvalidInputError(`Invalid select_files: the torrent has no file ${missing}`);
    // Only what is selected is downloaded, so only that counts against the limits.
    const size = chosen
      ? chosen.reduce((sum, i) => sum + parsed.files[i - 1]!.length, 0)
      : parsed.totalLength;
    const row = await this.insertChecked(actor, await this.spaceLimits(actor.id), {
      ...this.newRow(actor, { uri: TORRENT_URI, name: parsed.name, options, autoRetry: extras?.auto_retry }),
      torrent,
      info_hash: parsed.infoHash,
      total_length: size,
    });
    const [stored] = await this.handOverRows([row]);
    this.emitUpdate(stored!);
    return repo.toTask(stored!);
  }

  // ---- reading ------------------------------------------------------------------------------

  async list(actor: Actor, query: ListTasksQuery): Promise<{ items: Task[]; total: number }> {
    // The queue view lists in aria2's real order unless another order is asked for.
    const sort = query.sort ?? (query.view === 'current' ? 'position' : 'created_at');
    const order = query.order ?? (sort === 'position' ? 'asc' : 'desc');
    const { rows, total } = await repo.listTasks(this.ctx.db, actor.id, { ...query, sort, order });
    return { items: rows.map(repo.toTask), total };
  }

  async getRow(actor: Actor, id: number): Promise<TaskRow> {
    const row = await repo.getTask(this.ctx.db, actor.id, id);
    if (!row) throw taskNotFound();
    return row;
  }

  async get(actor: Actor, id: number): Promise<Task> {
    return repo.toTask(await this.getRow(actor, id));
  }

  /** An uploaded torrent's stored .torrent file and a file name for it. */
  async torrentFile(actor: Actor, id: number): Promise<{ name: string; data: Buffer }> {
    const row = await this.getRow(actor, id);
    if (row.uri !== TORRENT_URI || !row.torrent)
      throw new NotFoundError('This task has no stored .torrent file');
    const base = (row.name ?? '').replace(/[/\\\0]/g, '_').trim() || `task-${row.id}`;
    return { name: `${base}.torrent`, data: row.torrent };
  }

  /** aria2's full view of a task, or null when aria2 no longer knows it (or is away). */
  private async aria2Status(row: TaskRow): Promise<Aria2Status | null> {
    if (!row.gid || !this.ctx.aria2.connected) return null;
    try {
      return await this.ctx.aria2.tellStatus(row.gid);
    } catch {
      return null;
    }
  }

  private filesOf(row: TaskRow, status: Aria2Status): TaskFile[] {
    return filesOf(row.dir, status);
  }

  /** aria2's peers and servers of a download; empty where aria2 has none (or refuses). */
  private async connectionsOf(gid: string, status: Aria2Status) {
    const [peers, servers] = await this.ctx.aria2
      .multicall([
        { method: 'aria2.getPeers', params: [gid] },
        { method: 'aria2.getServers', params: [gid] },
      ])
      .catch(() => []);
    return {
      peers:
        status.bittorrent && peers?.ok
          ? peersOf(peers.value as Record<string, string>[], status.numPieces)
          : [],
      servers: servers?.ok ? serversOf(servers.value as Parameters<typeof serversOf>[0]) : [],
    };
  }

  async detail(actor: Actor, id: number) {
    const row = await this.getRow(actor, id);
    const status = await this.aria2Status(row);
    const bt = status?.bittorrent;
    const links = status && row.gid ? await this.connectionsOf(row.gid, status) : null;
    const task = repo.toTask(row);
    if (status && isCurrent(row.status) && (status.totalLength > 0 || status.completedLength > 0)) {
      // The header shows aria2's figures of this moment, the same the files are shared out from.
      task.total_length = status.totalLength;
      task.completed_length = status.completedLength;
    }
    return {
      ...task,
      speed_history: row.status === 'active' ? this.speeds.get(row.id) : [],
      detail: status
        ? {
            files: this.filesOf(row, status),
            peers: links?.peers ?? [],
            servers: links?.servers ?? [],
            upload_length: status.uploadLength,
            ratio: status.completedLength > 0 ? status.uploadLength / status.completedLength : 0,
            num_pieces: status.numPieces,
            piece_length: status.pieceLength,
            bitfield: status.bitfield ?? null,
            connections: status.connections,
            num_seeders: status.numSeeders,
            seeder: status.seeder ?? null,
            info_hash: status.infoHash ?? row.info_hash,
            bittorrent: bt
              ? {
                  name: bt.info?.name ?? null,
                  comment: bt.comment ?? null,
                  creation_date: bt.creationDate ?? null,
                  mode: bt.mode ?? null,
                  announce_list: bt.announceList ?? [],
                }
              : null,
          }
        : null,
    };
  }

  async files(actor: Actor, id: number): Promise<TaskFile[]> {
    const row = await this.getRow(actor, id);
    const status = await this.aria2Status(row);
    if (status) return this.filesOf(row, status);
    if (row.status === 'complete' && row.artifact_path) {
      return [
        {
          index: 1,
          path: row.artifact_path,
          length: row.total_length,
          completed_length: row.total_length,
          selected: true,
        },
      ];
    }
    // A download aria2 forgot (failed, stopped, restarted) may have left partial files in its folder.
    if (row.status !== 'complete') return filesOnDisk(row.dir);
    return [];
  }

  // ---- controlling --------------------------------------------------------------------------

  /** aria2 answered but refused (the download changed state meanwhile): a 409, not an outage. */
  private async refusedAsConflict<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      if (err instanceof Aria2Error && err.code !== undefined) {
        throw new ConflictError(`aria2 refused: ${publicMessage(err.reason)}`);
      }
      throw err;
    }
  }

  private requireAria2(): void {
    if (!this.ctx.aria2.connected) throw new DependencyError('aria2 is unavailable; try again shortly', 503);
  }

  async changeStatus(actor: Actor, id: number, action: 'pause' | 'resume' | 'stop'): Promise<Task> {
    const row = await this.getRow(actor, id);
    const now = nowIso();
    let patch: repo.TaskPatch;
    if (action === 'stop') {
      if (!isCurrent(row.status)) throw new ConflictError('Only a current download can be stopped');
      if (row.gid && row.status !== 'queued') {
        this.requireAria2();
        await this.ctx.aria2.forceRemove(row.gid).catch(() => undefined);
      }
      patch = { status: 'removed', download_speed: 0, upload_speed: 0, updated_at: now, finished_at: now };
    } else if (action === 'pause') {
      if (row.status !== 'active' && row.status !== 'waiting')
        throw new ConflictError('Only an active or waiting download can be paused');
      this.requireAria2();
      // A held download is paused in aria2 already: it only stops being held. One let in meanwhile, or
      // changed in aria2, is paused by aria2 as any other (which may refuse).
      const inAria2 =
        row.held_for !== null
          ? await this.ctx.aria2.tellStatus(row.gid!, ['status']).catch(() => null)
          : null;
      const held = inAria2?.status === 'paused' ? await repo.pauseHeld(this.ctx.db, row.id, now) : undefined;
      if (held) {
        this.emitUpdate(held);
        return repo.toTask(held);
      }
      await this.refusedAsConflict(this.ctx.aria2.pause(row.gid!));
      patch = { status: 'paused', held_for: null, download_speed: 0, upload_speed: 0, updated_at: now };
    } else {
      if (row.status !== 'paused') throw new ConflictError('Only a paused download can be resumed');
      this.requireAria2();
      const st = await this.refusedAsConflict(this.ctx.aria2.tellStatus(row.gid!, ['status']));
      if (st.status === 'paused') {
        // It waits again, held, and starts when the admission gives it a slot.
        const waiting = await repo.resumeHeld(this.ctx.db, row.id, now);
        if (!waiting) throw new ConflictError('Only a paused download can be resumed');
        await this.admission.admit();
        const after = (await repo.getTaskAnyOwner(this.ctx.db, row.id)) ?? waiting;
        this.emitUpdate(after);
        return repo.toTask(after);
      }
      const s = statusFromAria2(st.status);
      if (s !== 'active' && s !== 'waiting') throw new ConflictError('Only a paused download can be resumed');
      patch = { status: s, held_for: null, updated_at: now };
    }
    const updated = (await repo.updateTask(this.ctx.db, row.id, patch))!;
    this.emitUpdate(updated);
    return repo.toTask(updated);
  }

  async changePosition(
    actor: Actor,
    id: number,
    position: number,
    how: 'POS_SET' | 'POS_CUR' | 'POS_END',
  ): Promise<number> {
    const row = await this.getRow(actor, id);
    if (row.status !== 'waiting' || !row.gid) throw new ConflictError('Only a waiting download can be moved');
    this.requireAria2();
    // Positions are the user's own: index n is their n-th waiting download in aria2's queue, which
    // other users' downloads share. The move lands where their n-th download stands now.
    const queue = (await this.ctx.aria2.tellWaiting(0, 100_000, ['gid', 'status'])).map((s) => s.gid);
    const own = new Set(
      (
        await this.ctx.db
          .selectFrom('tasks')
          .select('gid')
          .where('owner_id', '=', actor.id)
          .where('status', '=', 'waiting')
          .execute()
      ).map((r) => r.gid),
    );
    const mine = queue.filter((gid) => own.has(gid));
    const current = mine.indexOf(row.gid);
    if (current < 0) throw new ConflictError('Only a waiting download can be moved');
    const wanted =
      how === 'POS_SET' ? position : how === 'POS_CUR' ? current + position : mine.length - 1 + position;
    const target = Math.max(0, Math.min(mine.length - 1, wanted));
    await this.ctx.aria2.changePosition(row.gid, queue.indexOf(mine[target]!), 'POS_SET');
    // The new order is on the rows at once: a reload shows it.
    await this.recordPositions((await this.ctx.aria2.tellWaiting(0, 100_000, ['gid'])).map((s) => s.gid));
    return target;
  }

  /**
   * Changes a current download's options at once (aria2 applies a limit live; an option it cannot
   * change while running restarts the download where it was) and stores them for a later hand-over.
   */
  async changeOptions(actor: Actor, id: number, options: Partial<TaskOptions>): Promise<Task> {
    const row = await this.getRow(actor, id);
    if (!isCurrent(row.status)) throw new ConflictError("Only a current download's options can be changed");
    if (row.gid && row.status !== 'queued') {
      this.requireAria2();
      const wire = aria2OptionsFor({ options: JSON.stringify(options), dir: row.dir }, row.gid);
      // Only the options given: the folder, resume and gid stay as they are.
      delete wire.dir;
      delete wire.continue;
      delete wire.gid;
      await this.refusedAsConflict(this.ctx.aria2.changeOption(row.gid, wire));
    }
    const [current] = await repo.attachOptions(this.ctx.db, [row]);
    const merged = { ...storedOptions(current!.options), ...options };
    const updated = (await repo.updateTaskOptions(this.ctx.db, row.id, JSON.stringify(merged), {
      updated_at: nowIso(),
    }))!;
    this.emitUpdate(updated);
    return repo.toTask(updated);
  }

  /**
   * Chooses which of a current torrent's files are downloaded. Size and quota are checked on what is
   * selected (this task's own partial bytes do not count against it); aria2 restarts the download
   * with the new selection where it was.
   */
  async selectFiles(actor: Actor, id: number, selected: readonly number[]): Promise<TaskFile[]> {
    const row = await this.getRow(actor, id);
    if (!isCurrent(row.status) || !row.gid || row.status === 'queued')
      throw new ConflictError("Only a current torrent's files can be selected");
    this.requireAria2();
    const status = await this.refusedAsConflict(this.ctx.aria2.tellStatus(row.gid));
    if (!status.bittorrent || status.files.some((f) => f.path.startsWith('[METADATA]')))
      throw new ConflictError("Only a torrent's files can be selected, once its metadata is known");
    const byIndex = new Map(status.files.map((f) => [f.index, f]));
    const missing = selected.find((i) => !byIndex.has(i));
    if (missing !== undefined)
      throw new InvalidInputError(`Invalid selected: the torrent has no file ${missing}`);
    const size = [...new Set(selected)].reduce((sum, i) => sum + byIndex.get(i)!.length, 0);
    const limits = await this.spaceLimits(actor.id);
    checkSpaceBeforeAdd({ ...limits, usedSpace: Math.max(0, limits.usedSpace - row.completed_length) }, size);
    const value = selectFileOption(selected);
    await this.refusedAsConflict(this.ctx.aria2.changeOption(row.gid, { 'select-file': value }));
    const [current] = await repo.attachOptions(this.ctx.db, [row]);
    const options = { ...storedOptions(current!.options), 'select-file': value };
    const updated = (await repo.updateTaskOptions(this.ctx.db, row.id, JSON.stringify(options), {
      total_length: size,
      updated_at: nowIso(),
    }))!;
    this.emitUpdate(updated);
    const after = await this.aria2Status(updated);
    return after ? this.filesOf(updated, after) : [];
  }

  /** Stops a download in aria2 if it runs and forgets its result; errors are ignored (it may be gone). */
  async forgetInAria2(gids: readonly (string | null)[], { stopped = false } = {}): Promise<void> {
    const list = gids.filter((g): g is string => !!g);
    if (list.length === 0 || !this.ctx.aria2.connected) return;
    // Downloads known to have stopped (failed or stopped tasks) need no forceRemove.
    if (!stopped) {
      await this.ctx.aria2
        .multicall(list.map((gid) => ({ method: 'aria2.forceRemove', params: [gid] })))
        .catch(() => undefined);
    }
    // forceRemove takes effect a moment later; the result can be removed once the download stopped.
    const deadline = Date.now() + 3000;
    let pending = list;
    while (pending.length > 0) {
      const removed = await this.ctx.aria2
        .multicall(pending.map((gid) => ({ method: 'aria2.removeDownloadResult', params: [gid] })))
        .catch(() => null);
      if (!removed) return;
      const failed = pending.filter((_gid, i) => !removed[i]!.ok);
      if (failed.length === 0 || Date.now() > deadline) return;
      // aria2 gives one message for "unknown" and "still running": ask which.
      const told = await this.ctx.aria2
        .multicall(failed.map((gid) => ({ method: 'aria2.tellStatus', params: [gid, ['status']] })))
        .catch(() => null);
      if (!told) return;
      // Still known: try again (a download that is still stopping has a result to remove soon).
      const known = failed.filter((_gid, i) => told[i]!.ok);
      const running = failed.filter((_gid, i) => {
        const t = told[i]!;
        return t.ok && ['active', 'waiting', 'paused'].includes((t.value as { status: string }).status);
      });
      if (running.length > 0) {
        await this.ctx.aria2
          .multicall(running.map((gid) => ({ method: 'aria2.forceRemove', params: [gid] })))
          .catch(() => undefined);
      }
      if (known.length > 0) await new Promise((r) => setTimeout(r, 50));
      pending = known;
    }
  }

  /** Deletes the files a task left: the finished artifact, or the partial download and its control file. */
  private async deleteFilesOf(row: TaskRow, files: readonly { path: string }[]): Promise<number> {
    if (row.status === 'complete' && row.artifact_path) {
      return this.storage.removeArtifact(row.owner_id, row.artifact_path);
    }
    return this.storage.removeEntries(row.dir, Storage.topEntries(row.dir, files, row.name));
  }

  /** Everything to delete rows: stop in aria2, remove files when asked, keep the used space right. */
  private async deleteRows(rows: TaskRow[], deleteFiles: boolean): Promise<void> {
    if (rows.length === 0) return;
    const filesByTask = new Map<number, { path: string }[]>();
    if (deleteFiles && this.ctx.aria2.connected) {
      // The download's files, and those of the metadata download it followed (a .torrent URL leaves
      // the .torrent file in the task folder).
      const needFiles = rows
        .filter((r) => r.status !== 'complete')
        .flatMap((r) => [r.gid, r.origin_gid].flatMap((gid) => (gid ? [{ id: r.id, gid }] : [])));
      const got = await this.ctx.aria2
        .multicall(needFiles.map((w) => ({ method: 'aria2.getFiles', params: [w.gid] })))
        .catch(() => []);
      needFiles.forEach((w, i) => {
        const g = got[i];
        if (g?.ok)
          filesByTask.set(w.id, [
            ...(filesByTask.get(w.id) ?? []),
            ...((g.value as { path: string }[]) ?? []),
          ]);
      });
    }
    // Between aria2 forgetting the download and the row going, the sync engine would see the download
    // gone and hand it over again: it leaves these rows alone.
    for (const r of rows) this.handingOver.add(r.id);
    try {
      await this.forgetRows(rows, deleteFiles, filesByTask);
    } finally {
      for (const r of rows) this.handingOver.delete(r.id);
    }
    for (const row of rows) this.emitRemoved(row.owner_id, row.id);
  }

  private async forgetRows(
    rows: TaskRow[],
    deleteFiles: boolean,
    filesByTask: Map<number, { path: string }[]>,
  ): Promise<void> {
    await this.forgetInAria2(rows.map((r) => r.gid).concat(rows.map((r) => r.origin_gid)));
    const deltas = new Map<number, number>();
    for (const row of rows) {
      let delta = 0;
      if (deleteFiles) {
        const freed = await this.deleteFilesOf(row, filesByTask.get(row.id) ?? []);
        // What the artifact holds now (files may have been moved in or out of it since it finished).
        delta = row.status === 'complete' ? -freed : 0;
      } else if (row.status !== 'complete') {
        // The partial file stays in the folder without a row to count it: the folder's total keeps it.
        delta = row.completed_length;
      }
      deltas.set(row.owner_id, (deltas.get(row.owner_id) ?? 0) + delta);
    }
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const row of rows) {
        await repo.deleteTask(trx, row.id);
        // Its files are gone: so are the links to them.
        if (deleteFiles && row.status === 'complete' && row.artifact_path) {
          await deleteSharesUnder(trx, row.owner_id, row.artifact_path);
        }
      }
      for (const [owner, delta] of deltas) await repo.addUsedSpace(trx, owner, delta);
    });
  }

  async delete(actor: Actor, id: number, deleteFiles: boolean): Promise<void> {
    const row = await this.getRow(actor, id);
    if (row.replaced_by !== null) throw new ConflictError('This task is being retried');
    await this.deleteRows([row], deleteFiles);
  }

  async clearHistory(actor: Actor, deleteFiles: boolean): Promise<number> {
    const rows = await repo.listHistoryTasks(this.ctx.db, actor.id);
    await this.deleteRows(rows, deleteFiles);
    return rows.length;
  }

  /** Stops and forgets all of a user's downloads in aria2 (before the user is deleted). */
  async forgetAllOf(userId: number): Promise<void> {
    const rows = await repo.listTasksByOwner(this.ctx.db, userId);
    await this.forgetInAria2(rows.map((r) => r.gid).concat(rows.map((r) => r.origin_gid)));
    // Their slots come free without a task event: the users who wait get them.
    this.admission.soon();
  }

  /** The used space and quota left of a user (for stats): what current downloads reserve is not left. */
  async space(userId: number): Promise<{ used: number; quota: number; available: number }> {
    const s = (await repo.usedSpace(this.ctx.db, userId)) ?? { quota: 0, used: 0, reserved: 0 };
    return { used: s.used, quota: s.quota, available: availableSpace(s.quota, s.used, s.reserved) };
  }
}
