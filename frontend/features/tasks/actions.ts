/**
 * The one registry of task actions. Each entry carries everything a surface needs: its label,
 * icon, when it applies (the shared rules of `@rules`), how it runs on one task and on a
 * selection, the text of its confirmation, and its key. Row buttons on Tasks and History, the
 * selection toolbar, the detail page and the keyboard all render and run from it, so "can I pause
 * this?" has one answer and each button is drawn one way.
 */
import {
  canCancelAutoRetry,
  canDelete,
  canDownload,
  canMove,
  canPause,
  canResume,
  canRetry,
  canRetryById,
  canRetryWithLink,
  canStop,
  isTorrentUri,
  hasPlannedRetry as plannedRetry,
} from '@rules';
import type { ComponentType } from 'react';
import type { ButtonVariant } from '../../components/Button';
import { DownloadIcon, PauseIcon, PlayIcon, RetryIcon, StopIcon, TrashIcon } from '../../components/Icons';
import { artifactUrl } from '../../lib/api';
import { torrentUrl } from '../../lib/retry-api';
import type { Task } from '../../lib/types';

/** Whether the server has planned a retry of its own for this task. */
export function hasPlannedRetry(task: Task): boolean {
  return plannedRetry(task);
}

export type TaskActionId =
  | 'pause'
  | 'resume'
  | 'retry'
  | 'retryLink'
  | 'download'
  | 'downloadTorrent'
  | 'cancelRetry'
  | 'stop'
  | 'delete'
  | 'moveTop'
  | 'moveBottom';

/** Where an action's button is drawn. History rows draw the same buttons as task rows. */
export type ActionSurface = 'tasks' | 'history' | 'detail';

export interface RunOptions {
  surface: ActionSurface;
  /** Called once it is done: with the new task after a retry, without after a delete. */
  after?: (task?: Task) => void;
  /** The confirmation's checkbox (a delete's "Also delete files"). */
  checked?: boolean;
}

/**
 * What the registry's runs are made of: the requests and dialogs of `useTaskActions`, which keeps
 * their caches, toasts and busy states.
 */
export interface ActionRunner {
  changeStatus(task: Task, change: 'pause' | 'resume' | 'stop'): Promise<void>;
  changeStatusBulk(tasks: readonly Task[], change: 'pause' | 'resume' | 'stop'): Promise<void>;
  /** The single retry (a torrent task opens its re-upload instead). */
  retry(task: Task, surface: ActionSurface, after?: (task: Task) => void): Promise<Task | null>;
  retrySelected(tasks: readonly Task[]): Promise<void>;
  /** Opens the retry dialog: a new link, or the re-upload of a torrent task's stored file. */
  requestRetry(task: Task, mode: 'link' | 'torrent', after?: (task: Task) => void): void;
  cancelPlannedRetry(task: Task): Promise<void>;
  move(task: Task, where: 'top' | 'bottom'): Promise<boolean>;
  /** Deletes the tasks; how many are gone. */
  deleteTasks(tasks: readonly Task[], deleteFiles: boolean): Promise<number>;
}

/** The text of an action's confirmation dialog, for the tasks it is about to act on. */
export interface ActionConfirmation {
  title(tasks: readonly Task[]): string;
  message(tasks: readonly Task[]): string;
  confirmLabel: string;
  cancelLabel?: string;
  checkboxLabel?: string;
  danger?: boolean;
}

