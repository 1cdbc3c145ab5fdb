/**
 * The one registry of task actions: which action applies to which task, its label and its
 * bulk label. Row buttons, the selection toolbar, the detail page and keyboard shortcuts all
 * read it, so "can I pause this?" has one answer.
 */
import type { RetryableTask } from '../../lib/retry-api';
import type { Task } from '../../lib/types';
import { isTorrentTask } from './list-state';

/** Whether the server has planned a retry of its own for this task. */
export function hasPlannedRetry(task: Task): boolean {
  return Boolean((task as RetryableTask).next_retry_at);
}

export type TaskActionId =
  | 'pause'
  | 'resume'
  | 'retry'
  | 'download'
  | 'cancelRetry'
  | 'stop'
  | 'delete'
  | 'moveTop'
  | 'moveBottom';

export interface TaskActionDef {
  id: TaskActionId;
  /** The button's name in a row or on the detail page. */
  label: string;
  /** The name for this task when it differs (a stopped task's retry is "Start again"). */
  labelFor?(task: Task): string;
  /** The toolbar button's name, when the action exists for a selection. */
  bulkLabel?: string;
  /** Shown as a row button on the tasks page. */
  inRow: boolean;
  /** A key that runs it on the focused row. */
  shortcut?: string;
  danger?: boolean;
  /** Whether the action applies to this task. */
  appliesTo(task: Task): boolean;
  /** For the toolbar: which selected tasks it acts on (defaults to appliesTo). */
  appliesToBulk?(task: Task): boolean;
}

export const TASK_ACTIONS: Readonly<Record<TaskActionId, TaskActionDef>> = {
  pause: {
    id: 'pause',
    label: 'Pause',
    bulkLabel: 'Pause selected',
    inRow: true,
    shortcut: 'p',
    appliesTo: (t) => t.status === 'active' || t.status === 'waiting',
  },
  resume: {
    id: 'resume',
    label: 'Resume',
    bulkLabel: 'Resume selected',
    inRow: true,
    shortcut: 'p',
    appliesTo: (t) => t.status === 'paused',
  },
  retry: {
    id: 'retry',
    label: 'Retry',
    bulkLabel: 'Retry selected',
    inRow: true,
    shortcut: 'r',
    // A stopped download starts again from where it stopped: that is a retry too.
    labelFor: (t) => (hasPlannedRetry(t) ? 'Retry now' : t.status === 'removed' ? 'Start again' : 'Retry'),
    // Failed or stopped; a torrent task offers its stored .torrent when clicked.
    appliesTo: (t) => t.status === 'error' || t.status === 'removed' || hasPlannedRetry(t),
    // The server retries failed and stopped tasks alike, one by one or many at once; a torrent
    // task is re-added from its stored file instead.
    appliesToBulk: (t) => (t.status === 'error' || t.status === 'removed') && !isTorrentTask(t),
  },
  cancelRetry: {
    id: 'cancelRetry',
    // Next to "Retrying in 30 s": cancels the server's planned retry, the task stays failed.
    label: 'Cancel',
    inRow: true,
    appliesTo: (t) => hasPlannedRetry(t),
  },
  download: {
    id: 'download',
    label: 'Download',
    inRow: true,
    // A plain link to the finished file (or a zip of a finished folder), opened by the browser.
    appliesTo: (t) => t.status === 'complete' && t.artifact_token !== null,
  },
  stop: {
    id: 'stop',
    label: 'Stop',
    inRow: false,
    appliesTo: (t) =>
      t.status === 'active' || t.status === 'waiting' || t.status === 'paused' || t.status === 'queued',
  },
  delete: {
    id: 'delete',
    label: 'Delete',
    bulkLabel: 'Delete selected',
    inRow: true,
    shortcut: 'Delete',
    danger: true,
    appliesTo: () => true,
  },
  moveTop: {
    id: 'moveTop',
    label: 'Move to top',
    inRow: false,
    appliesTo: (t) => t.status === 'waiting',
  },
  moveBottom: {
    id: 'moveBottom',
    label: 'Move to bottom',
    inRow: false,
    appliesTo: (t) => t.status === 'waiting',
  },
};

/** Row buttons, in display order. */
export const ROW_ACTION_ORDER: readonly TaskActionId[] = [
  'pause',
  'resume',
  'retry',
  'cancelRetry',
  'download',
  'delete',
];
/** Toolbar buttons, in display order. */
export const BULK_ACTION_ORDER: readonly TaskActionId[] = ['pause', 'resume', 'retry', 'delete'];
/** Detail page buttons, in display order. */
export const DETAIL_ACTION_ORDER: readonly TaskActionId[] = [
  'pause',
  'resume',
  'stop',
  'retry',
  'cancelRetry',
  'moveTop',
  'moveBottom',
  'delete',
];

export function rowActions(task: Task): TaskActionDef[] {
  return ROW_ACTION_ORDER.map((id) => TASK_ACTIONS[id]).filter((a) => a.inRow && a.appliesTo(task));
}

export function detailActions(task: Task): TaskActionDef[] {
  return DETAIL_ACTION_ORDER.map((id) => TASK_ACTIONS[id]).filter((a) => a.appliesTo(task));
}

/** The button's name of an action for one task. */
export function actionLabel(def: TaskActionDef, task: Task): string {
  return def.labelFor ? def.labelFor(task) : def.label;
}

export function isActionEnabled(id: TaskActionId, task: Task): boolean {
  return TASK_ACTIONS[id].appliesTo(task);
}

/** The selected tasks a toolbar action acts on. */
export function bulkTargets(id: TaskActionId, tasks: readonly Task[]): Task[] {
  const def = TASK_ACTIONS[id];
  const applies = def.appliesToBulk ?? def.appliesTo;
  return tasks.filter((t) => applies(t));
}

/** The row action a key press runs on a task, if any. */
export function actionForKey(key: string, task: Task): TaskActionDef | undefined {
  for (const id of ROW_ACTION_ORDER) {
    const def = TASK_ACTIONS[id];
    if (def.shortcut && def.shortcut.toLowerCase() === key.toLowerCase() && def.appliesTo(task)) return def;
  }
  return undefined;
}
