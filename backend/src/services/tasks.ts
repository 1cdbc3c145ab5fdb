import { EgressGuard } from '../egress/guard.js';
import type { TaskRow } from '../repositories/tasks.js';
import { Admission } from './admission.js';
import type { ServiceContext } from './context.js';
import { SpeedHistory } from './speed-history.js';
import { Storage } from './storage.js';
import { AddTasksService } from './tasks/add.js';
import { ControlTasksService } from './tasks/control.js';
import { DeleteTasksService } from './tasks/delete.js';
import { forgetDownloads } from './tasks/forget.js';
import { HandOverService } from './tasks/hand-over.js';
import { TaskQueryService } from './tasks/query.js';
import { SourceChecks } from './tasks/sources.js';
import { SpaceService } from './tasks/space.js';
import { HandOverTracker } from './tasks/tracker.js';

export { DUPLICATE_SENTENCE } from './tasks/add.js';
export { HEAD_CONCURRENCY, mapLimit, validateUri } from './tasks/sources.js';

/**
 * The task services and the collaborators they share, built once: adding (`add`), controlling
 * (`control`), deleting (`remove`) and reading (`query`) a user's tasks, the space limits (`limits`),
 * the hand-over (`handOver`) and the tracker of tasks being handed over (`handingOver`). Every
 * use-case takes the acting user first; ownership lives in the repository queries, so a foreign task
 * is simply not found. The few methods below are for the background jobs and the other services.
 */
export class TasksService {
  readonly storage: Storage;
  /** Task ids being handed to aria2 (or taken out of it) right now; the sync engine leaves them alone. */
  readonly handingOver = new HandOverTracker();
  /** The network checks every add, retry and size check goes through. */
  readonly sources: SourceChecks;
  /** Lets held downloads start, fairly between users (services/admission.ts). */
  readonly admission: Admission;
  /** The last few minutes of each running task's speed, for the task page's chart. */
  readonly speeds = new SpeedHistory();
  readonly limits: SpaceService;
  readonly handOver: HandOverService;
  readonly query: TaskQueryService;
  readonly add: AddTasksService;
  readonly control: ControlTasksService;
  readonly remove: DeleteTasksService;

  constructor(private readonly ctx: ServiceContext) {
    this.storage = new Storage(ctx.config.downloadDir);
    this.sources = new SourceChecks(
      ctx.egress ?? new EgressGuard({ allowPrivate: () => ctx.settings.get().allow_private_network }),
    );
    this.admission = new Admission(ctx, this.handingOver);
    this.limits = new SpaceService(ctx, this.storage);
    this.handOver = new HandOverService(ctx, this.handingOver, this.admission);
    this.query = new TaskQueryService(ctx, this.speeds);
    this.add = new AddTasksService(ctx, {
      storage: this.storage,
      sources: this.sources,
      space: this.limits,
      handOver: this.handOver,
    });
    this.control = new ControlTasksService(ctx, this.query, this.limits, this.admission);
    this.remove = new DeleteTasksService(ctx, {
      storage: this.storage,
      handingOver: this.handingOver,
      admission: this.admission,
    });
  }

  /** The network guard (the sync engine checks restored downloads with it). */
  get guard(): EgressGuard {
    return this.sources.guard;
  }

  emitUpdate(row: TaskRow): void {
    this.ctx.events.taskUpdate(row);
  }

  recordPositions(waitingGids: readonly string[]): Promise<void> {
    return this.control.recordPositions(waitingGids);
  }

  handOverRows(rows: TaskRow[]): Promise<TaskRow[]> {
    return this.handOver.handOverRows(rows);
  }

  forgetInAria2(gids: readonly (string | null)[], options?: { stopped?: boolean }): Promise<void> {
    // The sync engine's downloads are the local node's.
    return forgetDownloads(this.ctx.nodes.local, gids, options);
  }

  /** Stops and forgets all of a user's downloads in aria2 (before the user is deleted). */
  forgetAllOf(userId: number): Promise<void> {
    return this.remove.forgetAllOf(userId);
  }

  space(userId: number): Promise<{ used: number; quota: number; available: number }> {
    return this.limits.space(userId);
  }
}
