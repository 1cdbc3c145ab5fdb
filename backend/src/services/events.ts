import { EventEmitter } from 'node:events';
import type { TaskRow } from '../repositories/tasks.js';

/** What the live hub hears: a task row appeared or changed, or a row is gone. Always the owner's. */
export interface TaskEventMap {
  task_update: [row: TaskRow];
  task_removed: [ownerId: number, taskId: number];
}

export class TaskEvents extends EventEmitter<TaskEventMap> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
}
