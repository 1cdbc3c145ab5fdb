import type { RetryResult, Task } from '../contracts/tasks.js';
import {
  BadRequestError,
  ConflictError,
  DependencyError,
  DomainError,
  taskNotFound,
} from '../domain/errors.js';
import { publicMessage } from '../domain/messages.js';
import { checkSpaceBeforeAdd, type SpaceLimits, withReserved } from '../domain/size.js';
import { isRetryable, TORRENT_URI } from '../domain/task-status.js';
import { nowIso } from '../domain/time.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import type { Actor, ServiceContext } from './context.js';
import { handOver, newGid } from './handover.js';
import { guardHost } from './network.js';
import { HEAD_CONCURRENCY, mapLimit, type TasksService } from './tasks.js';

const TORRENT_SENTENCE = 'Torrent tasks cannot be retried. Please re-upload the torrent file.';
const NOT_RETRYABLE_SENTENCE = 'Only failed or stopped tasks can be retried';

/**
 * The limits for retrying `old`: its partial file is resumed by the new download (same folder), which
 * counts those bytes from then on, so they are not counted twice.
 */
function withoutPartial(limits: SpaceLimits, old: TaskRow): SpaceLimits {
  return { ...limits, usedSpace: Math.max(0, limits.usedSpace - old.completed_length) };
}

/** A test-only hook: throws at a named point of a retry to prove a crash there is repaired. */
export type CrashPoint = 'after-handover';

/**
 * Retry and replace (API.md "Retry"): one call turns a failed or stopped task into a new download of
 * the same source, in the same folder with the same options, and removes the old task.
 *
 * Atomicity: the old row is claimed (replaced_by set) in the same transaction that inserts the new row
 * (retry_of set) under a gid chosen here, so concurrent retries of one task see the claim and get 409,
 * and a crash at any point leaves a pair that `repairInterrupted` resolves at the next start.
 */
