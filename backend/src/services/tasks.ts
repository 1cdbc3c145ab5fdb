import { dialectOf } from '../db/dialect.js';
import type { EgressGuard } from '../egress/guard.js';
import { Admission } from './admission.js';
import type { ServiceContext } from './context.js';
import { SpeedHistory } from './speed-history.js';
import { Storage } from './storage.js';
import { AddTasksService } from './tasks/add.js';
import { ControlTasksService } from './tasks/control.js';
import { DeleteTasksService } from './tasks/delete.js';
import { HandOverService } from './tasks/hand-over.js';
import { TaskQueryService } from './tasks/query.js';
import { SourceChecks } from './tasks/sources.js';
import { SpaceService } from './tasks/space.js';
import { HandOverTracker } from './tasks/tracker.js';

export { DUPLICATE_SENTENCE } from './tasks/add.js';
export { HEAD_CONCURRENCY, mapLimit, validateUri } from './tasks/sources.js';

/**
 * The task use-cases the routes call: adding (`add`), controlling (`control`), deleting (`remove`) and
 * reading (`query`) a user's tasks. Every use-case takes the acting user first; ownership lives in the
 * repository queries, so a foreign task is simply not found. Other services and jobs are given the
 * collaborators they need themselves (below), never through this bundle.
 */
export interface TaskServices {
  readonly add: AddTasksService;
  readonly control: ControlTasksService;
  readonly remove: DeleteTasksService;
  readonly query: TaskQueryService;
}

/** What the task services share with the retry, the sync engine and the stats. */
export interface TaskCollaborators {
  readonly storage: Storage;
  readonly handingOver: HandOverTracker;
  readonly admission: Admission;
  readonly sources: SourceChecks;
  readonly limits: SpaceService;
  readonly speeds: SpeedHistory;
  readonly handOver: HandOverService;
}

/**
 * Builds the task services and their shared collaborators, once: the composition root calls it, and
 * service tests build the same graph on their own context.
 */
export function buildTaskServices(
  ctx: ServiceContext,
  guard: EgressGuard,
  /** The users' folders; built here when not given (the composition root shares one, tests inject statfs). */
  storage: Storage = new Storage(ctx),
): TaskServices & TaskCollaborators {
  // Several controller instances share only a PostgreSQL database; on SQLite the marks stay in memory.
  const handingOver = new HandOverTracker(ctx.db, ctx.instanceId, null, dialectOf(ctx.db) === 'postgres');
  const admission = new Admission(ctx, handingOver);
  const sources = new SourceChecks(guard);
  const limits = new SpaceService(ctx, storage);
  const speeds = new SpeedHistory();
  const handOver = new HandOverService(ctx, handingOver, admission);
  const query = new TaskQueryService(ctx, speeds);
  return {
    add: new AddTasksService(ctx, { storage, sources, space: limits, handOver }),
    control: new ControlTasksService(ctx, query, limits, admission, handingOver),
    remove: new DeleteTasksService(ctx, { storage, handingOver, admission }),
    query,
    storage,
    handingOver,
    admission,
    sources,
    limits,
    speeds,
    handOver,
  };
}
