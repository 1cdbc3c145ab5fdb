import { EventEmitter } from 'node:events';
import type { TaskRow } from '../repositories/tasks.js';

/** The rows the events carry, and their public view: listeners (the hub, jobs) need no repository. */
export type { TaskRow } from '../repositories/tasks.js';
export { toTask } from '../repositories/tasks.js';

/** Which sessions ended: one (by its id hash, on logout or expiry), or a user's, all or all but one. */
export type SessionsEnded = { idHash: string } | { userId: number; exceptIdHash: string | null };

/** A revoked API token (`tokenId`), or all of a user's (null: the user was deleted). */
export interface TokenRevoked {
  userId: number;
  tokenId: number | null;
}

/** What the live hub hears from the services: always the owner's task rows, ended sessions and revoked tokens. */
export interface ControllerEventMap {
  task_update: [row: TaskRow];
  /** `replacedBy`: the new task's id when a retry replaced it. */
  task_removed: [ownerId: number, taskId: number, replacedBy?: number];
  sessions_ended: [ended: SessionsEnded];
  /** Sockets opened with the token close at once. */
  token_revoked: [revoked: TokenRevoked];
}

export class ControllerEvents extends EventEmitter<ControllerEventMap> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** A task row changed: its owner's sockets get it. */
  taskUpdate(row: TaskRow): void {
    this.emit('task_update', row);
  }

  /** A task row went (deleted, or replaced by `replacedBy` in a retry). */
  taskRemoved(ownerId: number, id: number, replacedBy?: number): void {
    this.emit('task_removed', ownerId, id, replacedBy);
  }
}
