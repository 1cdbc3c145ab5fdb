import { selectFileOption, type Task, type TaskFile, type TaskOptions } from '../../contracts/tasks.js';
import {
  ConflictError,
  DependencyError,
  DomainError,
  InvalidInputError,
  taskNotFound,
} from '../../domain/errors.js';
import { checkSpaceBeforeAdd } from '../../domain/size.js';
import { isCurrent, taskStatusOf } from '../../domain/task-status.js';
import { nowIso } from '../../domain/time.js';
import type { DownloadGateway } from '../../gateway/types.js';
import type { TaskRow } from '../../repositories/tasks.js';
import * as repo from '../../repositories/tasks.js';
import type { Admission } from '../admission.js';
import type { Actor, ServiceContext } from '../context.js';
import { aria2OptionsFor, storedOptions } from '../handover.js';
import { ignored } from '../ignored.js';
import { recordQueuePositions } from '../queue-order.js';
import { byNode, eachItem, refusalError, refusedAsConflict, unavailableError } from './daemon.js';
import type { TaskQueryService } from './query.js';
import type { SpaceService } from './space.js';
import type { HandOverTracker } from './tracker.js';

export type StatusAction = 'pause' | 'resume' | 'stop';
/** The outcome of one id of a batch: the task as it is now, or why it failed (a DomainError or aria2's). */
export type ItemOutcome<T> = { id: number; ok: true; value: T } | { id: number; ok: false; error: Error };

const unavailable = () => new DependencyError('aria2 is unavailable; try again shortly', 503);

/**
 * Controlling a user's current downloads: pause, resume and stop (one or many at once, each id on its
 * own, one aria2 multicall per step), queue position, live options and a torrent's file selection.
 */
