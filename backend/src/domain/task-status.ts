import { stateFromAria2 } from '../aria2/status.js';
import type { DaemonState } from '../gateway/types.js';

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
 * A task's status from its download's state: the same names, but for "paused" of a download the
 * controller holds until it may start (`held`): that one is waiting.
 */
export function taskStatusOf(state: DaemonState, held = false): TaskStatus {
  return state === 'paused' && held ? 'waiting' : state;
}

/**
 * The same from aria2's own status word, for code that still reads aria2's answers itself; the word
 * goes through the gateway's one mapping (`aria2/status.ts`).
 */
export function statusFromAria2(s: string, held = false): TaskStatus {
  return taskStatusOf(stateFromAria2(s), held);
}
