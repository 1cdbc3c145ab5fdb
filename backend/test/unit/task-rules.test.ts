import { describe, expect, it } from 'vitest';
import { batchCreateBody, retryBatchBody, taskStatus } from '../../src/contracts/tasks.js';
import { DuplicateError } from '../../src/domain/errors.js';
import {
  CURRENT_STATUSES,
  canCancelAutoRetry,
  canDelete,
  canDownload,
  canMove,
  canPause,
  canResume,
  canRetry,
  canRetryById,
  canRetryWithLink,
  canReupload,
  canStop,
  HISTORY_STATUSES,
  hasPlannedRetry,
  isCurrent,
  isHistory,
  isRetryable,
  isTorrentUri,
  MAX_IDS_PER_CALL,
  MAX_TORRENT_BYTES,
  MAX_URIS_PER_BATCH,
  TASK_MESSAGES,
  TASK_STATUSES,
  type TaskFacts,
  type TaskStatus,
  TORRENT_URI,
} from '../../src/domain/task-rules.js';

const http = (status: TaskStatus, patch: Partial<TaskFacts> = {}): TaskFacts => ({
  status,
  uri: 'http://127.0.0.1/a.bin',
  artifact_token: null,
  next_retry_at: null,
  ...patch,
});
const torrent = (status: TaskStatus, patch: Partial<TaskFacts> = {}) =>
  http(status, { uri: TORRENT_URI, ...patch });
/** The statuses for which a rule holds on a plain HTTP task. */
const holdsFor = (rule: (t: TaskFacts) => boolean, patch: Partial<TaskFacts> = {}) =>
  TASK_STATUSES.filter((s) => rule(http(s, patch)));

describe('the task rules', () => {
  it('split every status into current or history, never both', () => {
    expect([...CURRENT_STATUSES, ...HISTORY_STATUSES].sort()).toEqual([...TASK_STATUSES].sort());
    expect(TASK_STATUSES.filter(isCurrent)).toEqual(['queued', 'active', 'waiting', 'paused']);
    expect(TASK_STATUSES.filter(isHistory)).toEqual(['complete', 'error', 'removed']);
    expect(isCurrent('unknown')).toBe(false);
    // The contract's status enum is the same list.
    expect(taskStatus.options).toEqual([...TASK_STATUSES]);
  });

  it('retry only failed or stopped tasks', () => {
    expect(TASK_STATUSES.filter(isRetryable)).toEqual(['error', 'removed']);
  });

  it('know a torrent task by its uri', () => {
    expect(isTorrentUri(TORRENT_URI)).toBe(true);
    expect(isTorrentUri('magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567')).toBe(false);
  });

  it('pause an active or waiting task, resume a paused one', () => {
    expect(holdsFor(canPause)).toEqual(['active', 'waiting']);
    expect(holdsFor(canResume)).toEqual(['paused']);
  });

  it('stop any current task', () => {
    expect(holdsFor(canStop)).toEqual(['queued', 'active', 'waiting', 'paused']);
  });

  it('offer the retry button on failed, stopped and planned tasks, torrents included', () => {
    expect(holdsFor(canRetry)).toEqual(['error', 'removed']);
    expect(canRetry(torrent('error'))).toBe(true);
    expect(canRetry(http('active', { next_retry_at: '2026-01-23T10:01:00Z' }))).toBe(true);
  });

  it('retry by id (and from a new link) failed or stopped tasks that are not torrents', () => {
    expect(holdsFor(canRetryById)).toEqual(['error', 'removed']);
    expect(canRetryById(torrent('error'))).toBe(false);
    expect(holdsFor(canRetryWithLink)).toEqual(['error', 'removed']);
    expect(canRetryWithLink(torrent('removed'))).toBe(false);
  });

  it('re-upload only a failed or stopped torrent task', () => {
    expect(TASK_STATUSES.filter((s) => canReupload(torrent(s)))).toEqual(['error', 'removed']);
    expect(holdsFor(canReupload)).toEqual([]);
  });

  it('cancel an automatic retry only when one is planned', () => {
    expect(hasPlannedRetry(http('error'))).toBe(false);
    expect(canCancelAutoRetry(http('error'))).toBe(false);
    expect(canCancelAutoRetry(http('error', { next_retry_at: '2026-01-23T10:01:00Z' }))).toBe(true);
  });

  it('download a finished task whose file is still there', () => {
    expect(holdsFor(canDownload, { artifact_token: 'tok' })).toEqual(['complete']);
    expect(canDownload(http('complete'))).toBe(false);
    expect(canDownload(http('complete', { artifact_token: undefined }))).toBe(false);
    // A seeding torrent is done for its owner: its file downloads where it is seeded from.
    expect(canDownload(http('active', { artifact_token: 'tok', seeding: true }))).toBe(true);
    expect(canDownload(http('active', { artifact_token: null, seeding: true }))).toBe(false);
  });

  it('move only waiting tasks in the queue, delete any task', () => {
    expect(holdsFor(canMove)).toEqual(['waiting']);
    expect(holdsFor(canDelete)).toEqual([...TASK_STATUSES]);
  });

  it('limit a torrent to 16 MiB and say so in the same number', () => {
    expect(MAX_TORRENT_BYTES).toBe(16 * 1024 * 1024);
    expect(TASK_MESSAGES.torrentTooLarge).toBe('larger than 16 MiB');
  });

  it('take at most 1000 ids and 1000 URIs per call, as the contracts check', () => {
    expect(MAX_IDS_PER_CALL).toBe(1000);
    expect(MAX_URIS_PER_BATCH).toBe(1000);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expect(retryBatchBody.safeParse({ ids: ids(MAX_IDS_PER_CALL) }).success).toBe(true);
    expect(retryBatchBody.safeParse({ ids: ids(MAX_IDS_PER_CALL + 1) }).success).toBe(false);
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `http://127.0.0.1/${i}`);
    expect(batchCreateBody.safeParse({ uris: uris(MAX_URIS_PER_BATCH) }).success).toBe(true);
    expect(batchCreateBody.safeParse({ uris: uris(MAX_URIS_PER_BATCH + 1) }).success).toBe(false);
  });

  it('word the API sentences the server answers with', () => {
    expect(TASK_MESSAGES.torrentRetry).toBe(
      'Torrent tasks cannot be retried. Please re-upload the torrent file.',
    );
    expect(TASK_MESSAGES.notRetryable).toBe('Only failed or stopped tasks can be retried');
    expect(TASK_MESSAGES.notTorrent).toBe('Only a torrent task can be re-uploaded');
    expect(new DuplicateError(1).detail).toBe('This download is already in your list');
    expect(TASK_MESSAGES.duplicate).toBe(new DuplicateError(1).detail);
  });
});
