/**
 * The task caches of TanStack Query and the operations that keep them right: socket messages,
 * action answers and retries are applied to every cached list (each with its own filter and
 * sort) through the pure functions of list-state.ts.
 */

import type { QueryClient, QueryKey } from '@tanstack/react-query';
import { t } from '../../lib/i18n';
import { notify } from '../../lib/notifications';
import type { Stats, Task, TaskDetail, TaskStatus } from '../../lib/types';
import {
  findTask,
  isCurrent,
  isHistory,
  matchesFilter,
  mergeTask,
  moveInQueue,
  removeTasks,
  replaceTasks,
  type TaskFilter,
  type TaskListState,
} from './list-state';

export const taskKeys = {
  all: ['tasks'] as const,
  lists: () => ['tasks', 'list'] as const,
  list: (filter: TaskFilter) => ['tasks', 'list', filter] as const,
  details: () => ['tasks', 'detail'] as const,
  detail: (id: number) => ['tasks', 'detail', id] as const,
  files: (id: number) => ['tasks', 'files', id] as const,
};
export const statsKey = ['stats'] as const;
export const meKey = ['me'] as const;

// ------------------------------------------------------------------ tombstones
// A task removed here (deleted, or replaced by a retry) must not come back from a late socket
// update that was sent before the removal. Keyed by id and creation time (an id may be reused).
const TOMBSTONE_MS = 60_000;
const tombstones = new Map<number, { createdAt: string | null; at: number }>();

export function markGone(id: number, createdAt: string | null): void {
  tombstones.set(id, { createdAt, at: Date.now() });
}

export function isGone(task: Pick<Task, 'id' | 'created_at'>): boolean {
  const t = tombstones.get(task.id);
  if (!t) return false;
  if (Date.now() - t.at > TOMBSTONE_MS) {
    tombstones.delete(task.id);
    return false;
  }
  return t.createdAt === null || t.createdAt === task.created_at;
}

export function clearTombstones(): void {
  tombstones.clear();
}

// ------------------------------------------------------------------ helpers
function listQueries(qc: QueryClient): { key: QueryKey; filter: TaskFilter; data: TaskListState }[] {
  const out: { key: QueryKey; filter: TaskFilter; data: TaskListState }[] = [];
  for (const query of qc.getQueryCache().findAll({ queryKey: taskKeys.lists() })) {
    const filter = query.queryKey[2] as TaskFilter | undefined;
    const data = query.state.data as TaskListState | undefined;
    if (filter && data) out.push({ key: query.queryKey, filter, data });
  }
  return out;
}

function updateLists(qc: QueryClient, fn: (list: TaskListState, filter: TaskFilter) => TaskListState): void {
  for (const { key, filter, data } of listQueries(qc)) {
    const next = fn(data, filter);
    if (next !== data) qc.setQueryData(key, next);
  }
}

/** The task as some cache knows it. */
export function findCachedTask(qc: QueryClient, id: number): Task | undefined {
  const detail = qc.getQueryData<TaskDetail>(taskKeys.detail(id));
  if (detail) return detail;
  for (const { data } of listQueries(qc)) {
    const t = findTask(data, id);
    if (t) return t;
  }
  return undefined;
}

// ------------------------------------------------------------------ operations
const lastStatus = new Map<number, TaskStatus>();

function notifyTransition(previous: TaskStatus | undefined, task: Task): void {
  if (!previous || previous === task.status || !isCurrent(previous)) return;
  const name = task.name ?? task.uri;
  if (task.status === 'complete') notify(t('notify.complete'), name, `task-${task.id}`);
  else if (task.status === 'error')
    notify(t('notify.failed'), `${name}\n${task.error ?? ''}`.trim(), `task-${task.id}`);
}

/** A task appeared or changed: merge it into every list and its detail. */
export function upsertTask(qc: QueryClient, task: Task, options: { fromSocket?: boolean } = {}): void {
  upsertTasks(qc, [task], options);
}

