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

/**
 * A torrent whose every selected byte is in and that still runs is seeding (seed-ratio / seed-time):
 * done for its owner (its files can be fetched where they lie, it takes no download slot and does not
 * count as a download in progress), though aria2 still uploads it.
 */
export function isSeeding(row: {
  status: string;
  info_hash: string | null;
  total_length: number;
  completed_length: number;
}): boolean {
  return (
    row.status === 'active' &&
    row.info_hash !== null &&
    row.total_length > 0 &&
    row.completed_length >= row.total_length
  );
}