export class ControlTasksService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'nodes' | 'events' | 'logger'>,
    private readonly query: TaskQueryService,
    private readonly space: SpaceService,
    private readonly admission: Admission,
    private readonly handingOver: HandOverTracker,
  ) {}

  /** The gateway of the row's node, which must be answering. */
  private daemonOf(row: TaskRow): DownloadGateway {
    const gateway = this.ctx.nodes.forTask(row);
    if (!gateway.connected) throw unavailable();
    return gateway;
  }

  /** Records a node's queue order (its waiting gids, in order) on the rows and tells their owners. */
  async recordPositions(waitingGids: readonly string[], node: string): Promise<void> {
    for (const r of await recordQueuePositions(this.ctx.db, waitingGids, node)) this.ctx.events.taskUpdate(r);
  }

  async changeStatus(actor: Actor, id: number, action: StatusAction): Promise<Task> {
    const [result] = await this.changeStatusMany(actor, [id], action);
    if (!result!.ok) throw result!.error;
    return result!.value;
  }

  /**
   * The single action for each distinct id, in first-given order, each on its own: an id that is not
   * the caller's is not found, one in the wrong state is refused as the single action refuses it.
   */
  async changeStatusMany(
    actor: Actor,
    rawIds: readonly number[],
    action: StatusAction,
  ): Promise<ItemOutcome<Task>[]> {
    const ids = [...new Set(rawIds)];
    const rows = new Map((await repo.getTasks(this.ctx.db, actor.id, ids)).map((r) => [r.id, r]));
    const outcome = new Map<number, { ok: true; value: Task } | { ok: false; error: Error }>();
    const fail = (id: number, error: Error) => outcome.set(id, { ok: false, error });
    const eligible: TaskRow[] = [];
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) fail(id, taskNotFound());
      else {
        const refused = this.refusedState(row, action);
        if (refused) fail(id, refused);
        else if (this.needsDaemon(row, action) && !this.ctx.nodes.forTask(row).connected)
          fail(id, unavailable());
        else eligible.push(row);
      }
    }
    const now = nowIso();
    const patches = new Map<number, repo.TaskPatch>();
    const write = async () => {
      for (const [id, patch] of patches) {
        const updated = (await repo.updateTask(this.ctx.db, id, patch))!;
        this.ctx.events.taskUpdate(updated);
        outcome.set(id, { ok: true, value: repo.toTask(updated) });
      }
    };
    if (action === 'stop') {
      // Between the daemon forgetting a download and its row saying so, the sync engine would take the
      // download for lost and hand it over again: it leaves these rows alone, as for a delete.
      await this.handingOver.around(
        eligible.map((r) => r.id),
        async () => {
          await this.stop(eligible, now, patches);
          await write();
        },
      );
    } else {
      if (action === 'pause') await this.pause(eligible, now, patches, outcome);
      else await this.resume(eligible, now, patches, outcome);
      await write();
    }
    return ids.map((id) => ({ id, ...outcome.get(id)! }));
  }

  private refusedState(row: TaskRow, action: StatusAction): ConflictError | null {
    if (action === 'stop')
      return isCurrent(row.status) ? null : new ConflictError('Only a current download can be stopped');
    if (action === 'pause')
      return row.status === 'active' || row.status === 'waiting'
        ? null
        : new ConflictError('Only an active or waiting download can be paused');
    return row.status === 'paused' ? null : new ConflictError('Only a paused download can be resumed');
  }

  private needsDaemon(row: TaskRow, action: StatusAction): boolean {
    return action !== 'stop' || (!!row.gid && row.status !== 'queued');
  }

  private async stop(rows: TaskRow[], now: string, patches: Map<number, repo.TaskPatch>): Promise<void> {
    // The row is stopped whatever the daemon answers: a download it no longer knows is stopped too.
    for (const [gateway, list] of byNode(
      this.ctx.nodes,
      rows.filter((r) => this.needsDaemon(r, 'stop')),
    )) {
      await gateway
        .stop(list.map((r) => r.gid!))
        .catch(ignored(this.ctx.logger, 'a download to stop was gone or the daemon did not answer'));
    }
    for (const r of rows)
      patches.set(r.id, {
        status: 'removed',
        download_speed: 0,
        upload_speed: 0,
        updated_at: now,
        finished_at: now,
      });
  }

  private async pause(
    rows: TaskRow[],
    now: string,
    patches: Map<number, repo.TaskPatch>,
    outcome: Map<number, { ok: true; value: Task } | { ok: false; error: Error }>,
  ): Promise<void> {
    for (const [gateway, list] of byNode(this.ctx.nodes, rows)) {
      // A held download is paused in the daemon already: it only stops being held. One let in
      // meanwhile, or changed in the daemon, is paused as any other (which may be refused).
      const held = list.filter((r) => r.held_for !== null);
      const told = await eachItem(
        gateway,
        () =>
          gateway.statuses(
            held.map((r) => r.gid!),
            'state',
          ),
        held.length,
      );
      const pausedThere = new Set(
        held
          .filter((_r, i) => {
            const t = told[i]!;
            return t.ok && t.value.status === 'paused';
          })
          .map((r) => r.id),
      );
      const toPause: TaskRow[] = [];
      for (const r of list) {
        const stored = pausedThere.has(r.id) ? await repo.pauseHeld(this.ctx.db, r.id, now) : undefined;
        if (stored) {
          this.ctx.events.taskUpdate(stored);
          outcome.set(r.id, { ok: true, value: repo.toTask(stored) });
        } else toPause.push(r);
      }
      const paused = await eachItem(gateway, () => gateway.pause(toPause.map((r) => r.gid!)), toPause.length);
      toPause.forEach((r, i) => {
        const p = paused[i]!;
        if (!p.ok) outcome.set(r.id, { ok: false, error: refusalError(p.error) });
        else
          patches.set(r.id, {
            status: 'paused',
            held_for: null,
            download_speed: 0,
            upload_speed: 0,
            updated_at: now,
          });
      });
    }
  }

  private async resume(
    rows: TaskRow[],
    now: string,
    patches: Map<number, repo.TaskPatch>,
    outcome: Map<number, { ok: true; value: Task } | { ok: false; error: Error }>,
  ): Promise<void> {
    const waiting: TaskRow[] = [];
    for (const [gateway, list] of byNode(this.ctx.nodes, rows)) {
      const told = await eachItem(
        gateway,
        () =>
          gateway.statuses(
            list.map((r) => r.gid!),
            'state',
          ),
        list.length,
      );
      for (const [i, r] of list.entries()) {
        const t = told[i]!;
        if (!t.ok) {
          outcome.set(r.id, { ok: false, error: refusalError(t.error) });
          continue;
        }
        if (t.value.status === 'paused') {
          // It waits again, held, and starts when the admission gives it a slot.
          const held = await repo.resumeHeld(this.ctx.db, r.id, now);
          if (held) waiting.push(held);
          else
            outcome.set(r.id, {
              ok: false,
              error: new ConflictError('Only a paused download can be resumed'),
            });
          continue;
        }
        const s = taskStatusOf(t.value.status);
        if (s !== 'active' && s !== 'waiting')
          outcome.set(r.id, { ok: false, error: new ConflictError('Only a paused download can be resumed') });
        else patches.set(r.id, { status: s, held_for: null, updated_at: now });
      }
    }
    if (waiting.length === 0) return;
    const after = await this.admission.admitAndRead(waiting);
    for (const row of after) {
      this.ctx.events.taskUpdate(row);
      outcome.set(row.id, { ok: true, value: repo.toTask(row) });
    }
  }

  /** The gids of the daemon's waiting downloads, in its queue order. */
  private async waitingOrder(gateway: DownloadGateway): Promise<string[]> {
    const snap = await gateway.snapshot({ waiting: 'ids' }).catch((err) => {
      throw unavailableError(err);
    });
    if (!snap.waiting) throw unavailable();
    return snap.waiting.map((s) => s.gid);
  }

  async changePosition(
    actor: Actor,
    id: number,
    position: number,
    how: 'POS_SET' | 'POS_CUR' | 'POS_END',
  ): Promise<number> {
    const row = await this.query.getRow(actor, id);
    if (row.status !== 'waiting' || !row.gid) throw new ConflictError('Only a waiting download can be moved');
    const gateway = this.daemonOf(row);
    // Positions are the user's own: index n is their n-th waiting download in the daemon's queue,
    // which other users' downloads share. The move lands where their n-th download stands now.
    const queue = await this.waitingOrder(gateway);
    const own = await repo.listWaitingGids(this.ctx.db, actor.id);
    const mine = queue.filter((gid) => own.has(gid));
    const current = mine.indexOf(row.gid);
    if (current < 0) throw new ConflictError('Only a waiting download can be moved');
    const wanted =
      how === 'POS_SET' ? position : how === 'POS_CUR' ? current + position : mine.length - 1 + position;
    const target = Math.max(0, Math.min(mine.length - 1, wanted));
    await gateway.move(row.gid, queue.indexOf(mine[target]!)).catch((err) => {
      throw unavailableError(err);
    });
    // The new order is on the rows at once: a reload shows it.
    await this.recordPositions(await this.waitingOrder(gateway), gateway.node);
    return target;
  }

  /** Changes one download's options; a refusal is a 409. */
  private async changeOne(gateway: DownloadGateway, gid: string, options: Record<string, string | string[]>) {
    const [r] = await refusedAsConflict(gateway.changeOptions([{ gid, options }]));
    if (r && !r.ok) throw refusalError(r.error);
  }

  /**
   * Changes a current download's options at once (aria2 applies a limit live; an option it cannot
   * change while running restarts the download where it was) and stores them for a later hand-over.
   */
  async changeOptions(actor: Actor, id: number, options: Partial<TaskOptions>): Promise<Task> {
    const row = await this.query.getRow(actor, id);
    if (!isCurrent(row.status)) throw new ConflictError("Only a current download's options can be changed");
    if (row.gid && row.status !== 'queued') {
      const gateway = this.daemonOf(row);
      const wire = aria2OptionsFor({ options: JSON.stringify(options), dir: row.dir }, row.gid);
      // Only the options given: the folder, resume and gid stay as they are.
      delete wire.dir;
      delete wire.continue;
      delete wire.gid;
      await this.changeOne(gateway, row.gid, wire);
    }
    const [current] = await repo.attachOptions(this.ctx.db, [row]);
    const merged = { ...storedOptions(current!.options), ...options };
    const updated = (await repo.updateTaskOptions(this.ctx.db, row.id, JSON.stringify(merged), {
      updated_at: nowIso(),
    }))!;
    this.ctx.events.taskUpdate(updated);
    return repo.toTask(updated);
  }

  /**
   * Chooses which of a current torrent's files are downloaded. Size and quota are checked on what is
   * selected (this task's own partial bytes do not count against it); aria2 restarts the download
   * with the new selection where it was.
   */
  async selectFiles(actor: Actor, id: number, selected: readonly number[]): Promise<TaskFile[]> {
    const row = await this.query.getRow(actor, id);
    if (!isCurrent(row.status) || !row.gid || row.status === 'queued')
      throw new ConflictError("Only a current torrent's files can be selected");
    const gateway = this.daemonOf(row);
    const status = await refusedAsConflict(gateway.status(row.gid, 'sync'));
    if (!status.bittorrent || status.metadata)
      throw new ConflictError("Only a torrent's files can be selected, once its metadata is known");
    const byIndex = new Map(status.files.map((f) => [f.index, f]));
    const missing = selected.find((i) => !byIndex.has(i));
    if (missing !== undefined)
      throw new InvalidInputError(`Invalid selected: the torrent has no file ${missing}`);
    const size = [...new Set(selected)].reduce((sum, i) => sum + byIndex.get(i)!.length, 0);
    const limits = await this.space.spaceLimits(actor.id);
    checkSpaceBeforeAdd({ ...limits, usedSpace: Math.max(0, limits.usedSpace - row.completed_length) }, size);
    const value = selectFileOption(selected);
    await this.changeOne(gateway, row.gid, { 'select-file': value });
    const [current] = await repo.attachOptions(this.ctx.db, [row]);
    const options = { ...storedOptions(current!.options), 'select-file': value };
    const updated = (await repo.updateTaskOptions(this.ctx.db, row.id, JSON.stringify(options), {
      total_length: size,
      updated_at: nowIso(),
    }))!;
    this.ctx.events.taskUpdate(updated);
    const after = await this.query.daemonStatus(updated);
    return after ? this.query.filesOf(updated, after) : [];
  }
}

/**
 * A bulk answer's entry for one id: the single action's outcome, its error as the single endpoint
 * answers it (a DomainError's status and sentence).
 */
export function bulkResult<T>(
  o: ItemOutcome<T>,
  task: (value: T) => Task | undefined,
): { id: number; ok: true; task?: Task } | { id: number; ok: false; status: number; detail: string } {
  if (o.ok) {
    const t = task(o.value);
    return t === undefined ? { id: o.id, ok: true } : { id: o.id, ok: true, task: t };
  }
  if (o.error instanceof DomainError)
    return { id: o.id, ok: false, status: o.error.status, detail: o.error.detail };
  throw o.error;
}