/** Many tasks at once (a burst of socket updates): one cache write per list. */
export function upsertTasks(
  qc: QueryClient,
  tasks: readonly Task[],
  options: { fromSocket?: boolean } = {},
): void {
  const live = tasks.filter((t) => !isGone(t));
  if (live.length === 0) return;
  for (const task of live) {
    if (options.fromSocket) {
      const previous = lastStatus.get(task.id) ?? findCachedTask(qc, task.id)?.status;
      notifyTransition(previous, task);
    }
    lastStatus.set(task.id, task.status);
  }
  updateLists(qc, (list, filter) => live.reduce((acc, task) => mergeTask(acc, task, filter), list));
  for (const task of live) {
    qc.setQueryData<TaskDetail>(taskKeys.detail(task.id), (old) => (old ? { ...old, ...task } : old));
  }
}

/** A task row is gone: drop it everywhere. */
export function removeTaskEverywhere(qc: QueryClient, id: number): void {
  const known = findCachedTask(qc, id);
  markGone(id, known?.created_at ?? null);
  lastStatus.delete(id);
  updateLists(qc, (list) => removeTasks(list, [id]));
  if (qc.getQueryData(taskKeys.detail(id))) {
    void qc.invalidateQueries({ queryKey: taskKeys.detail(id) });
  }
}

/**
 * Retry answers: each old task is replaced by its new task. In a list that showed the old task
 * the new one takes the top (the spec's flow); elsewhere it is merged by the list's own order.
 */
export function replaceTasksEverywhere(
  qc: QueryClient,
  replacements: readonly { oldId: number; task: Task }[],
): void {
  if (replacements.length === 0) return;
  for (const { oldId } of replacements) {
    const known = findCachedTask(qc, oldId);
    markGone(oldId, known?.created_at ?? null);
    lastStatus.delete(oldId);
  }
  for (const { task } of replacements) lastStatus.set(task.id, task.status);
  const oldIds = replacements.map((r) => r.oldId);
  updateLists(qc, (list, filter) => {
    const listed = new Set(list.items.map((t) => t.id));
    const onTop = replacements.filter((r) => listed.has(r.oldId) && matchesFilter(r.task, filter));
    let next = onTop.length ? replaceTasks(list, onTop) : list;
    next = removeTasks(next, oldIds);
    for (const r of replacements) {
      if (!onTop.includes(r)) next = mergeTask(next, r.task, filter);
    }
    return next;
  });
  for (const { oldId } of replacements) {
    qc.removeQueries({ queryKey: taskKeys.detail(oldId), exact: true });
  }
}

/**
 * A waiting task took place `to` in the queue (from `from`): every list and detail shows the new
 * places at once, before the server's updates of each task arrive.
 */
export function moveInQueueEverywhere(qc: QueryClient, id: number, from: number, to: number): void {
  updateLists(qc, (list, filter) => moveInQueue(list, id, from, to, filter));
  for (const query of qc.getQueryCache().findAll({ queryKey: taskKeys.details() })) {
    const detail = query.state.data as TaskDetail | undefined;
    if (!detail) continue;
    const [moved] = moveInQueue({ items: [detail], total: 1 }, id, from, to, {
      sort: 'created_at',
      order: 'asc',
    }).items;
    if (moved && moved !== detail) qc.setQueryData(query.queryKey, moved);
  }
}

/** After clearing the history (or only its tasks of one status): none of them is listed anywhere. */
export function removeHistoryEverywhere(qc: QueryClient, status?: Task['status']): void {
  updateLists(qc, (list) =>
    removeTasks(
      list,
      list.items.filter((t) => isHistory(t.status) && (!status || t.status === status)).map((t) => t.id),
    ),
  );
  void qc.invalidateQueries({ queryKey: taskKeys.lists() });
  void qc.invalidateQueries({ queryKey: statsKey });
}

export function setStats(qc: QueryClient, stats: Stats): void {
  qc.setQueryData(statsKey, stats);
}