export interface TaskActionDef {
  id: TaskActionId;
  /** The button's name in a row or on the detail page. */
  label: string;
  /** The name for this task when it differs (a stopped task's retry is "Start again"). */
  labelFor?(task: Task): string;
  /** The toolbar button's name, when the action exists for a selection. */
  bulkLabel?: string;
  icon?: ComponentType;
  /** The button's look; `danger` actions are red. */
  variant?: ButtonVariant;
  danger?: boolean;
  /** How the detail page, which has room, draws it when that differs. */
  detail?: { label?: string; variant?: ButtonVariant };
  /** A key that runs it on the focused row. */
  shortcut?: string;
  /** Whether the action applies to this task. */
  enabled(task: Task): boolean;
  /** For the toolbar: which selected tasks it acts on (defaults to enabled). */
  enabledBulk?(task: Task): boolean;
  /** A link the browser opens itself (a download) instead of a request. */
  href?(task: Task): string;
  /** Asked before it runs; the run gets the dialog's checkbox. */
  confirm?: ActionConfirmation;
  run?(ctx: ActionRunner, task: Task, options: RunOptions): unknown;
  /** On the selected tasks (those `bulkTargets` picks), in as few requests as the API allows. */
  runBulk?(ctx: ActionRunner, tasks: readonly Task[], options: RunOptions): unknown;
}

/** Where files kept after a delete are, and that they still fill the quota. */
export const KEPT_FILES =
  'Files you keep still count against your storage quota; find and delete them on the Files page.';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const nameOf = (t: Task) => t.name ?? t.uri;

const deleteTasks = async (ctx: ActionRunner, tasks: readonly Task[], options: RunOptions) => {
  const gone = await ctx.deleteTasks(tasks, options.checked ?? false);
  if (gone > 0) options.after?.();
};

export const TASK_ACTIONS: Readonly<Record<TaskActionId, TaskActionDef>> = {
  pause: {
    id: 'pause',
    label: 'Pause',
    bulkLabel: 'Pause selected',
    icon: PauseIcon,
    shortcut: 'p',
    enabled: canPause,
    run: (ctx, t) => ctx.changeStatus(t, 'pause'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'pause'),
  },
  resume: {
    id: 'resume',
    label: 'Resume',
    bulkLabel: 'Resume selected',
    icon: PlayIcon,
    shortcut: 'p',
    enabled: canResume,
    run: (ctx, t) => ctx.changeStatus(t, 'resume'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'resume'),
  },
  stop: {
    id: 'stop',
    label: 'Stop',
    icon: StopIcon,
    enabled: canStop,
    confirm: {
      title: (tasks) =>
        tasks.length === 1 ? `Stop “${nameOf(tasks[0]!)}”?` : `Stop ${plural(tasks.length, 'download')}?`,
      message: () =>
        'Stopping ends the download: it moves to the history as stopped. Its files stay, and you can start it again later.',
      confirmLabel: 'Stop download',
      cancelLabel: 'Keep downloading',
      danger: true,
    },
    run: (ctx, t) => ctx.changeStatus(t, 'stop'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'stop'),
  },
  retry: {
    id: 'retry',
    label: 'Retry',
    bulkLabel: 'Retry selected',
    icon: RetryIcon,
    shortcut: 'r',
    // A stopped download starts again from where it stopped: that is a retry too.
    labelFor: (t) => (hasPlannedRetry(t) ? 'Retry now' : t.status === 'removed' ? 'Start again' : 'Retry'),
    // Failed or stopped; a torrent task offers its stored .torrent when clicked.
    enabled: canRetry,
    // The server retries failed and stopped tasks alike, many at once; a torrent task is re-added
    // from its stored file instead, one by one.
    enabledBulk: canRetryById,
    run: (ctx, t, o) => ctx.retry(t, o.surface, o.after),
    runBulk: (ctx, tasks) => ctx.retrySelected(tasks),
  },
  retryLink: {
    id: 'retryLink',
    label: 'Retry with a new link…',
    icon: RetryIcon,
    enabled: canRetryWithLink,
    run: (ctx, t, o) => ctx.requestRetry(t, 'link', o.after),
  },
  cancelRetry: {
    id: 'cancelRetry',
    // Next to "Retrying in 30 s": cancels the server's planned retry, the task stays failed.
    label: 'Cancel',
    enabled: canCancelAutoRetry,
    run: (ctx, t) => ctx.cancelPlannedRetry(t),
  },
  download: {
    id: 'download',
    label: 'Download',
    icon: DownloadIcon,
    detail: { label: 'Download file', variant: 'primary' },
    // A plain link to the finished file (or a zip of a finished folder), opened by the browser.
    enabled: canDownload,
    href: (t) => artifactUrl(t.artifact_token ?? ''),
  },
  downloadTorrent: {
    id: 'downloadTorrent',
    label: 'Download .torrent',
    icon: DownloadIcon,
    variant: 'ghost',
    enabled: (t) => isTorrentUri(t.uri),
    href: (t) => torrentUrl(t.id),
  },
  delete: {
    id: 'delete',
    label: 'Delete',
    bulkLabel: 'Delete selected',
    icon: TrashIcon,
    shortcut: 'Delete',
    danger: true,
    enabled: canDelete,
    confirm: {
      title: (tasks) =>
        tasks.length === 1 ? `Delete “${nameOf(tasks[0]!)}”?` : `Delete ${plural(tasks.length, 'task')}?`,
      message: (tasks) =>
        tasks.length === 1
          ? `A running download stops and the task is removed from your lists. ${KEPT_FILES}`
          : `Running downloads stop and the tasks are removed from your lists. ${KEPT_FILES}`,
      confirmLabel: 'Delete',
      checkboxLabel: 'Also delete files',
      danger: true,
    },
    run: (ctx, t, o) => deleteTasks(ctx, [t], o),
    runBulk: (ctx, tasks, o) => deleteTasks(ctx, tasks, o),
  },
  moveTop: {
    id: 'moveTop',
    label: 'Move to top',
    enabled: canMove,
    run: (ctx, t) => ctx.move(t, 'top'),
  },
  moveBottom: {
    id: 'moveBottom',
    label: 'Move to bottom',
    enabled: canMove,
    run: (ctx, t) => ctx.move(t, 'bottom'),
  },
};

