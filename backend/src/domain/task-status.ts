import type { DaemonState } from '../gateway/types.js';
import type { TaskStatus } from './task-rules.js';

// The statuses and their rules live in `task-rules.ts`, which the UI shares.
export {
  CURRENT_STATUSES,
  HISTORY_STATUSES,
  isCurrent,
  isRetryable,
  TASK_STATUSES,
  type TaskStatus,
  TORRENT_URI,
} from './task-rules.js';

/**
 * A task's status from its download's state: the same names, but for "paused" of a download the
 * controller holds until it may start (`held`): that one is waiting.
 */
export function taskStatusOf(state: DaemonState, held = false): TaskStatus {
  return state === 'paused' && held ? 'waiting' : state;
}
