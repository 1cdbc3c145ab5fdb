import type { DaemonState } from '../gateway/types.js';

/**
 * aria2's status word in the controller's names: the six words map one to one; anything else (a word
 * a later aria2 might add, a missing field) is taken as a failure, so a task never stays current on a
 * state nothing would ever change. The only mapping of aria2's words there is.
 */
export function stateFromAria2(word: unknown): DaemonState {
  switch (word) {
    case 'active':
    case 'waiting':
    case 'paused':
    case 'complete':
    case 'error':
    case 'removed':
      return word;
    default:
      return 'error';
  }
}

/** aria2 names a magnet's download of the torrent itself by this prefix instead of a path. */
export const METADATA_PREFIX = '[METADATA]';
