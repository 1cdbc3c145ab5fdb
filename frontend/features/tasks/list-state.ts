/**
 * Pure list logic of the task lists kept in the TanStack Query caches.
 *
 * A cached list is `{items, total}`: the first `items.length` tasks the server has for one filter
 * (view, status, q, sort, order), in the server's order, plus the server's `total`. Every function
 * returns the same object when nothing changed, so React skips the re-render (no flicker).
 */
import {
  CURRENT_STATUSES,
  canRetryById,
  HISTORY_STATUSES,
  isCurrent,
  isHistory,
  isTorrentUri,
  TORRENT_URI,
} from '@rules';
import { timeLeft } from '../../lib/format';
import type { Task, TaskStatus, TaskView } from '../../lib/types';

// The statuses are the rules the server applies too (`backend/src/domain/task-rules.ts`).
export { CURRENT_STATUSES, HISTORY_STATUSES, isCurrent, isHistory, TORRENT_URI };

export interface TaskListState {
  items: Task[];
  total: number;
}

/**
 * The server's sort keys, plus `eta` (time left), which the UI sorts itself. `position` is aria2's
 * queue order: running tasks, then the waiting ones by their place in the queue, then the others.
 */
export type TaskSortKey =
  | 'created_at'
  | 'updated_at'
  | 'name'
  | 'size'
  | 'speed'
  | 'progress'
  | 'position'
  | 'eta';
export type SortOrder = 'asc' | 'desc';

export interface TaskFilter {
  view: TaskView;
  status?: TaskStatus;
  q?: string;
  sort: TaskSortKey;
  order: SortOrder;
}

export const EMPTY_LIST: TaskListState = Object.freeze({ items: [], total: 0 }) as TaskListState;

export function isTorrentTask(task: Pick<Task, 'uri'>): boolean {
  return isTorrentUri(task.uri);
}

/** Whether the server would list this task under the filter (q matches name or uri, any case). */
export function matchesFilter(task: Task, filter: TaskFilter): boolean {
  if (filter.view === 'current' && !isCurrent(task.status)) return false;
  if (filter.view === 'history' && !isHistory(task.status)) return false;
  if (filter.status && task.status !== filter.status) return false;
  const q = filter.q?.trim().toLowerCase();
  if (q) {
    const name = task.name?.toLowerCase() ?? '';
    const uri = task.uri.toLowerCase();
    if (!name.includes(q) && !uri.includes(q)) return false;
  }
  return true;
}

/** The server's groups of the queue order (its `sort=position`). */
function queueGroup(status: TaskStatus): number {
  switch (status) {
    case 'active':
      return 0;
    case 'queued':
      return 1;
    case 'waiting':
      return 2;
    default:
      return 3;
  }
}

function sortValue(task: Task, sort: Exclude<TaskSortKey, 'position'>): number | string {
  switch (sort) {
    case 'created_at':
      return task.created_at;
    case 'updated_at':
      return task.updated_at;
    case 'name':
      return (task.name ?? task.uri).toLowerCase();
    case 'size':
      return task.total_length;
    case 'speed':
      return task.download_speed;
    case 'progress':
      return task.total_length > 0 ? task.completed_length / task.total_length : 0;
    case 'eta':
      return timeLeft(task) ?? Number.POSITIVE_INFINITY;
  }
}

/** The list order: the sort key in the given order, ties broken by id in the same order. */
export function compareTasks(a: Task, b: Task, sort: TaskSortKey, order: SortOrder): number {
  let cmp = 0;
  if (sort === 'position') {
    // As the server orders it: by group, then by place (no place first, as SQLite puts NULL), then id.
    cmp = queueGroup(a.status) - queueGroup(b.status);
    if (cmp === 0) cmp = (a.position ?? -1) - (b.position ?? -1);
  } else {
    const va = sortValue(a, sort);
    const vb = sortValue(b, sort);
    if (va < vb) cmp = -1;
    else if (va > vb) cmp = 1;
  }
  if (cmp === 0) cmp = a.id - b.id;
  return order === 'asc' ? cmp : -cmp;
}

/** Sorts that the server cannot do are done here, over what is loaded. */
export function isClientSort(sort: TaskSortKey): boolean {
  return sort === 'eta';
}

