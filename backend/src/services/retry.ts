import type { RetryFilter, RetryResult, Task } from '../contracts/tasks.js';
import {
  BadRequestError,
  ConflictError,
  DependencyError,
  DomainError,
  taskNotFound,
} from '../domain/errors.js';
import { publicMessage } from '../domain/messages.js';
import { checkSpaceBeforeAdd, type SpaceLimits, withReserved } from '../domain/size.js';
import { TASK_MESSAGES } from '../domain/task-rules.js';
import { isRetryable, TORRENT_URI } from '../domain/task-status.js';
import { nowIso } from '../domain/time.js';
import { parseTorrent } from '../domain/torrent.js';
import { magnetInfoHash, maskUri, nameFromUri } from '../domain/uri.js';
import type { TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import type { Admission } from './admission.js';
import type { Actor, ServiceContext } from './context.js';
import { handOverByNode, makeTaskFolders, newGid, storedOptions } from './handover.js';
import { guardSources } from './network.js';
import { forgetRowDownloads } from './tasks/forget.js';
import { statusPatch } from './tasks/hand-over.js';
import { HEAD_CONCURRENCY, mapLimit, type SourceChecks, validateUri } from './tasks/sources.js';
import type { SpaceService } from './tasks/space.js';
import type { HandOverTracker } from './tasks/tracker.js';

const TORRENT_SENTENCE = TASK_MESSAGES.torrentRetry;
const NOT_RETRYABLE_SENTENCE = TASK_MESSAGES.notRetryable;
const NOT_TORRENT_SENTENCE = TASK_MESSAGES.notTorrent;
/** A retry by filter works through the matching tasks this many at a time (memory, aria2 request size). */
export const FILTER_CHUNK = 500;
/** How many failures a retry by filter reports. */
const FILTER_FAILURES_SHOWN = 100;

/**
 * What a retry hands to aria2: the same source (`same`), a new URI for a link that expired (`uri`),
 * or an uploaded torrent's stored .torrent file (`torrent`, the re-upload). `planned`: only tasks the
 * auto-retry planned (the scheduler), so a plan cancelled meanwhile is not retried.
 */
export type RetrySource = { kind: 'same' } | { kind: 'uri'; uri: string } | { kind: 'torrent' };
interface RetryOptions {
  source?: RetrySource;
  planned?: boolean;
  /**
   * Whether the answer waits for the admission pass (it shows each task's outcome). A retry by filter
   * answers with counts only: its held rows are decided by one pass after it.
   */
  admit?: boolean;
}
type Outcome = { id: number; ok: true; task: Task } | { id: number; ok: false; error: DomainError };
/** A retry's state between its checks and its claim: the rows that passed, and what refused the rest. */
interface Checked {
  ids: number[];
  outcome: Map<number, { ok: true; task: Task } | { ok: false; error: DomainError }>;
  /** Records a refusal as the task's outcome (any other error goes on up). */
  fail: (id: number, error: unknown) => void;
  /** The URI each new download gets. */
  sourceOf: (row: TaskRow) => string;
  checked: TaskRow[];
  /** The size each new download is checked with: a HEAD's answer, or a stored torrent's total. */
  sizeOf: Map<number, number | null>;
  limits: SpaceLimits | null;
  foldersMade: Promise<boolean>;
}

/**
 * The limits for retrying `old`: its partial file is resumed by the new download (same folder), which
 * counts those bytes from then on, so they are not counted twice.
 */
function withoutPartial(limits: SpaceLimits, old: TaskRow): SpaceLimits {
  return { ...limits, usedSpace: Math.max(0, limits.usedSpace - old.completed_length) };
}

/** What a retry works with, shared with the task services. */
export interface RetryDeps {
  /** Marks the new downloads while they are handed over, so the sync engine leaves them alone. */
  handingOver: HandOverTracker;
  admission: Admission;
  sources: SourceChecks;
  limits: SpaceService;
}

/**
 * Points of a retry where a fault can be injected (tests prove a crash there is repaired at the next
 * start); production passes none.
 */
export interface RetryFaults {
  /** Runs right after aria2 took the new downloads, before the final transaction. */
  afterHandover?(): void;
}

/**
 * Retry and replace: one call turns a failed or stopped task into a new download of
 * the same source, in the same folder with the same options, and removes the old task.
 *
 * Atomicity: the old row is claimed (replaced_by set) in the same transaction that inserts the new row
 * (retry_of set) under a gid chosen here, so concurrent retries of one task see the claim and get 409,
 * and a crash at any point leaves a pair that `repairInterrupted` resolves at the next start.
 */
export class RetryService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: RetryDeps,
    private readonly faults: RetryFaults = {},
  ) {}

  /** Steps 1 and 2: the task exists, is the caller's, is not a torrent, and failed or was stopped. */
  private eligible(row: TaskRow | undefined, source: RetrySource, planned: boolean): TaskRow {
    if (!row || row.replaced_by !== null) {
      // A task already being replaced is, to everyone else, on its way out.
      if (row) throw new ConflictError(NOT_RETRYABLE_SENTENCE);
      throw taskNotFound();
    }
    const isTorrent = row.uri === TORRENT_URI;
    if (source.kind === 'torrent') {
      if (!isTorrent || !row.torrent) throw new BadRequestError(NOT_TORRENT_SENTENCE);
    } else if (isTorrent) {
      throw new BadRequestError(TORRENT_SENTENCE);
    }
    if (!isRetryable(row.status)) throw new ConflictError(NOT_RETRYABLE_SENTENCE);
    if (planned && row.next_retry_at === null) throw new ConflictError('No retry is planned for this task');
    return row;
  }

  /** The single retry; with `newUri`, a new source checked like an add. */
  async retry(actor: Actor, id: number, newUri?: string): Promise<Task> {
    const source: RetrySource =
      newUri === undefined ? { kind: 'same' } : { kind: 'uri', uri: validateUri(newUri) };
    return this.one(actor, id, { source });
  }

  /** Re-adds an uploaded torrent from its stored .torrent file, with every guarantee of a retry. */
  async reupload(actor: Actor, id: number): Promise<Task> {
    return this.one(actor, id, { source: { kind: 'torrent' } });
  }

  /** The scheduler's retry of planned tasks (the owner acts; a plan cancelled meanwhile is skipped). */
  retryPlanned(actor: Actor, ids: readonly number[]): Promise<Outcome[]> {
    return this.retryMany(actor, ids, { planned: true });
  }

  private async one(actor: Actor, id: number, options: RetryOptions): Promise<Task> {
    const [result] = await this.retryMany(actor, [id], options);
    if (!result!.ok) throw result!.error;
    return result!.task;
  }

  /**
   * Every retryable task of the caller that matches, however many: read and retried FILTER_CHUNK at a
   * time by ascending id, up to the newest id seen at the start (the new tasks are never picked up).
   * The next chunk's sources are checked while the chunk before it is claimed and handed to aria2, so
   * the HEADs never wait for a hand-over; at most two chunks are in memory.
   */
  async retryByFilter(
    actor: Actor,
    filter: RetryFilter,
  ): Promise<{ retried: number; failed: { id: number; status: number; detail: string }[] }> {
    const last = await repo.maxTaskId(this.ctx.db, actor.id);
    let after = 0;
    // The next chunk's ids (keyset by id) and its checks; null when none are left.
    const checkNext = async (): Promise<Checked | null> => {
      const ids = await repo.retryableIds(this.ctx.db, actor.id, filter, after, last, FILTER_CHUNK);
      if (ids.length === 0) return null;
      after = ids[ids.length - 1]!;
      return this.check(actor, ids, {});
    };
    // Per chunk only counts and the first failures are kept.
    let retried = 0;
    const failed: { id: number; status: number; detail: string }[] = [];
    await this.tasks.admission.deferWhile(async () => {
      // Each chunk's checks are handled at once: one that fails while a hand-over runs is reported
      // when the loop reaches it, not as an unhandled rejection.
      const checkAhead = () => {
        const ahead = checkNext();
        ahead.catch(() => undefined);
        return ahead;
      };
      let next = checkAhead();
      try {
        for (let current = await next; current; current = await next) {
          next = checkAhead();
          const results = await this.finish(actor, current, { admit: false });
          for (const r of results) {
            if (r.ok) retried++;
            else if (failed.length < FILTER_FAILURES_SHOWN)
              failed.push({ id: r.id, status: r.error.status, detail: r.error.detail });
          }
        }
      } catch (err) {
        // A chunk checked meanwhile is dropped (nothing of it was claimed).
        await next.catch(() => undefined);
        throw err;
      }
    });
    return { retried, failed };
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
    options: RetryOptions = {},
  ): Promise<Outcome[]> {
    return this.finish(actor, await this.check(actor, rawIds, options), options);
  }

  /** Steps 1 to 3 up to the claim: the rows, the network guard and the HEADs, the free disk. */
  private async check(
    actor: Actor,
    rawIds: readonly number[],
    { source = { kind: 'same' }, planned = false }: RetryOptions,
  ): Promise<Checked> {
    const ids = [...new Set(rawIds)];
    // The URI each new download gets: a new one given, else the task's own.
    const sourceOf = (row: TaskRow) => (source.kind === 'uri' ? source.uri : row.uri);
    // The size each new download is checked with: a HEAD's answer, or a stored torrent's total.
    const sizeOf = new Map<number, number | null>();
    let limitsRead: Promise<SpaceLimits> | null = null;
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
        candidates.push(this.eligible(rows.get(id), source, planned));
      } catch (err) {
        fail(id, err);
      }
    }

    // The folders (the old tasks' own, to resume in) are made meanwhile, off the way to aria2; a
    // failure is met again, and reported, by the hand-over.
    const foldersMade =
      candidates.length > 0
        ? makeTaskFolders(this.ctx.nodes, candidates).then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);

    // The network guard as at an add: the setting may have changed since the task was added. A torrent's
    // trackers and web seeds are checked again from its stored file.
    const guarded: TaskRow[] = [];
    if (source.kind === 'torrent') {
      for (const row of candidates) {
        try {
          const parsed = parseTorrent(row.torrent!);
          await guardSources(
            [...parsed.trackers, ...parsed.webSeeds],
            this.tasks.sources.guard,
            'Invalid torrent file',
          );
          sizeOf.set(row.id, parsed.totalLength);
          guarded.push(row);
        } catch (err) {
          fail(row.id, err);
        }
      }
    } else {
      // The guard and then the HEAD of each distinct URI in one bounded pass (several failed tasks of
      // one source need one answer), while the free disk is read.
      limitsRead = candidates.length > 0 ? this.tasks.limits.diskLimits(actor.id) : null;
      type Verdict = [string, { refused: unknown; size: number | null }];
      const verdicts = await mapLimit(
        [...new Set(candidates.map(sourceOf))],
        HEAD_CONCURRENCY,
        async (uri): Promise<Verdict> => {
          try {
            await this.tasks.sources.guardHost(uri);
          } catch (err) {
            return [uri, { refused: err, size: null }];
          }
          return [uri, { refused: null, size: await this.tasks.sources.probe(uri) }];
        },
      );
      const byUri = new Map(verdicts);
      for (const row of candidates) {
        const v = byUri.get(sourceOf(row))!;
        if (v.refused) fail(row.id, v.refused);
        else {
          sizeOf.set(row.id, v.size);
          guarded.push(row);
        }
      }
    }

    // Step 3, the free disk: refused before anything is claimed. The size and quota checks, which
    // need the user's space, run with the claim below (the quota used up goes first, whatever the size).
    const checked: TaskRow[] = [];
    if (guarded.length === 0) await limitsRead?.catch(() => undefined);
    const limits = guarded.length > 0 ? await (limitsRead ?? this.tasks.limits.diskLimits(actor.id)) : null;
    for (const row of guarded) {
      try {
        checkSpaceBeforeAdd(limits!, null);
        checked.push(row);
      } catch (err) {
        fail(row.id, err);
      }
    }

    return { ids, outcome, fail, sourceOf, checked, sizeOf, limits, foldersMade };
  }

  /** From the claim on: the new rows, aria2's new downloads, the outcome recorded, the old rows gone. */
  private async finish(
    actor: Actor,
    { ids, outcome, fail, sourceOf, checked, sizeOf, limits, foldersMade }: Checked,
    { planned = false, admit = true }: RetryOptions,
  ): Promise<Outcome[]> {
    // Claim: the old rows get replaced_by, the new rows are inserted with retry_of and a gid chosen
    // here, in one transaction; the conditional claim is what makes concurrent retries exclusive.
    const now = nowIso();
    const pairs = await this.ctx.db.transaction().execute(async (trx) => {
      const claimed = await repo.claimForRetry(
        trx,
        actor.id,
        checked.map((r) => r.id),
        planned,
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
      // The quota again, now that nothing else can reserve (the claim locked the user's row): in the
      // given order, each retry reserves its size before the next is checked; the claims of those that
      // no longer fit are released.
      let l =
        limits && claimed.size > 0
          ? await this.tasks.limits.spaceLimitsIn(trx, actor.id, limits, { locked: true })
          : null;
      const olds: TaskRow[] = [];
      const released: number[] = [];
      for (const old of checked.filter((r) => claimed.has(r.id))) {
        const size = sizeOf.get(old.id) ?? null;
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
      // A new link is named from the add's `out` when it had one.
      const optionsOf = new Map((await repo.attachOptions(trx, olds)).map((o) => [o.id, o.options]));
      // The new rows, each old row pointed at its new one, marked with the claim: another instance
      // starting now must not take them for ones a crash interrupted.
      const mark = this.tasks.handingOver.markToStore();
      const fresh = await repo.insertReplacements(
        trx,
        olds.map((old) => {
          const uri = sourceOf(old);
          const renamed = uri !== old.uri;
          return {
            owner_id: old.owner_id,
            gid: newGid(),
            uri,
            display_uri: renamed ? maskUri(uri) : old.display_uri,
            torrent: old.torrent,
            status: 'queued',
            // A new link names the file anew unless the add named it (`out`); the folder stays, to resume.
            name: renamed ? (storedOptions(optionsOf.get(old.id) ?? '{}').out ?? nameFromUri(uri)) : old.name,
            created_at: now,
            updated_at: now,
            option_set: old.option_set,
            dir: old.dir,
            info_hash: renamed ? (uri.startsWith('magnet:') ? magnetInfoHash(uri) : null) : old.info_hash,
            retry_of: old.id,
            // The lineage: a retry of a planned task is its next attempt; any other retry starts afresh.
            attempt: old.next_retry_at !== null ? old.attempt + 1 : 1,
            auto_retry: old.auto_retry,
            // The new download runs where the old one did (its folder is there).
            node: old.node,
            // Reserved until the download ends, as a new download's size is.
            total_length: sizeOf.get(old.id) ?? 0,
          };
        }),
        mark,
      );
      this.tasks.handingOver.markedWith(fresh.map((f) => f.id));
      const byOld = new Map(fresh.map((f) => [f.retry_of!, f]));
      // The new row shares the old one's option set: its options are read once, here.
      return olds.map((old) => ({ old, fresh: byOld.get(old.id)!, options: optionsOf.get(old.id) ?? '{}' }));
    });

    // Step 4: the new downloads, in one multicall.
    const freshIds = pairs.map((p) => p.fresh.id);
    let unmarked = false;
    try {
      const handed = await handOverByNode(
        this.ctx.nodes,
        pairs.map((p) => ({ ...p.fresh, options: p.options })),
        this.ctx.downloadOptions,
        { foldersMade: await foldersMade },
      );
      this.faults.afterHandover?.();

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
        const patch = statusPatch(r.gid, r.status, finishedAt, pair.fresh.held_for !== null);
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
      const recorded = (async () => {
        const oldIds = done.map((d) => d.old.id);
        if (failed.length === 0 && repo.completesAtOnce(this.ctx.db, outcomes.length, oldIds.length)) {
          // One statement, atomic on its own, that also removes the database's marks (one round
          // trip fewer); this instance's go right after it (the admission's pass leaves marked rows alone).
          await repo.completeReplacementsAtOnce(
            this.ctx.db,
            outcomes,
            oldIds,
            finishedAt,
            this.tasks.handingOver.storedMarks(freshIds),
          );
          await this.tasks.handingOver.unmark(freshIds, { stored: false });
          unmarked = true;
          return;
        }
        await this.ctx.db.transaction().execute(async (trx) => {
          await repo.completeReplacements(trx, outcomes, oldIds, finishedAt);
          await repo.undoReplacements(
            trx,
            failed.map((f) => f.fresh.id),
            failed.map((f) => f.old.id),
          );
          await this.tasks.handingOver.unmarkStored(freshIds, trx);
        });
        await this.tasks.handingOver.unmark(freshIds, { stored: false });
        unmarked = true;
      })();
      // Meanwhile, aria2 forgets the old downloads (errors ignored: they may be long gone) and the
      // admission reads aria2's lists for its pass, which reads the rows once they are recorded. The
      // new downloads wait paused in aria2 until the admission lets them start; the answer shows it.
      const forgotten = forgetRowDownloads(
        this.ctx.nodes,
        done.map(({ old }) => old),
        { stopped: true, logger: this.ctx.logger },
      );
      const admitting =
        done.length > 0 && admit
          ? this.tasks.admission.admitAndRead(
              done.map((d) => d.fresh),
              recorded,
            )
          : Promise.resolve(done.map((d) => d.fresh));
      try {
        await recorded;
      } catch (err) {
        await Promise.all([forgotten, admitting.catch(() => undefined)]);
        throw err;
      }
      const [, admitted] = await Promise.all([forgotten, admitting]);
      for (const [i, { old }] of done.entries()) {
        const fresh = admitted[i]!;
        outcome.set(old.id, { ok: true, task: repo.toTask(fresh) });
        this.ctx.events.taskRemoved(old.owner_id, old.id, fresh.id);
        this.ctx.events.taskUpdate(fresh);
      }
    } finally {
      if (!unmarked) await this.tasks.handingOver.unmark(freshIds);
    }
    return ids.map((id) => ({ id, ...outcome.get(id)! }));
  }

  /**
   * Resolves retries a crash interrupted: a new row still marked `retry_of` never reached the final
   * transaction, so it goes and the old task is released (its download, if aria2 took it, is owned by
   * no row and the sync engine removes it). Claims left without a new row are released too.
   */
  async repairInterrupted(): Promise<number> {
    // A retry another instance is running right now is marked as a hand-over: it is left alone.
    return repo.repairInterruptedRetries(this.ctx.db, await this.tasks.handingOver.othersNow());
  }
}
