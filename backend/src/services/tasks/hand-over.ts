import { taskStatusOf } from '../../domain/task-status.js';
import { nowIso } from '../../domain/time.js';
import { maskUrisIn } from '../../domain/uri.js';
import type { DaemonStatus } from '../../gateway/types.js';
import type { TaskRow } from '../../repositories/tasks.js';
import * as repo from '../../repositories/tasks.js';
import type { Admission } from '../admission.js';
import type { ServiceContext } from '../context.js';
import { handOverByNode } from '../handover.js';
import { forgetRowDownloads } from './forget.js';
import type { HandOverTracker } from './tracker.js';

/** What the daemon reported of a download just handed over. */
export type ReportedStatus = Pick<
  DaemonStatus,
  'status' | 'totalLength' | 'completedLength' | 'errorMessage' | 'errorCode'
>;

/**
 * The row fields right after aria2 accepted a download: its status, never `queued`. A held row
 * (paused in aria2 until admitted) is `waiting`.
 */
export function statusPatch(
  gid: string,
  status: ReportedStatus | null,
  now: string,
  held: boolean,
): repo.TaskPatch {
  // A download cannot finish inside the multicall that adds it; should aria2 ever say so, the row
  // stays current so the sync engine's completion (moving the file, the artifact token) runs.
  const reported = status ? taskStatusOf(status.status, held) : 'waiting';
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

/** Hands new rows (adds, and the sync engine's re-adds) to aria2 and stores the outcome. */
export class HandOverService {
  constructor(
    private readonly ctx: Pick<ServiceContext, 'db' | 'nodes' | 'downloadOptions' | 'logger'>,
    private readonly handingOver: HandOverTracker,
    private readonly admission: Admission,
  ) {}

  /**
   * Hands inserted rows to aria2 and records the outcome: aria2's status, or `error` with the reason
   * (the row stays, so it can be retried). aria2 gets them paused; the admission pass that follows lets
   * in what may start. Returns the rows as stored after it.
   */
  async handOverRows(rows: TaskRow[]): Promise<TaskRow[]> {
    const stored = await this.handOverHeld(rows);
    if (!stored.some((r) => r.held_for !== null && r.status === 'waiting')) return stored;
    return this.admission.admitAndRead(stored);
  }

  private handOverHeld(rows: TaskRow[]): Promise<TaskRow[]> {
    return this.handingOver.around(
      rows.map((r) => r.id),
      async () => {
        const results = await handOverByNode(
          this.ctx.nodes,
          await repo.attachOptions(this.ctx.db, rows),
          this.ctx.downloadOptions,
        );
        const now = nowIso();
        const outcomes = rows.map((row): repo.HandOverOutcome => {
          const r = results.get(row.id)!;
          if (!r.ok) {
            return {
              id: row.id,
              was: row.status,
              gid: null,
              status: 'error',
              total_length: null,
              completed_length: null,
              error: `Failed to hand the download to aria2: ${maskUrisIn(r.reason)}`,
              finished_at: now,
            };
          }
          const patch = statusPatch(r.gid, r.status, now, row.held_for !== null);
          return {
            id: row.id,
            was: row.status,
            gid: r.gid,
            status: patch.status as string,
            total_length: (patch.total_length as number | undefined) ?? null,
            completed_length: (patch.completed_length as number | undefined) ?? null,
            error: (patch.error as string | null | undefined) ?? null,
            finished_at: (patch.finished_at as string | null | undefined) ?? null,
          };
        });
        // One statement per chunk, not one per row: a batch of 1000 is a handful of round trips.
        const stored = new Map(
          (await repo.recordHandOvers(this.ctx.db, outcomes, now)).map((r) => [r.id, r]),
        );
        // A row stopped or deleted while aria2 took its download: the download must not run unowned.
        const unrecorded = outcomes.filter((o) => o.gid !== null && !stored.has(o.id));
        if (unrecorded.length > 0) {
          const byId = new Map(rows.map((r) => [r.id, r]));
          await forgetRowDownloads(
            this.ctx.nodes,
            unrecorded.map((o) => ({ node: byId.get(o.id)!.node, gid: o.gid, origin_gid: null })),
            { logger: this.ctx.logger },
          );
        }
        return rows.map((row) => stored.get(row.id) ?? row);
      },
    );
  }
}
