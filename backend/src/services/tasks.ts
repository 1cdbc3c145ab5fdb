import type { AddTasksService } from './tasks/add.js';
import type { ControlTasksService } from './tasks/control.js';
import type { DeleteTasksService } from './tasks/delete.js';
import type { TaskQueryService } from './tasks/query.js';

export { DUPLICATE_SENTENCE } from './tasks/add.js';
export { HEAD_CONCURRENCY, mapLimit, validateUri } from './tasks/sources.js';

/**
 * The task use-cases the routes call: adding (`add`), controlling (`control`), deleting (`remove`) and
 * reading (`query`) a user's tasks. Every use-case takes the acting user first; ownership lives in the
 * repository queries, so a foreign task is simply not found. The composition root builds them and the
 * collaborators they share (storage, the hand-over tracker, the admission); other services and jobs
 * are given those collaborators themselves, never through this bundle.
 */
export interface TaskServices {
  readonly add: AddTasksService;
  readonly control: ControlTasksService;
  readonly remove: DeleteTasksService;
  readonly query: TaskQueryService;
}
