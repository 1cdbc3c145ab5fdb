/**
 * What a bulk call's answer means for the tasks it was sent for: which are done (with the task as
 * the server has it now, when it says) and one line per failure, naming the task.
 */

import type { BulkResult } from '../../lib/api';
import { translateDetail } from '../../lib/api-messages';
import type { Task } from '../../lib/types';

export interface BulkOutcome {
  done: { task: Task; now?: Task }[];
  failures: string[];
}

export function bulkOutcome(
  tasks: readonly Task[],
  results: readonly BulkResult[],
  /** A delete: a task the server does not know (404) is gone already, which is what was asked. */
  options: { notFoundIsDone?: boolean } = {},
): BulkOutcome {
  const byId = new Map(results.map((r) => [r.id, r]));
  const outcome: BulkOutcome = { done: [], failures: [] };
  for (const task of tasks) {
    const r = byId.get(task.id);
    const name = task.name ?? task.uri;
    if (!r) outcome.failures.push(`${name}: no answer from the server`);
    else if (r.ok) outcome.done.push(r.task ? { task, now: r.task } : { task });
    else if (r.status === 404 && options.notFoundIsDone) outcome.done.push({ task });
    else outcome.failures.push(`${name}: ${translateDetail(r.detail)}`);
  }
  return outcome;
}
