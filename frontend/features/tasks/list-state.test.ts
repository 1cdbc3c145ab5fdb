import { describe, expect, it } from 'vitest';
import type { Task } from '../../lib/types';
import {
  appendPage,
  applyTaskRemoved,
  compareTasks,
  matchesFilter,
  mergeTask,
  moveInQueue,
  pruneSelection,
  removeTasks,
  replaceTask,
  replaceTasks,
  retryableForBatch,
  type TaskFilter,
  type TaskListState,
} from './list-state';

let nextId = 1;
function task(patch: Partial<Task> = {}): Task {
  const id = patch.id ?? nextId++;
  return {
    id,
    owner_id: 1,
    gid: `gid${id}`,
    uri: `https://example.com/file-${id}.zip`,
    status: 'active',
    name: `file-${id}.zip`,
    total_length: 1000,
    completed_length: 100,
    download_speed: 10,
    upload_speed: 0,
    error: null,
    created_at: `2026-01-23T10:00:${String(id % 60).padStart(2, '0')}Z`,
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
const list = (items: Task[], total = items.length): TaskListState => ({ items, total });
const ids = (l: TaskListState) => l.items.map((t) => t.id);

describe('replaceTask (single retry)', () => {
  it('removes the old task and puts the new one at the top', () => {
    const a = task({ id: 1 });
    const b = task({ id: 2, status: 'error' });
    const c = task({ id: 3 });
    const fresh = task({ id: 10, status: 'active' });
    const next = replaceTask(list([c, b, a]), 2, fresh);
    expect(ids(next)).toEqual([10, 3, 1]);
    expect(next.total).toBe(3);
  });

  it('does not list the new task twice when the socket delivered it first', () => {
    const old = task({ id: 2, status: 'error' });
    const fresh = task({ id: 10 });
    const afterSocket = list([task({ id: 3 }), fresh, old]);
    const next = replaceTask(afterSocket, 2, fresh);
    expect(ids(next)).toEqual([10, 3]);
    expect(next.total).toBe(2);
  });

  it('handles an old task already removed by task_removed', () => {
    const fresh = task({ id: 10 });
    const next = replaceTask(list([task({ id: 3 })]), 2, fresh);
    expect(ids(next)).toEqual([10, 3]);
    expect(next.total).toBe(2);
  });

  it('never mutates its input', () => {
    const input = list([task({ id: 1 }), task({ id: 2 })]);
    const copy = structuredClone(input);
    replaceTask(input, 1, task({ id: 5 }));
    expect(input).toEqual(copy);
  });
});

describe('replaceTasks (batch retry)', () => {
  it('replaces every old row and keeps the given order at the top', () => {
    const rows = [
      task({ id: 5 }),
      task({ id: 4, status: 'error' }),
      task({ id: 3 }),
      task({ id: 2, status: 'error' }),
    ];
    const next = replaceTasks(list(rows, 10), [
      { oldId: 4, task: task({ id: 20 }) },
      { oldId: 2, task: task({ id: 21 }) },
    ]);
    expect(ids(next)).toEqual([20, 21, 5, 3]);
    expect(next.total).toBe(10);
  });

  it('returns the same list for no replacements', () => {
    const l = list([task()]);
    expect(replaceTasks(l, [])).toBe(l);
  });

  it('ignores duplicate new tasks', () => {
    const t = task({ id: 30 });
    const next = replaceTasks(list([task({ id: 1 }), task({ id: 2 })]), [
      { oldId: 1, task: t },
      { oldId: 2, task: t },
    ]);
    expect(ids(next)).toEqual([30]);
    expect(next.total).toBe(1);
  });
});

describe('removeTasks / applyTaskRemoved', () => {
  it('drops by id and lowers the total', () => {
    const next = removeTasks(list([task({ id: 1 }), task({ id: 2 }), task({ id: 3 })], 50), [1, 3]);
    expect(ids(next)).toEqual([2]);
    expect(next.total).toBe(48);
  });

  it('returns the same object when the id is not listed (no re-render)', () => {
    const l = list([task({ id: 1 })]);
    expect(applyTaskRemoved(l, 99)).toBe(l);
    expect(removeTasks(l, [])).toBe(l);
  });
});

describe('mergeTask (socket task_update)', () => {
  it('updates a listed task in place', () => {
    const a = task({ id: 1 });
    const b = task({ id: 2 });
    const l = list([b, a]);
    const updated = { ...a, completed_length: 900, download_speed: 50 };
    const next = mergeTask(l, updated, ALL);
    expect(ids(next)).toEqual([2, 1]);
    expect(next.items[1]).toBe(updated);
    expect(next.items[0]).toBe(b);
    expect(next.total).toBe(2);
  });

  it('returns the same list when nothing changed (change detection)', () => {
    const a = task({ id: 1 });
    const l = list([a]);
    expect(mergeTask(l, { ...a }, ALL)).toBe(l);
  });

  it('adds a new task at its sorted place', () => {
    const l = list([task({ id: 3 }), task({ id: 1 })]);
    const next = mergeTask(l, task({ id: 2 }), ALL);
    expect(ids(next)).toEqual([3, 2, 1]);
    expect(next.total).toBe(3);
  });

  it('adds a brand-new task at the top of a created_at desc list', () => {
    const l = list([task({ id: 3 }), task({ id: 1 })]);
    const next = mergeTask(l, task({ id: 7 }), ALL);
    expect(ids(next)[0]).toBe(7);
  });

  it('drops a task that no longer matches the filter', () => {
    const current: TaskFilter = { view: 'current', sort: 'created_at', order: 'desc' };
    const a = task({ id: 1 });
    const next = mergeTask(list([a], 5), { ...a, status: 'complete' }, current);
    expect(ids(next)).toEqual([]);
    expect(next.total).toBe(4);
  });

  it('ignores a task that does not match and is not listed', () => {
    const history: TaskFilter = { view: 'history', sort: 'updated_at', order: 'desc' };
    const l = list([task({ id: 1, status: 'complete' })]);
    expect(mergeTask(l, task({ id: 2, status: 'active' }), history)).toBe(l);
  });

  it('respects the status filter and the search', () => {
    const failed: TaskFilter = { view: 'all', status: 'error', sort: 'created_at', order: 'desc' };
    expect(matchesFilter(task({ status: 'error' }), failed)).toBe(true);
    expect(matchesFilter(task({ status: 'active' }), failed)).toBe(false);
    const search: TaskFilter = { ...ALL, q: 'UBUNTU' };
    expect(matchesFilter(task({ name: 'ubuntu.iso' }), search)).toBe(true);
    expect(matchesFilter(task({ name: null, uri: 'https://x/Ubuntu-24.iso' }), search)).toBe(true);
    expect(matchesFilter(task({ name: 'debian.iso', uri: 'https://x/debian.iso' }), search)).toBe(false);
  });

  it('moves a task whose sort key changed (speed sort)', () => {
    const bySpeed: TaskFilter = { view: 'all', sort: 'speed', order: 'desc' };
    const fast = task({ id: 1, download_speed: 300 });
    const mid = task({ id: 2, download_speed: 200 });
    const slow = task({ id: 3, download_speed: 100 });
    const l = list([fast, mid, slow]);
    const next = mergeTask(l, { ...slow, download_speed: 500 }, bySpeed);
    expect(ids(next)).toEqual([3, 1, 2]);
    expect(next.total).toBe(3);
  });

  it('leaves a task that sorts past the loaded part of a longer list to its page', () => {
    const asc: TaskFilter = { view: 'all', sort: 'created_at', order: 'asc' };
    const l = list([task({ id: 1 }), task({ id: 2 })], 10);
    // An update of a task on a page not loaded yet: neither listed nor counted twice.
    expect(mergeTask(l, task({ id: 40 }), asc)).toBe(l);
  });

  it('appends at the end when the whole list is loaded', () => {
    const asc: TaskFilter = { view: 'all', sort: 'created_at', order: 'asc' };
    const l = list([task({ id: 1 }), task({ id: 2 })], 2);
    expect(ids(mergeTask(l, task({ id: 41 }), asc))).toEqual([1, 2, 41]);
  });

  it('sorts by time left with unknown times last', () => {
    const eta: TaskFilter = { view: 'all', sort: 'eta', order: 'asc' };
    const quick = task({ id: 1, total_length: 1000, completed_length: 900, download_speed: 100 });
    const slow = task({ id: 2, total_length: 1000, completed_length: 0, download_speed: 10 });
    const stalled = task({ id: 3, download_speed: 0 });
    const sorted = [stalled, slow, quick].sort((a, b) => compareTasks(a, b, eta.sort, eta.order));
    expect(sorted.map((t) => t.id)).toEqual([1, 2, 3]);
  });
});

describe('appendPage', () => {
  it('adds the next page, skipping tasks already listed', () => {
    const l = list([task({ id: 5 }), task({ id: 4 })], 4);
    const next = appendPage(l, list([task({ id: 4 }), task({ id: 3 }), task({ id: 2 })], 4));
    expect(ids(next)).toEqual([5, 4, 3, 2]);
    expect(next.total).toBe(4);
  });
});

describe('the queue order (sort=position)', () => {
  const QUEUE: TaskFilter = { view: 'all', status: 'waiting', sort: 'position', order: 'asc' };
  const waiting = (id: number, position: number) => task({ id, status: 'waiting', position });

  it('sorts as the server does: running, then waiting by place, then the others', () => {
    const items = [
      task({ id: 1, status: 'paused' }),
      waiting(2, 1),
      task({ id: 3, status: 'active' }),
      waiting(4, 0),
      task({ id: 5, status: 'queued' }),
      waiting(6, 2),
      task({ id: 7, status: 'complete' }),
    ];
    const sorted = [...items].sort((a, b) => compareTasks(a, b, 'position', 'asc')).map((t) => t.id);
    // The place, not the id or the date added, orders the waiting ones.
    expect(sorted).toEqual([3, 5, 4, 2, 6, 1, 7]);
    expect([...items].sort((a, b) => compareTasks(a, b, 'position', 'desc')).map((t) => t.id)).toEqual(
      [...sorted].reverse(),
    );
  });

  it("the server's updates of the places reorder a list in queue order, in whatever order they come", () => {
    const l = list([waiting(1, 0), waiting(2, 1), waiting(3, 2)]);
    const updates = [waiting(3, 0), waiting(1, 1), waiting(2, 2)];
    for (const burst of [updates, [...updates].reverse(), [updates[1]!, updates[0]!, updates[2]!]]) {
      expect(ids(burst.reduce((acc, t) => mergeTask(acc, t, QUEUE), l))).toEqual([3, 1, 2]);
    }
  });

  it('a move shifts the places between and sorts the list again', () => {
    const l = list([waiting(1, 0), waiting(2, 1), waiting(3, 2), task({ id: 9, status: 'paused' })]);
    const up = moveInQueue(l, 3, 2, 0, QUEUE);
    expect(ids(up)).toEqual([3, 1, 2, 9]);
    expect(up.items.map((t) => t.position)).toEqual([0, 1, 2, null]);
    const down = moveInQueue(up, 3, 0, 2, QUEUE);
    expect(ids(down)).toEqual([1, 2, 3, 9]);
    expect(down.items.map((t) => t.position)).toEqual([0, 1, 2, null]);
    expect(moveInQueue(l, 2, 1, 1, QUEUE)).toBe(l);
    // The server's updates of each task, arriving after, change nothing.
    expect(mergeTask(up, waiting(1, 1), QUEUE)).toBe(up);
  });

  it('keeps the order of a list sorted otherwise, and works on a part of the queue', () => {
    const byDate: TaskFilter = { ...QUEUE, sort: 'created_at' };
    const l = list([waiting(1, 0), waiting(3, 4)]);
    const next = moveInQueue(l, 3, 4, 0, byDate);
    expect(ids(next)).toEqual([1, 3]);
    expect(next.items.map((t) => t.position)).toEqual([1, 0]);
  });
});

describe('selection helpers', () => {
  it('batch retry takes selected failed or stopped non-torrent tasks only', () => {
    const failed = task({ id: 1, status: 'error' });
    const torrent = task({ id: 2, status: 'error', uri: '[torrent]' });
    const stopped = task({ id: 3, status: 'removed' });
    const failedUnselected = task({ id: 4, status: 'error' });
    const active = task({ id: 5, status: 'active' });
    const picked = retryableForBatch(
      [failed, torrent, stopped, failedUnselected, active],
      new Set([1, 2, 3, 5]),
    );
    expect(picked.map((t) => t.id)).toEqual([1, 3]);
  });

  it('pruneSelection drops ids no longer listed and keeps identity otherwise', () => {
    const items = [task({ id: 1 }), task({ id: 2 })];
    const sel = new Set([1, 2]);
    expect(pruneSelection(sel, items)).toBe(sel);
    expect([...pruneSelection(new Set([1, 9]), items)]).toEqual([1]);
  });
});
