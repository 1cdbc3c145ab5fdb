export const TASK_STATUSES = [
  'queued',
  'active',
  'waiting',
  'paused',
  'complete',
  'error',
  'removed',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const CURRENT_STATUSES: readonly TaskStatus[] = ['queued', 'active', 'waiting', 'paused'];
export const HISTORY_STATUSES: readonly TaskStatus[] = ['complete', 'error', 'removed'];

export const isCurrent = (s: string): boolean => (CURRENT_STATUSES as readonly string[]).includes(s);
/** Only a failed or stopped download can be retried (the retry route answers 409 otherwise). */
export const isRetryable = (s: string): boolean => s === 'error' || s === 'removed';

export const TORRENT_URI = '[torrent]';

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
