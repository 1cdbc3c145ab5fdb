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
 * aria2's own status words map one to one, but for "removed" set by someone other than the owner, and
 * "paused" of a download the controller holds until it may start (`held`): that one is waiting.
 */
export function statusFromAria2(s: string, held = false): TaskStatus {
  switch (s) {
    case 'paused':
      return held ? 'waiting' : 'paused';
    case 'active':
    case 'waiting':
    case 'complete':
    case 'error':
    case 'removed':
      return s;
    default:
      return 'error';
  }
}
