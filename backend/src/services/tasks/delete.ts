import { ConflictError, taskNotFound } from '../../domain/errors.js';
import type { TaskStatus } from '../../domain/task-status.js';
import { deleteSharesUnder } from '../../repositories/shares.js';
import { addUsedSpace } from '../../repositories/space.js';
import type { TaskRow } from '../../repositories/tasks.js';
import * as repo from '../../repositories/tasks.js';
import type { Admission } from '../admission.js';
import type { Actor, ServiceContext } from '../context.js';
import { Storage } from '../storage.js';
import type { ItemOutcome } from './control.js';
import { byNode } from './daemon.js';
import { forgetRowDownloads } from './forget.js';
import type { HandOverTracker } from './tracker.js';

/** Deleting tasks: one or many, a user's whole history, and all of a user's downloads in aria2. */
export class DeleteTasksService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'nodes' | 'events' | 'logger'>,
    private readonly deps: {
      storage: Storage;
      handingOver: HandOverTracker;
      admission: Admission;
    },
  ) {}

  /** Deletes the files a task left: the finished artifact, or the partial download and its control file. */
  private async deleteFilesOf(row: TaskRow, files: readonly { path: string }[]): Promise<number> {
    if (row.status === 'complete' && row.artifact_path) {
      return this.deps.storage.removeArtifact(row.owner_id, row.artifact_path);
    }
    return this.deps.storage.removeEntries(row.node, row.dir, Storage.topEntries(row.dir, files, row.name));
  }

  /** Everything to delete rows: stop in aria2, remove files when asked, keep the used space right. */
  private async deleteRows(rows: TaskRow[], deleteFiles: boolean): Promise<void> {
    if (rows.length === 0) return;
    const filesByTask = new Map<number, { path: string }[]>();
    if (deleteFiles) {
      // The download's files, and those of the metadata download it followed (a .torrent URL leaves
      // the .torrent file in the task folder).
      for (const [gateway, list] of byNode(
        this.ctx.nodes,
        rows.filter((r) => r.status !== 'complete'),
      )) {
        if (!gateway.connected) continue;
        const needFiles = list.flatMap((r) =>
          [r.gid, r.origin_gid].flatMap((gid) => (gid ? [{ id: r.id, gid }] : [])),
        );
        const got = await gateway.files(needFiles.map((w) => w.gid)).catch(() => []);
        needFiles.forEach((w, i) => {
          const g = got[i];
          if (g?.ok) filesByTask.set(w.id, [...(filesByTask.get(w.id) ?? []), ...g.value]);
        });
      }
    }
    // Between the daemon forgetting the download and the row going, the sync engine would see the download
    // gone and hand it over again: it leaves these rows alone.
    await this.deps.handingOver.around(
      rows.map((r) => r.id),
      () => this.forgetRows(rows, deleteFiles, filesByTask),
    );
    for (const row of rows) this.ctx.events.taskRemoved(row.owner_id, row.id);
  }

  private async forgetRows(
    rows: TaskRow[],
    deleteFiles: boolean,
    filesByTask: Map<number, { path: string }[]>,
  ): Promise<void> {
    await forgetRowDownloads(this.ctx.nodes, rows, { logger: this.ctx.logger });
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
      for (const [owner, delta] of deltas) await addUsedSpace(trx, owner, delta);
    });
  }

  async delete(actor: Actor, id: number, deleteFiles: boolean): Promise<void> {
    const [result] = await this.deleteMany(actor, [id], deleteFiles);
    if (!result!.ok) throw result!.error;
  }

  /**
   * The single delete for each distinct id, in first-given order, each on its own (another user's id
   * is not found); the downloads that may go leave aria2 together.
   */
  async deleteMany(
    actor: Actor,
    rawIds: readonly number[],
    deleteFiles: boolean,
  ): Promise<ItemOutcome<null>[]> {
    const ids = [...new Set(rawIds)];
    const rows = new Map((await repo.getTasks(this.ctx.db, actor.id, ids)).map((r) => [r.id, r]));
    const refused = new Map<number, Error>();
    for (const id of ids) {
      const row = rows.get(id);
      if (!row) refused.set(id, taskNotFound());
      else if (row.replaced_by !== null) refused.set(id, new ConflictError('This task is being retried'));
    }
    await this.deleteRows(
      ids.flatMap((id) => (refused.has(id) ? [] : [rows.get(id)!])),
      deleteFiles,
    );
    return ids.map((id) => {
      const error = refused.get(id);
      return error ? { id, ok: false as const, error } : { id, ok: true as const, value: null };
    });
  }

  /** Deletes the caller's finished tasks: all of them, or only those of one history status. */
  async clearHistory(
    actor: Actor,
    deleteFiles: boolean,
    status?: Extract<TaskStatus, 'complete' | 'error' | 'removed'>,
  ): Promise<number> {
    const rows = await repo.listHistoryTasks(this.ctx.db, actor.id, status);
    await this.deleteRows(rows, deleteFiles);
    return rows.length;
  }

  /** Stops and forgets all of a user's downloads in aria2 (before the user is deleted). */
  async forgetAllOf(userId: number): Promise<void> {
    const rows = await repo.listTasksByOwner(this.ctx.db, userId);
    await forgetRowDownloads(this.ctx.nodes, rows, { logger: this.ctx.logger });
    // Their slots come free without a task event: the users who wait get them.
    this.deps.admission.soon();
  }
}