export class RetryService {
  /** Set by tests only. */
  crashAt: CrashPoint | null = null;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: TasksService,
  ) {}

  /** Steps 1 and 2: the task exists, is the caller's, is not a torrent, and failed or was stopped. */
  private eligible(row: TaskRow | undefined): TaskRow {
    if (!row || row.replaced_by !== null) {
      // A task already being replaced is, to everyone else, on its way out.
      if (row) throw new ConflictError(NOT_RETRYABLE_SENTENCE);
      throw taskNotFound();
    }
    if (row.uri === TORRENT_URI) throw new BadRequestError(TORRENT_SENTENCE);
    if (!isRetryable(row.status)) throw new ConflictError(NOT_RETRYABLE_SENTENCE);
    return row;
  }

  async retry(actor: Actor, id: number): Promise<Task> {
    const [result] = await this.retryMany(actor, [id]);
    if (!result!.ok) throw result!.error;
    return result!.task;
  }

  /** The batch: one result per distinct id in first-given order; checks and aria2 calls done in bulk. */
  async retryBatch(actor: Actor, ids: readonly number[]): Promise<RetryResult[]> {
    const results = await this.retryMany(actor, ids);
    return results.map((r) =>
      r.ok
        ? { id: r.id, ok: true, task: r.task }
        : { id: r.id, ok: false, status: r.error.status, detail: r.error.detail },
    );
  }

  private async retryMany(
    actor: Actor,
    rawIds: readonly number[],
  ): Promise<({ id: number; ok: true; task: Task } | { id: number; ok: false; error: DomainError })[]> {
    const ids = [...new Set(rawIds)];
    const outcome = new Map<number, { ok: true; task: Task } | { ok: false; error: DomainError }>();
    const fail = (id: number, error: unknown) => {
      if (error instanceof DomainError) outcome.set(id, { ok: false, error });
      else throw error;
    };

    // Steps 1-2.
    const rows = new Map((await repo.getTasks(this.ctx.db, actor.id, ids)).map((r) => [r.id, r]));
    const candidates: TaskRow[] = [];
    for (const id of ids) {
      try {
        candidates.push(this.eligible(rows.get(id)));
      } catch (err) {
        fail(id, err);
      }
    }

    // The network guard as at an add: the setting may have changed since the task was added.
    const guarded: TaskRow[] = [];
    const verdicts = await mapLimit(
      [...new Set(candidates.map((row) => row.uri))],
      HEAD_CONCURRENCY,
      async (uri) =>
        [
          uri,
          await guardHost(uri, this.tasks.guard).then(
            () => null,
            (err: unknown) => err,
          ),
        ] as const,
    );
    const refusal = new Map(verdicts);
    for (const row of candidates) {
      const err = refusal.get(row.uri);
      if (err) fail(row.id, err);
      else guarded.push(row);
    }

    // Step 3: disk and quota once, HEADs with bounded concurrency, each id on its own. This early
    // check refuses what cannot fit at all; the one that counts runs with the claim below.
    const checked: TaskRow[] = [];
    let limits: SpaceLimits | null = null;
    const sizeByUri = new Map<string, number | null>();
    if (guarded.length > 0) {
      limits = await this.tasks.spaceLimits(actor.id);
      // One HEAD per distinct URI: several failed tasks of one source need one answer.
      const uris = [...new Set(guarded.map((row) => row.uri))];
      const probed = await mapLimit(uris, HEAD_CONCURRENCY, (uri) => this.tasks.probe(uri));
      uris.forEach((uri, i) => {
        sizeByUri.set(uri, probed[i]!);
      });
      for (const row of guarded) {
        try {
          const l = withoutPartial(limits, row);
          checkSpaceBeforeAdd(l, null);
          checkSpaceBeforeAdd(l, sizeByUri.get(row.uri)!);
          checked.push(row);
        } catch (err) {
          fail(row.id, err);
        }
      }
    }

    // Claim: the old rows get replaced_by, the new rows are inserted with retry_of and a gid chosen
    // here, in one transaction; the conditional claim is what makes concurrent retries exclusive.
    const now = nowIso();
    const pairs = await this.ctx.db.transaction().execute(async (trx) => {
      const claimed = await repo.claimForRetry(
        trx,
        actor.id,
        checked.map((r) => r.id),
      );
      for (const old of checked) {
        if (claimed.has(old.id)) continue;
        fail(
          old.id,
          (await repo.getTask(trx, actor.id, old.id))
            ? new ConflictError(NOT_RETRYABLE_SENTENCE)
            : taskNotFound(),
        );
      }
      // The quota again, now that nothing else can reserve: in the given order, each retry reserves
      // its size before the next is checked; the claims of those that no longer fit are released.
      let l = limits ? await this.tasks.spaceLimitsIn(trx, actor.id, limits) : null;
      const olds: TaskRow[] = [];
      const released: number[] = [];
      for (const old of checked.filter((r) => claimed.has(r.id))) {
        const size = sizeByUri.get(old.uri) ?? null;
        try {
          checkSpaceBeforeAdd(withoutPartial(l!, old), size);
        } catch (err) {
          released.push(old.id);
          fail(old.id, err);
          continue;
        }
        l = withReserved(l!, size);
        olds.push(old);
      }
      await repo.undoReplacements(trx, [], released);
      const fresh = await repo.insertTasks(
        trx,
        olds.map((old) => ({
          owner_id: old.owner_id,
          gid: newGid(),
          uri: old.uri,
          display_uri: old.display_uri,
          torrent: old.torrent,
          status: 'queued',
          name: old.name,
          created_at: now,
          updated_at: now,
          option_set: old.option_set,
          dir: old.dir,
          info_hash: old.info_hash,
          retry_of: old.id,
          // Reserved until the download ends, as a new download's size is.
          total_length: sizeByUri.get(old.uri) ?? 0,
        })),
      );
      await repo.linkReplacements(
        trx,
        olds.map((o) => o.id),
      );
      const byOld = new Map(fresh.map((f) => [f.retry_of!, f]));
      return olds.map((old) => ({ old, fresh: byOld.get(old.id)! }));
    });

    // Step 4: the new downloads, in one multicall.
    for (const p of pairs) this.tasks.handingOver.add(p.fresh.id);
    try {
      const handed = await handOver(
        this.ctx.aria2,
        await repo.attachOptions(
          this.ctx.db,
          pairs.map((p) => p.fresh),
        ),
        this.ctx.downloadOptions,
      );
      if (this.crashAt === 'after-handover') throw new Error('injected crash after the hand-over');

      // Steps 5 and 6 in one transaction: successes replace the old rows, failures undo their claims.
      const finishedAt = nowIso();
      const done: { old: TaskRow; fresh: TaskRow }[] = [];
      const failed: { old: TaskRow; fresh: TaskRow }[] = [];
      const outcomes: repo.ReplacementOutcome[] = [];
      for (const pair of pairs) {
        const r = handed.get(pair.fresh.id)!;
        if (!r.ok) {
          failed.push(pair);
          fail(
            pair.old.id,
            new DependencyError(`Failed to create aria2 task: ${publicMessage(r.reason)}`, 500),
          );
          continue;
        }
        const patch = this.tasks.statusPatch(r.gid, r.status, finishedAt, pair.fresh.held_for !== null);
        const fresh = { ...pair.fresh, ...patch, retry_of: null } as TaskRow;
        outcomes.push({
          newId: fresh.id,
          status: fresh.status,
          total_length: fresh.total_length,
          completed_length: fresh.completed_length,
          error: fresh.error,
          finished_at: fresh.finished_at,
        });
        done.push({ old: pair.old, fresh });
      }
      await this.ctx.db.transaction().execute(async (trx) => {
        await repo.completeReplacements(
          trx,
          outcomes,
          done.map((d) => d.old.id),
          finishedAt,
        );
        await repo.undoReplacements(
          trx,
          failed.map((f) => f.fresh.id),
          failed.map((f) => f.old.id),
        );
      });

      // The old downloads leave aria2 (errors ignored: they may be long gone).
      await this.tasks.forgetInAria2(
        done.flatMap(({ old }) => [old.gid, old.origin_gid]),
        { stopped: true },
      );
      // The new downloads wait paused in aria2 until the admission lets them start; the answer shows it.
      for (const { fresh } of done) this.tasks.handingOver.delete(fresh.id);
      if (done.length > 0) await this.tasks.admission.admit();
      const admitted = new Map(
        (
          await repo.getTasksAnyOwner(
            this.ctx.db,
            done.map((d) => d.fresh.id),
          )
        ).map((r) => [r.id, r]),
      );
      for (const { old, fresh: handed } of done) {
        const fresh = admitted.get(handed.id) ?? handed;
        outcome.set(old.id, { ok: true, task: repo.toTask(fresh) });
        this.tasks.emitRemoved(old.owner_id, old.id);
        this.tasks.emitUpdate(fresh);
      }
    } finally {
      for (const p of pairs) this.tasks.handingOver.delete(p.fresh.id);
    }
    return ids.map((id) => ({ id, ...outcome.get(id)! }));
  }

  /**
   * Resolves retries a crash interrupted: a new row still marked `retry_of` never reached the final
   * transaction, so it goes and the old task is released (its download, if aria2 took it, is owned by
   * no row and the sync engine removes it). Claims left without a new row are released too.
   */
  async repairInterrupted(): Promise<number> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const orphans = await trx
        .selectFrom('tasks')
        .select(['id', 'retry_of'])
        .where('retry_of', 'is not', null)
        .execute();
      for (const row of orphans) {
        await repo.deleteTask(trx, row.id);
        await trx.updateTable('tasks').set({ replaced_by: null }).where('id', '=', row.retry_of!).execute();
      }
      await trx
        .updateTable('tasks')
        .set({ replaced_by: null })
        .where('replaced_by', 'is not', null)
        .execute();
      return orphans.length;
    });
  }
}
