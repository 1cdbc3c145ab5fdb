import type { Task } from '../contracts/tasks.js';
import {
  HTTP_PROTOCOL_ERROR,
  isPassingFailure,
  PASSING_CODES,
  retriesAllowed,
  retryDelaySeconds,
} from '../domain/auto-retry.js';
import { ConflictError, DependencyError, type DomainError } from '../domain/errors.js';
import { nowIso } from '../domain/time.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import { findUserById } from '../repositories/users.js';
import type { Actor, ServiceContext } from './context.js';
import type { RetryService } from './retry.js';
import type { TaskQueryService } from './tasks/query.js';

/** The row the scheduler (jobs/auto-retry.ts) watches in task events. */
export type { TaskRow } from '../repositories/tasks.js';

/** How many due plans one pass retries (each owner's in one retry batch). */
const DUE_BATCH = 500;

const isoIn = (seconds: number, from = Date.now()) =>
  new Date(from + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Auto-retry (docs/auto-retry.md): a download that failed for a passing reason gets a plan
 * (`next_retry_at`, stored in its row, so it survives restarts) and is retried with the same
 * retry-and-replace when it is due. The claim of a planned retry requires the plan still to stand, and
 * any retry claims the row exclusively: a retry-now racing the scheduler makes exactly one new task.
 */
export class AutoRetryService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: { query: TaskQueryService },
    private readonly retry: RetryService,
  ) {}

  /** Plans every failed task that may pass and has retries left; returns the rows planned. */
  async planPending(): Promise<TaskRow[]> {
    const settings = this.ctx.settings.get();
    const rows = await repo.listUnplanned(
      this.ctx.db,
      [...PASSING_CODES],
      HTTP_PROTOCOL_ERROR,
      settings.auto_retry_attempts,
    );
    const planned: TaskRow[] = [];
    const now = Date.now();
    for (const row of rows) {
      if (!isPassingFailure(row.error_code, row.error)) {
        // A code-22 answer that lasts (403, 400, ...): never looked at again.
        await repo.endAutoRetry(this.ctx.db, row.id, row.owner_id);
        continue;
      }
      const at = isoIn(retryDelaySeconds(row.attempt, settings), now);
      const stored = await repo.setPlan(this.ctx.db, row.id, at);
      if (stored) planned.push(stored);
    }
    for (const r of planned) this.ctx.events.taskUpdate(r);
    return planned;
  }

  /** Retries the plans due now; returns how many new tasks were made. */
  async runDue(): Promise<number> {
    const due = await repo.listDue(this.ctx.db, nowIso(), DUE_BATCH);
    const byOwner = new Map<number, number[]>();
    for (const r of due) byOwner.set(r.owner_id, [...(byOwner.get(r.owner_id) ?? []), r.id]);
    let made = 0;
    for (const [ownerId, ids] of byOwner) {
      const user = await findUserById(this.ctx.db, ownerId);
      if (!user) continue;
      const actor: Actor = {
        id: user.id,
        username: user.username,
        is_admin: !!user.is_admin,
        quota: user.quota,
      };
      const results = await this.retry.retryPlanned(actor, ids);
      for (const r of results) {
        if (r.ok) {
          made++;
          continue;
        }
        await this.afterFailedRetry(actor, r.id, r.error);
      }
    }
    return made;
  }

  /**
   * A planned retry that could not happen: aria2 or the disk away is tried again after the same delay;
   * a retry someone else claimed (or a plan cancelled) is left alone; a refusal (size, quota, guard)
   * ends the automatic retries and says why.
   */
  private async afterFailedRetry(actor: Actor, id: number, error: DomainError): Promise<void> {
    if (error instanceof ConflictError || error.status === 404) return;
    const row = await repo.getTask(this.ctx.db, actor.id, id);
    if (!row || row.replaced_by !== null) return;
    const settings = this.ctx.settings.get();
    const updated =
      error instanceof DependencyError
        ? await repo.setPlan(this.ctx.db, id, isoIn(retryDelaySeconds(row.attempt, settings)))
        : await repo.endAutoRetry(this.ctx.db, id, actor.id, `Automatic retry refused: ${error.detail}`);
    if (updated) this.ctx.events.taskUpdate(updated);
  }

  /** The earliest plan (for the scheduler's sleep), or null. */
  nextPlanAt(): Promise<string | null> {
    return repo.nextPlanAt(this.ctx.db);
  }

  /** Whether a row just stored may need a plan (a failure without one, with retries left). */
  mayNeedPlan(row: TaskRow): boolean {
    return (
      row.status === 'error' &&
      row.next_retry_at === null &&
      row.error_code !== null &&
      row.attempt <= retriesAllowed(row.auto_retry, this.ctx.settings.get())
    );
  }

  /** DELETE /api/tasks/{id}/auto-retry: the plan goes, and no other is made for this task. */
  async cancel(actor: Actor, id: number): Promise<Task> {
    const row = await this.tasks.query.getRow(actor, id);
    if (row.next_retry_at === null) throw new ConflictError('No automatic retry is planned for this task');
    const updated = await repo.endAutoRetry(this.ctx.db, id, actor.id);
    if (!updated) throw new ConflictError('This task is being retried');
    this.ctx.events.taskUpdate(updated);
    return repo.toTask(updated);
  }
}