function sameTask(a: Task, b: Task): boolean {
  if (a === b) return true;
  for (const key of Object.keys(b) as (keyof Task)[]) {
    if (a[key] !== b[key]) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

/** Where `task` belongs in `items` (sorted by filter): the first index whose task sorts after it. */
function insertionIndex(items: readonly Task[], task: Task, filter: TaskFilter): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTasks(items[mid]!, task, filter.sort, filter.order) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Removes tasks by id. */
export function removeTasks(list: TaskListState, ids: Iterable<number>): TaskListState {
  const drop = new Set(ids);
  if (drop.size === 0) return list;
  const items = list.items.filter((t) => !drop.has(t.id));
  const removed = list.items.length - items.length;
  if (removed === 0) return list;
  return { items, total: Math.max(0, list.total - removed) };
}

/** Drops the id of a `task_removed` message. */
export function applyTaskRemoved(list: TaskListState, id: number): TaskListState {
  return removeTasks(list, [id]);
}

/**
 * Replaces an old task by a new one at the top of the list (the spec's retry: the old row goes,
 * the new task appears first). The new task is never listed twice, even when the socket
 * delivered it before the HTTP answer.
 */
export function replaceTask(list: TaskListState, oldId: number, newTask: Task): TaskListState {
  return replaceTasks(list, [{ oldId, task: newTask }]);
}

/** Batch form of `replaceTask`: the new tasks, in the given order, at the top. */
export function replaceTasks(
  list: TaskListState,
  replacements: readonly { oldId: number; task: Task }[],
): TaskListState {
  if (replacements.length === 0) return list;
  const oldIds = new Set(replacements.map((r) => r.oldId));
  const newTasks: Task[] = [];
  const newIds = new Set<number>();
  for (const { task } of replacements) {
    if (newIds.has(task.id)) continue;
    newIds.add(task.id);
    newTasks.push(task);
  }
  let removedOld = 0;
  let alreadyListed = 0;
  const rest: Task[] = [];
  for (const t of list.items) {
    if (newIds.has(t.id)) {
      alreadyListed += 1;
      continue;
    }
    if (oldIds.has(t.id)) {
      removedOld += 1;
      continue;
    }
    rest.push(t);
  }
  const total = Math.max(0, list.total - removedOld + (newTasks.length - alreadyListed));
  return { items: [...newTasks, ...rest], total };
}

/**
 * Merges a task (a socket `task_update`, or an action's answer) into a list, respecting its filter
 * and sort: updated in place while its place in the order still holds, moved otherwise, added
 * when new and it matches (unless it sorts past the loaded part of a longer list: the page that
 * holds it brings it), and dropped when it no longer matches.
 */
export function mergeTask(list: TaskListState, task: Task, filter: TaskFilter): TaskListState {
  const index = list.items.findIndex((t) => t.id === task.id);
  if (!matchesFilter(task, filter)) {
    if (index < 0) return list;
    const items = list.items.slice();
    items.splice(index, 1);
    return { items, total: Math.max(0, list.total - 1) };
  }
  if (index >= 0) {
    const current = list.items[index]!;
    if (sameTask(current, task)) return list;
    const prev = list.items[index - 1];
    const next = list.items[index + 1];
    const stillOrdered =
      (!prev || compareTasks(prev, task, filter.sort, filter.order) <= 0) &&
      (!next || compareTasks(task, next, filter.sort, filter.order) <= 0);
    const items = list.items.slice();
    if (stillOrdered) {
      items[index] = task;
      return { items, total: list.total };
    }
    items.splice(index, 1);
    items.splice(insertionIndex(items, task, filter), 0, task);
    return { items, total: list.total };
  }
  const at = insertionIndex(list.items, task, filter);
  const hasMore = list.items.length < list.total;
  if (at === list.items.length && hasMore) {
    // It belongs to a page not loaded yet (and may be listed there already): that page brings it.
    return list;
  }
  const items = list.items.slice();
  items.splice(at, 0, task);
  return { items, total: list.total + 1 };
}

/** Applies one socket message to a list. */
export function applySocketTask(list: TaskListState, task: Task, filter: TaskFilter): TaskListState {
  return mergeTask(list, task, filter);
}

/** Appends the next page from the server, skipping tasks already listed. */
export function appendPage(list: TaskListState, page: TaskListState, filter?: TaskFilter): TaskListState {
  const seen = new Set(list.items.map((t) => t.id));
  const fresh = page.items.filter((t) => !seen.has(t.id));
  let items = fresh.length ? [...list.items, ...fresh] : list.items;
  if (filter && isClientSort(filter.sort) && fresh.length) items = sortTasks(items, filter);
  if (items === list.items && page.total === list.total) return list;
  return { items, total: Math.max(page.total, items.length) };
}

/** A sorted copy. */
export function sortTasks(items: readonly Task[], filter: Pick<TaskFilter, 'sort' | 'order'>): Task[] {
  return items.slice().sort((a, b) => compareTasks(a, b, filter.sort, filter.order));
}

/**
 * A waiting task moved in the queue from place `from` to place `to` (places among the owner's
 * waiting tasks, as the server counts them): the places of the tasks between shift by one, as they
 * do on the server, and a list in queue order is sorted again. This holds for any list, even one
 * that shows only some of the waiting tasks (a search), since only places change.
 */
export function moveInQueue(
  list: TaskListState,
  id: number,
  from: number,
  to: number,
  filter: Pick<TaskFilter, 'sort' | 'order'>,
): TaskListState {
  if (from === to) return list;
  let changed = false;
  const items = list.items.map((t) => {
    let position = t.position;
    if (t.id === id) position = to;
    else if (t.status === 'waiting' && position !== null) {
      if (from < to && position > from && position <= to) position -= 1;
      else if (to < from && position >= to && position < from) position += 1;
    }
    if (position === t.position) return t;
    changed = true;
    return { ...t, position };
  });
  if (!changed) return list;
  return { items: filter.sort === 'position' ? sortTasks(items, filter) : items, total: list.total };
}

/** Finds a task in a list. */
export function findTask(list: TaskListState | undefined, id: number): Task | undefined {
  return list?.items.find((t) => t.id === id);
}

/**
 * The tasks a batch retry sends: selected, failed or stopped (`error`, `removed`), not torrents
 * (those are re-added from their stored file one by one).
 */
export function retryableForBatch(tasks: readonly Task[], selected: ReadonlySet<number>): Task[] {
  return tasks.filter((t) => selected.has(t.id) && canRetryById(t));
}

/** Keeps only selected ids still present in the list (the same set when nothing changed). */
export function pruneSelection(selected: ReadonlySet<number>, items: readonly Task[]): ReadonlySet<number> {
  if (selected.size === 0) return selected;
  const present = new Set(items.map((t) => t.id));
  let changed = false;
  const next = new Set<number>();
  for (const id of selected) {
    if (present.has(id)) next.add(id);
    else changed = true;
  }
  return changed ? next : selected;
}
