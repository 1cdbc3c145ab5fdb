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
import { t } from '../../lib/i18n';
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
export const keptFiles = () => t('actions.keptFiles');

const nameOf = (task: Task) => task.name ?? task.uri;

const deleteTasks = async (ctx: ActionRunner, tasks: readonly Task[], options: RunOptions) => {
  const gone = await ctx.deleteTasks(tasks, options.checked ?? false);
  if (gone > 0) options.after?.();
};

export const TASK_ACTIONS: Readonly<Record<TaskActionId, TaskActionDef>> = {
  pause: {
    id: 'pause',
    get label() {
      return t('actions.pause');
    },
    get bulkLabel() {
      return t('actions.pauseSelected');
    },
    icon: PauseIcon,
    shortcut: 'p',
    enabled: canPause,
    run: (ctx, t) => ctx.changeStatus(t, 'pause'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'pause'),
  },
  resume: {
    id: 'resume',
    get label() {
      return t('actions.resume');
    },
    get bulkLabel() {
      return t('actions.resumeSelected');
    },
    icon: PlayIcon,
    shortcut: 'p',
    enabled: canResume,
    run: (ctx, t) => ctx.changeStatus(t, 'resume'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'resume'),
  },
  stop: {
    id: 'stop',
    get label() {
      return t('actions.stop');
    },
    icon: StopIcon,
    enabled: canStop,
    confirm: {
      title: (tasks) =>
        tasks.length === 1
          ? t('actions.stopOne', { name: nameOf(tasks[0]!) })
          : t('actions.stopMany', { count: tasks.length }),
      message: () => t('actions.stopMessage'),
      get confirmLabel() {
        return t('actions.stopConfirm');
      },
      get cancelLabel() {
        return t('actions.stopCancel');
      },
      danger: true,
    },
    run: (ctx, t) => ctx.changeStatus(t, 'stop'),
    runBulk: (ctx, tasks) => ctx.changeStatusBulk(tasks, 'stop'),
  },
  retry: {
    id: 'retry',
    get label() {
      return t('actions.retry');
    },
    get bulkLabel() {
      return t('actions.retrySelected');
    },
    icon: RetryIcon,
    shortcut: 'r',
    // A stopped download starts again from where it stopped: that is a retry too.
    labelFor: (task) =>
      hasPlannedRetry(task)
        ? t('actions.retryNow')
        : task.status === 'removed'
          ? t('actions.startAgain')
          : t('actions.retry'),
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
    get label() {
      return t('actions.retryLink');
    },
    icon: RetryIcon,
    enabled: canRetryWithLink,
    run: (ctx, t, o) => ctx.requestRetry(t, 'link', o.after),
  },
  cancelRetry: {
    id: 'cancelRetry',
    // Next to "Retrying in 30 s": cancels the server's planned retry, the task stays failed.
    get label() {
      return t('actions.cancelRetry');
    },
    enabled: canCancelAutoRetry,
    run: (ctx, t) => ctx.cancelPlannedRetry(t),
  },
  download: {
    id: 'download',
    get label() {
      return t('actions.download');
    },
    icon: DownloadIcon,
    detail: {
      get label() {
        return t('actions.downloadFile');
      },
      variant: 'primary',
    },
    // A plain link to the finished file (or a zip of a finished folder), opened by the browser.
    enabled: canDownload,
    href: (t) => artifactUrl(t.artifact_token ?? ''),
  },
  downloadTorrent: {
    id: 'downloadTorrent',
    get label() {
      return t('actions.downloadTorrent');
    },
    icon: DownloadIcon,
    variant: 'ghost',
    enabled: (t) => isTorrentUri(t.uri),
    href: (t) => torrentUrl(t.id),
  },
  delete: {
    id: 'delete',
    get label() {
      return t('actions.delete');
    },
    get bulkLabel() {
      return t('actions.deleteSelected');
    },
    icon: TrashIcon,
    shortcut: 'Delete',
    danger: true,
    enabled: canDelete,
    confirm: {
      title: (tasks) =>
        tasks.length === 1
          ? t('actions.deleteOne', { name: nameOf(tasks[0]!) })
          : t('actions.deleteMany', { count: tasks.length }),
      message: (tasks) =>
        `${tasks.length === 1 ? t('actions.deleteMessageOne') : t('actions.deleteMessageMany')} ${keptFiles()}`,
      get confirmLabel() {
        return t('actions.delete');
      },
      get checkboxLabel() {
        return t('actions.alsoDeleteFiles');
      },
      danger: true,
    },
    run: (ctx, t, o) => deleteTasks(ctx, [t], o),
    runBulk: (ctx, tasks, o) => deleteTasks(ctx, tasks, o),
  },
  moveTop: {
    id: 'moveTop',
    get label() {
      return t('actions.moveTop');
    },
    enabled: canMove,
    run: (ctx, t) => ctx.move(t, 'top'),
  },
  moveBottom: {
    id: 'moveBottom',
    get label() {
      return t('actions.moveBottom');
    },
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
