/**
 * The task rules the server and the web UI share: the statuses, which action applies to a task in
 * which status, the limits of a request, and the sentences a user reads. The UI imports this file
 * as `@rules`, so it stays plain TypeScript: no imports, no zod, nothing of Node.
 */

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

/** Listed under Tasks: not finished yet (`queued` waits for the controller, the others are in aria2). */
export const CURRENT_STATUSES: readonly TaskStatus[] = ['queued', 'active', 'waiting', 'paused'];
/** Listed under History: finished, failed or stopped. */
export const HISTORY_STATUSES: readonly TaskStatus[] = ['complete', 'error', 'removed'];

export const isCurrent = (s: string): boolean => (CURRENT_STATUSES as readonly string[]).includes(s);
export const isHistory = (s: string): boolean => (HISTORY_STATUSES as readonly string[]).includes(s);
/** Only a failed or stopped download can be retried (the retry route answers 409 otherwise). */
export const isRetryable = (s: string): boolean => s === 'error' || s === 'removed';

/** The `uri` of a task added from an uploaded .torrent file. */
export const TORRENT_URI = '[torrent]';
export const isTorrentUri = (uri: string): boolean => uri === TORRENT_URI;

// ---- limits ----------------------------------------------------------------------------------------

/** The largest .torrent file accepted (decoded). */
export const MAX_TORRENT_BYTES = 16 * 1024 * 1024;
/** The most ids one bulk call (retry, status, delete) takes; a client sends more in chunks. */
export const MAX_IDS_PER_CALL = 1000;
/** The most URIs one batch add takes; a client sends more in chunks. */
export const MAX_URIS_PER_BATCH = 1000;

// ---- which action applies --------------------------------------------------------------------------

/** What the rules read of a task (a Task of the API has all of it). */
export interface TaskFacts {
  status: TaskStatus;
  uri: string;
  artifact_token?: string | null;
  /** A finished torrent that still uploads: done for its owner. */
  seeding?: boolean;
  /** When the server retries it on its own; null or absent when nothing is planned. */
  next_retry_at?: string | null;
}

/** Whether the server has planned a retry of its own for this task. */
export const hasPlannedRetry = (t: Pick<TaskFacts, 'next_retry_at'>): boolean => Boolean(t.next_retry_at);

/** The rules of each action, one predicate per action. */
export const canPause = (t: Pick<TaskFacts, 'status'>): boolean =>
  t.status === 'active' || t.status === 'waiting';
export const canResume = (t: Pick<TaskFacts, 'status'>): boolean => t.status === 'paused';
/** Stop ends a current download: it moves to the history as stopped. */
export const canStop = (t: Pick<TaskFacts, 'status'>): boolean => isCurrent(t.status);
/**
 * The retry button: failed or stopped, or planned by the server (then it retries now). A torrent
 * task shows it too; it offers the re-upload of its stored .torrent instead.
 */
export const canRetry = (t: TaskFacts): boolean => isRetryable(t.status) || hasPlannedRetry(t);
/** What the server retries by id, alone or many at once: failed or stopped, not from a .torrent. */
export const canRetryById = (t: TaskFacts): boolean => isRetryable(t.status) && !isTorrentUri(t.uri);
/** A retry from a new link (one that expired): the same tasks as a retry by id. */
export const canRetryWithLink = canRetryById;
/** A torrent task is added again from its stored .torrent file. */
export const canReupload = (t: TaskFacts): boolean => isRetryable(t.status) && isTorrentUri(t.uri);
/** The server's planned retry can be cancelled (the task stays failed). */
export const canCancelAutoRetry = (t: TaskFacts): boolean => hasPlannedRetry(t);
/**
 * A finished task (or a seeding torrent) whose file is still there (deleting it on the Files page drops
 * the token).
 */
export const canDownload = (t: TaskFacts): boolean =>
  (t.status === 'complete' || t.seeding === true) &&
  t.artifact_token !== null &&
  t.artifact_token !== undefined;
/** Only the waiting queue has an order to change. */
export const canMove = (t: Pick<TaskFacts, 'status'>): boolean => t.status === 'waiting';
/** Any task can be deleted: a running download stops first. */
export const canDelete = (_t: TaskFacts): boolean => true;

// ---- sentences -------------------------------------------------------------------------------------

/** The sentences of the API (`detail`) and of the UI that say the same thing, word for word. */
export const TASK_MESSAGES = {
  /** 400 of a retry of a torrent task. */
  torrentRetry: 'Torrent tasks cannot be retried. Please re-upload the torrent file.',
  /** 409 of a retry of a task that is neither failed nor stopped. */
  notRetryable: 'Only failed or stopped tasks can be retried',
  /** 400 of a re-upload of a task that has no stored .torrent. */
  notTorrent: 'Only a torrent task can be re-uploaded',
  /** 409 of an add that one of the caller's current tasks already downloads. */
  duplicate: 'This download is already in your list',
  /** Of a .torrent file over the limit ("Invalid torrent: larger than 16 MiB"). */
  torrentTooLarge: `larger than ${MAX_TORRENT_BYTES / (1024 * 1024)} MiB`,
  /** A selection with nothing the server retries by id. */
  noRetryable: 'No retryable tasks (torrent tasks need to be re-uploaded)',
} as const;