/** Row buttons (Tasks and History), in display order. */
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
  'download',
  'pause',
  'resume',
  'stop',
  'retry',
  'cancelRetry',
  'moveTop',
  'moveBottom',
  'delete',
  'retryLink',
  'downloadTorrent',
];

const applying = (order: readonly TaskActionId[], task: Task) =>
  order.map((id) => TASK_ACTIONS[id]).filter((a) => a.enabled(task));

export function rowActions(task: Task): TaskActionDef[] {
  return applying(ROW_ACTION_ORDER, task);
}

export function detailActions(task: Task): TaskActionDef[] {
  return applying(DETAIL_ACTION_ORDER, task);
}

/** The actions of a surface that apply to a task, in display order. */
export function actionsFor(surface: ActionSurface, task: Task): TaskActionDef[] {
  return surface === 'detail' ? detailActions(task) : rowActions(task);
}

/** The button's name of an action for one task on a surface. */
export function actionLabel(def: TaskActionDef, task: Task, surface: ActionSurface = 'tasks'): string {
  if (surface === 'detail' && def.detail?.label) return def.detail.label;
  return def.labelFor ? def.labelFor(task) : def.label;
}

/** The button's look of an action on a surface. */
export function actionVariant(def: TaskActionDef, surface: ActionSurface = 'tasks'): ButtonVariant {
  if (surface === 'detail' && def.detail?.variant) return def.detail.variant;
  return def.variant ?? (def.danger ? 'danger' : 'secondary');
}

export function isActionEnabled(id: TaskActionId, task: Task): boolean {
  return TASK_ACTIONS[id].enabled(task);
}

/** The selected tasks a toolbar action acts on. */
export function bulkTargets(id: TaskActionId, tasks: readonly Task[]): Task[] {
  const def = TASK_ACTIONS[id];
  const applies = def.enabledBulk ?? def.enabled;
  return tasks.filter((t) => applies(t));
}

/** The row action a key press runs on a task, if any. */
export function actionForKey(key: string, task: Task): TaskActionDef | undefined {
  for (const id of ROW_ACTION_ORDER) {
    const def = TASK_ACTIONS[id];
    if (def.shortcut && def.shortcut.toLowerCase() === key.toLowerCase() && def.enabled(task)) return def;
  }
  return undefined;
}
