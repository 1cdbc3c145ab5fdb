import { describe, expect, it } from 'vitest';
import type { Task } from '../../lib/types';
import { bulkOutcome } from './bulk';

const task = (id: number, patch: Partial<Task> = {}) =>
  ({ id, name: `t${id}.bin`, uri: `http://127.0.0.1/t${id}.bin`, status: 'active', ...patch }) as Task;

describe('a bulk answer', () => {
  it('gives the done tasks with their new state and names each failure', () => {
    const tasks = [task(1), task(2), task(3, { name: null })];
    const paused = task(1, { status: 'paused' });
    const out = bulkOutcome(tasks, [
      { id: 1, ok: true, task: paused },
      { id: 2, ok: false, status: 409, detail: 'Only an active or waiting download can be paused' },
      { id: 3, ok: false, status: 404, detail: 'Task not found' },
    ]);
    expect(out.done).toEqual([{ task: tasks[0], now: paused }]);
    expect(out.failures).toEqual([
      't2.bin: Only an active or waiting download can be paused',
      'http://127.0.0.1/t3.bin: Task not found',
    ]);
  });

  it('counts a task already gone as deleted, and a task left unanswered as failed', () => {
    const tasks = [task(1), task(2), task(3)];
    const out = bulkOutcome(
      tasks,
      [
        { id: 2, ok: false, status: 404, detail: 'Task not found' },
        { id: 1, ok: true },
      ],
      { notFoundIsDone: true },
    );
    expect(out.done.map((d) => d.task.id)).toEqual([1, 2]);
    expect(out.failures).toEqual(['t3.bin: no answer from the server']);
  });
});
