import { QueryClient } from '@tanstack/react-query';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Task } from '../../lib/types';
import {
  clearTombstones,
  removeTaskEverywhere,
  replaceTasksEverywhere,
  taskKeys,
  upsertTask,
  upsertTasks,
} from './cache';
import type { TaskFilter, TaskListState } from './list-state';

function task(id: number, patch: Partial<Task> = {}): Task {
  return {
    id,
    owner_id: 1,
    gid: null,
    uri: `https://example.com/${id}`,
    status: 'active',
    name: `f${id}`,
    total_length: 100,
    completed_length: 0,
    download_speed: 0,
    upload_speed: 0,
    error: null,
    created_at: `2026-01-23T10:00:${String(id).padStart(2, '0')}Z`,
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

const ALL: TaskFilter = { view: 'all', sort: 'created_at', order: 'desc' };
const HISTORY: TaskFilter = { view: 'history', sort: 'updated_at', order: 'desc' };
const ids = (qc: QueryClient, f: TaskFilter) =>
  qc.getQueryData<TaskListState>(taskKeys.list(f))?.items.map((t) => t.id);

let qc: QueryClient;
beforeEach(() => {
  clearTombstones();
  qc = new QueryClient();
  qc.setQueryData(taskKeys.list(ALL), { items: [task(3), task(2, { status: 'error' }), task(1)], total: 3 });
  qc.setQueryData(taskKeys.list(HISTORY), { items: [task(2, { status: 'error' })], total: 1 });
});

describe('task caches', () => {
  it('a retry replaces the old row at the top of the tasks list and removes it from the history', () => {
    replaceTasksEverywhere(qc, [{ oldId: 2, task: task(10) }]);
    expect(ids(qc, ALL)).toEqual([10, 3, 1]);
    expect(ids(qc, HISTORY)).toEqual([]);
  });

  it('a late socket update of the replaced task does not bring it back', () => {
    replaceTasksEverywhere(qc, [{ oldId: 2, task: task(10) }]);
    upsertTask(qc, task(2, { status: 'error', error: 'late' }), { fromSocket: true });
    expect(ids(qc, ALL)).toEqual([10, 3, 1]);
  });

  it('socket updates merge into every list by its own filter', () => {
    upsertTasks(qc, [task(4), task(1, { status: 'complete' })], { fromSocket: true });
    expect(ids(qc, ALL)).toEqual([4, 3, 2, 1]);
    expect(ids(qc, HISTORY)).toEqual([2, 1]);
  });

  it('task_removed drops the id everywhere', () => {
    removeTaskEverywhere(qc, 2);
    expect(ids(qc, ALL)).toEqual([3, 1]);
    expect(ids(qc, HISTORY)).toEqual([]);
  });
});
