import { describe, expect, it } from 'vitest';
import type { Task, TaskStatus } from '../../lib/types';
import {
  actionForKey,
  actionLabel,
  bulkTargets,
  detailActions,
  isActionEnabled,
  rowActions,
} from './actions';

function task(status: TaskStatus, patch: Partial<Task> = {}): Task {
  return {
    id: 1,
    owner_id: 1,
    gid: null,
    uri: 'https://example.com/a.zip',
    status,
    name: 'a.zip',
    total_length: 0,
    completed_length: 0,
    download_speed: 0,
    upload_speed: 0,
    error: null,
    created_at: '2026-01-23T10:00:00Z',
    updated_at: '2026-01-23T10:00:00Z',
    artifact_path: null,
    artifact_token: null,
    waiting_reason: null,
    attempt: 1,
    next_retry_at: null,
    position: null,
    phase: null,
    seeding: false,
    ...patch,
  };
}

const labels = (t: Task) => rowActions(t).map((a) => actionLabel(a, t));

describe('the action registry', () => {
  it('gives each status its row buttons', () => {
    expect(labels(task('active'))).toEqual(['Pause', 'Delete']);
    expect(labels(task('waiting'))).toEqual(['Pause', 'Delete']);
    expect(labels(task('paused'))).toEqual(['Resume', 'Delete']);
    expect(labels(task('error'))).toEqual(['Retry', 'Delete']);
    expect(labels(task('removed'))).toEqual(['Start again', 'Delete']);
    expect(labels(task('complete'))).toEqual(['Delete']);
    expect(labels(task('complete', { artifact_token: 'tok' }))).toEqual(['Download', 'Delete']);
    expect(labels(task('queued'))).toEqual(['Delete']);
  });

  it('offers Download only on a finished task that has its file', () => {
    const done = task('complete', { artifact_token: 'tok', artifact_path: 'a.zip' });
    expect(isActionEnabled('download', done)).toBe(true);
    // The file was deleted on the Files page: the row stays, without its token.
    expect(isActionEnabled('download', { ...done, artifact_token: null })).toBe(false);
    for (const status of ['active', 'waiting', 'paused', 'queued', 'error', 'removed'] as const) {
      expect(isActionEnabled('download', task(status, { artifact_token: 'tok' }))).toBe(false);
    }
    expect(actionForKey('d', done)).toBeUndefined();
  });

  it('shows Retry on a failed torrent (the click explains why it cannot retry)', () => {
    expect(labels(task('error', { uri: '[torrent]' }))).toContain('Retry');
  });

  it('batch retry targets failed and stopped non-torrent tasks (stopped ones retry one by one too)', () => {
    const tasks = [
      task('error', { id: 1 }),
      task('error', { id: 2, uri: '[torrent]' }),
      task('removed', { id: 3 }),
      task('active', { id: 4 }),
    ];
    expect(bulkTargets('retry', tasks).map((t) => t.id)).toEqual([1, 3]);
    expect(bulkTargets('pause', tasks).map((t) => t.id)).toEqual([4]);
    expect(bulkTargets('delete', tasks)).toHaveLength(4);
  });

  it('offers stop and queue moves on the detail page', () => {
    expect(detailActions(task('waiting')).map((a) => a.id)).toEqual([
      'pause',
      'stop',
      'moveTop',
      'moveBottom',
      'delete',
    ]);
    expect(isActionEnabled('moveTop', task('active'))).toBe(false);
  });

  it('offers Retry now and Cancel on a task the server will retry', () => {
    const planned = task('error', { next_retry_at: '2026-01-23T10:01:00Z', attempt: 1 } as Partial<Task>);
    expect(labels(planned)).toEqual(['Retry now', 'Cancel', 'Delete']);
    expect(detailActions(planned).map((a) => a.id)).toContain('cancelRetry');
    expect(isActionEnabled('cancelRetry', task('error'))).toBe(false);
  });

  it('maps keys to the row actions that apply', () => {
    expect(actionForKey('p', task('active'))?.id).toBe('pause');
    expect(actionForKey('P', task('paused'))?.id).toBe('resume');
    expect(actionForKey('r', task('error'))?.id).toBe('retry');
    expect(actionForKey('r', task('active'))).toBeUndefined();
    expect(actionForKey('Delete', task('complete'))?.id).toBe('delete');
  });
});
