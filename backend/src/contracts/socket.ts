import type { Stats } from './stats.js';
import type { Task } from './tasks.js';

/** Messages the server sends on /ws/tasks, to the owner's sockets only. */
export type SocketMessage =
  | { type: 'task_update'; task: Task }
  | { type: 'task_removed'; id: number; replaced_by?: number }
  | { type: 'stats'; stats: Stats };
