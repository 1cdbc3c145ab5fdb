'use client';

import { TASK_MESSAGES } from '@rules';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { ApiError, api, type BulkResult, errorDetail } from '../../lib/api';
import { translateDetail } from '../../lib/api-messages';
import { t } from '../../lib/i18n';
import {
  cancelAutoRetry,
  type RetryFilter,
  retryByFilter,
  retryFilterMessage,
  retryTask as retryTaskFrom,
  reuploadTorrent,
} from '../../lib/retry-api';
import type { Task } from '../../lib/types';
import {
  type ActionRunner,
  type ActionSurface,
  bulkTargets,
  keptFiles,
  type RunOptions,
  TASK_ACTIONS,
  type TaskActionId,
} from './actions';
import { type BulkOutcome, bulkOutcome } from './bulk';
import {
  findCachedTask,
  moveInQueueEverywhere,
  removeTaskEverywhere,
  replaceTasksEverywhere,
  taskKeys,
  upsertTask,
  upsertTasks,
} from './cache';
import { isTorrentTask } from './list-state';

/** The spec's messages, word for word. */
export const MESSAGES = {
  get torrentRetry() {
    return translateDetail(TASK_MESSAGES.torrentRetry);
  },
  get noRetryable() {
    return translateDetail(TASK_MESSAGES.noRetryable);
  },
  failedAgain: (error: string | null) => t('retry.failedAgain', { error: error ?? t('add.unknownError') }),
  retryFailed: (detail: string) => t('retry.failed', { detail }),
  retryPartial: (ok: number, failed: number) => t('retry.partial', { ok, failed }),
  retryAll: (n: number) => t('retry.all', { count: n }),
  get historyRetry() {
    return t('retry.fromHistory');
  },
};

/** One task's delete by its own route, answered like one id of the bulk route. */
function deleteOne(id: number, deleteFiles: boolean): Promise<BulkResult> {
  return api.deleteTask(id, deleteFiles).then(
    () => ({ id, ok: true }),
    (err: unknown) => ({
      id,
      ok: false,
      status: err instanceof ApiError ? err.status : 0,
      detail: errorDetail(err),
    }),
  );
}

export { keptFiles };

/** Catalog keys of a status change's toasts (`done` takes the count). */
const STATUS_VERB: Record<'pause' | 'resume' | 'stop', { done: string; fail: string; none: string }> = {
  pause: { done: 'status.paused', fail: 'status.pauseFailed', none: 'status.noneToPause' },
  resume: { done: 'status.resumed', fail: 'status.resumeFailed', none: 'status.noneToResume' },
  stop: { done: 'status.stopped', fail: 'status.stopFailed', none: 'status.noneToStop' },
};

/** The retry dialog: a new link for a task, or a torrent task's stored file. */
export interface RetryRequest {
  task: Task;
  mode: 'link' | 'torrent';
  /** Called with the new task once the retry replaced the old one (the detail page follows it). */
  after?: (task: Task) => void;
}

/** An action waiting for its confirmation dialog, on one task or a selection. */
export interface ConfirmRequest {
  action: TaskActionId;
  tasks: Task[];
  bulk: boolean;
  options: RunOptions;
}

/**
 * Carries out the task actions of the registry against the API and the caches, with the spec's
 * messages. Keeps which (action, task) requests are running so their buttons stay disabled.
 */
export function useTaskActions() {
  const qc = useQueryClient();
  const [pending, setPending] = useState<ReadonlyMap<number, TaskActionId>>(new Map());
  const [bulkPending, setBulkPending] = useState<TaskActionId | null>(null);
  const [confirmRequest, setConfirmRequest] = useState<ConfirmRequest | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [retryRequest, setRetryRequest] = useState<RetryRequest | null>(null);
  const [retryError, setRetryError] = useState<string | null>(null);
  const [retryBusy, setRetryBusy] = useState(false);
  // Synchronous guard: a double click lands before React re-renders the disabled button.
  const running = useRef(new Set<string>());

  const begin = useCallback((action: TaskActionId, id: number): boolean => {
    const key = `${action}:${id}`;
    if (running.current.has(key)) return false;
    running.current.add(key);
    setPending((prev) => new Map(prev).set(id, action));
    return true;
  }, []);
  const end = useCallback((action: TaskActionId, id: number) => {
    running.current.delete(`${action}:${id}`);
    setPending((prev) => {
      if (prev.get(id) !== action) return prev;
      const next = new Map(prev);
      next.delete(id);
      return next;
    });
  }, []);

  /** The new task took the old one's place: caches, and a word when it failed at once. */
  const replaced = useCallback(
    (oldId: number, newTask: Task, surface: ActionSurface) => {
      replaceTasksEverywhere(qc, [{ oldId, task: newTask }]);
      if (newTask.status === 'error') toast.error(MESSAGES.failedAgain(newTask.error));
      else if (surface === 'history') toast.success(MESSAGES.historyRetry);
      else if (surface === 'detail') toast.success(t('retry.started'));
    },
    [qc],
  );

  /** Opens the retry dialog: a new link for a task, or the re-upload of a torrent task. */
  const requestRetry = useCallback((task: Task, mode: 'link' | 'torrent', after?: (t: Task) => void) => {
    setRetryError(null);
    setRetryRequest({ task, mode, after });
  }, []);

  /**
   * Retries one task (the single retry; on a task whose retry is planned, it retries now).
   * A torrent task opens the dialog that re-adds its stored .torrent. Returns the new task, or null.
   */
  const retry = useCallback(
    async (task: Task, surface: ActionSurface = 'tasks', after?: (t: Task) => void): Promise<Task | null> => {
      if (isTorrentTask(task)) {
        requestRetry(task, 'torrent', after);
        return null;
      }
      if (!begin('retry', task.id)) return null;
      try {
        const newTask = await api.retryTask(task.id);
        // First `after` (a detail page stops asking for the old task), then the caches drop it.
        after?.(newTask);
        replaced(task.id, newTask, surface);
        return newTask;
      } catch (err) {
        toast.error(MESSAGES.retryFailed(errorDetail(err)));
        return null;
      } finally {
        end('retry', task.id);
      }
    },
    [begin, end, replaced, requestRetry],
  );

  /** The dialog's action: retry from the link typed in, or re-add the stored .torrent. */
  const confirmRetry = useCallback(
    async (uri?: string) => {
      const request = retryRequest;
      if (!request || retryBusy) return;
      if (request.mode === 'link' && !uri?.trim()) {
        setRetryError(t('retry.enterLink'));
        return;
      }
      setRetryBusy(true);
      setRetryError(null);
      try {
        const newTask =
          request.mode === 'torrent'
            ? await reuploadTorrent(request.task.id)
            : await retryTaskFrom(request.task.id, uri!.trim());
        request.after?.(newTask);
        replaced(request.task.id, newTask, 'tasks');
        if (newTask.status !== 'error')
          toast.success(request.mode === 'torrent' ? t('retry.torrentAgain') : t('retry.started'));
        setRetryRequest(null);
      } catch (err) {
        // Shown in the dialog, which stays open so the link can be corrected.
        setRetryError(errorDetail(err));
      } finally {
        setRetryBusy(false);
      }
    },
    [retryRequest, retryBusy, replaced],
  );

  const cancelRetry = useCallback(() => {
    if (!retryBusy) setRetryRequest(null);
  }, [retryBusy]);

  /** Cancels the server's planned retry of a task (it stays failed). */
  const cancelPlannedRetry = useCallback(
    async (task: Task) => {
      if (!begin('cancelRetry', task.id)) return;
      try {
        upsertTask(qc, await cancelAutoRetry(task.id));
        toast.success(t('retry.autoCancelled'));
      } catch (err) {
        toast.error(t('retry.cancelFailed', { detail: errorDetail(err) }));
      } finally {
        end('cancelRetry', task.id);
      }
    },
    [qc, begin, end],
  );

  /**
   * "Retry all failed": every failed task of the caller that the page's filter matches, in one
   * request, however many there are. Then counts what failed again at once (those new tasks are
   * already `error` when the answer arrives), so the message says what really happened.
   */
  const retryAllFailed = useCallback(
    async (filter: RetryFilter) => {
      if (running.current.has('bulk:retryAll')) return;
      running.current.add('bulk:retryAll');
      setBulkPending('retry');
      try {
        const result = await retryByFilter(filter);
        let failedAgain = 0;
        if (result.retried > 0) {
          const after = await api
            .listTasks({ ...filter, status: 'error', limit: 1 })
            .then((l) => l.total)
            .catch(() => result.failed.length);
          failedAgain = Math.max(0, after - result.failed.length);
        }
        void qc.invalidateQueries({ queryKey: taskKeys.lists() });
        const message = retryFilterMessage(result, failedAgain);
        const description = result.failed
          .slice(0, 5)
          .map((f) => `#${f.id}: ${translateDetail(f.detail)}`)
          .join('\n');
        if (result.retried === 0 && result.failed.length === 0) toast.info(message);
        else if (failedAgain > 0 || result.failed.length > 0)
          toast.warning(message, description ? { description } : undefined);
        else toast.success(message);
      } catch (err) {
        toast.error(MESSAGES.retryFailed(errorDetail(err)));
      } finally {
        running.current.delete('bulk:retryAll');
        setBulkPending(null);
      }
    },
    [qc],
  );

  /** The spec's batch retry: selected failed non-torrent tasks, in one request. */
  const retrySelected = useCallback(
    async (selectedTasks: readonly Task[]) => {
      const targets = bulkTargets('retry', selectedTasks);
      if (targets.length === 0) {
        toast.info(MESSAGES.noRetryable);
        return;
      }
      if (running.current.has('bulk:retry')) return;
      running.current.add('bulk:retry');
      setBulkPending('retry');
      try {
        const { results } = await api.retryTasks(targets.map((t) => t.id));
        const replacements: { oldId: number; task: Task }[] = [];
        const failures: string[] = [];
        for (const r of results) {
          if (r.ok) {
            replacements.push({ oldId: r.id, task: r.task });
            // Retried, but its new download failed straight away: that is not a success.
            if (r.task.status === 'error')
              failures.push(`#${r.task.id}: ${r.task.error ?? t('retry.failedAgainShort')}`);
          } else failures.push(`#${r.id}: ${translateDetail(r.detail)}`);
        }
        replaceTasksEverywhere(qc, replacements);
        if (failures.length > 0) {
          toast.warning(MESSAGES.retryPartial(targets.length - failures.length, failures.length), {
            description: failures.slice(0, 5).join('\n') + (failures.length > 5 ? '\n…' : ''),
          });
        } else {
          toast.success(MESSAGES.retryAll(replacements.length));
        }
      } catch (err) {
        toast.error(MESSAGES.retryFailed(errorDetail(err)));
      } finally {
        running.current.delete('bulk:retry');
        setBulkPending(null);
      }
    },
    [qc],
  );

  const changeStatus = useCallback(
    async (task: Task, change: 'pause' | 'resume' | 'stop') => {
      if (!begin(change, task.id)) return;
      try {
        const updated = await api.setTaskStatus(task.id, change);
        upsertTask(qc, updated);
      } catch (err) {
        toast.error(t(STATUS_VERB[change].fail, { detail: errorDetail(err) }));
      } finally {
        end(change, task.id);
      }
    },
    [qc, begin, end],
  );

  const changeStatusBulk = useCallback(
    async (selectedTasks: readonly Task[], change: 'pause' | 'resume' | 'stop') => {
      const targets = bulkTargets(change, selectedTasks);
      const verb = STATUS_VERB[change];
      if (targets.length === 0) {
        toast.info(t(verb.none));
        return;
      }
      if (running.current.has(`bulk:${change}`)) return;
      running.current.add(`bulk:${change}`);
      setBulkPending(change);
      try {
        // One request per 1000 tasks; each task is answered on its own.
        const { results } = await api.setTasksStatus(
          targets.map((t) => t.id),
          change,
        );
        const { done, failures } = bulkOutcome(targets, results);
        const updated = done.flatMap((d) => (d.now ? [d.now] : []));
        if (updated.length) upsertTasks(qc, updated);
        const ok = done.length;
        if (failures.length) {
          toast.warning(t('status.partial', { done: t(verb.done, { count: ok }), failed: failures.length }), {
            description: failures.slice(0, 5).join('\n'),
          });
        } else {
          toast.success(t(verb.done, { count: ok }));
        }
      } catch (err) {
        toast.error(t(verb.fail, { detail: errorDetail(err) }));
      } finally {
        running.current.delete(`bulk:${change}`);
        setBulkPending(null);
      }
    },
    [qc],
  );

  const move = useCallback(
    async (task: Task, where: 'top' | 'bottom' | number) => {
      const action: TaskActionId = where === 'bottom' ? 'moveBottom' : 'moveTop';
      if (!begin(action, task.id)) return false;
      const from = findCachedTask(qc, task.id)?.position ?? task.position;
      // A drag shows its new place at once; top and bottom once the server says where it landed.
      const optimistic = typeof where === 'number' && from !== null;
      if (optimistic) moveInQueueEverywhere(qc, task.id, from, where);
      try {
        const { position } =
          where === 'top'
            ? await api.changeTaskPosition(task.id, 0, 'POS_SET')
            : where === 'bottom'
              ? await api.changeTaskPosition(task.id, 0, 'POS_END')
              : await api.changeTaskPosition(task.id, where, 'POS_SET');
        // The server's updates of each moved task may have come first; the place it answered holds.
        const now = findCachedTask(qc, task.id)?.position ?? null;
        if (now !== null) moveInQueueEverywhere(qc, task.id, now, position);
        else void qc.invalidateQueries({ queryKey: taskKeys.lists() });
        if (typeof where === 'string')
          toast.success(where === 'top' ? t('queue.movedTop') : t('queue.movedBottom'));
        return true;
      } catch (err) {
        if (optimistic) void qc.invalidateQueries({ queryKey: taskKeys.lists() });
        toast.error(t('queue.moveFailed', { detail: errorDetail(err) }));
        return false;
      } finally {
        end(action, task.id);
      }
    },
    [qc, begin, end],
  );

  /**
   * Deletes tasks: one task by its own route, many by the bulk route (1000 per request). How many
   * are gone; a task the server does not know (404) is gone already.
   */
  const deleteTasks = useCallback(
    async (tasks: readonly Task[], deleteFiles: boolean): Promise<number> => {
      let outcome: BulkOutcome;
      try {
        const results =
          tasks.length === 1
            ? [await deleteOne(tasks[0]!.id, deleteFiles)]
            : (
                await api.deleteTasks(
                  tasks.map((t) => t.id),
                  deleteFiles,
                )
              ).results;
        outcome = bulkOutcome(tasks, results, { notFoundIsDone: true });
      } catch (err) {
        toast.error(t('delete.failed', { detail: errorDetail(err) }));
        return 0;
      }
      for (const { task } of outcome.done) removeTaskEverywhere(qc, task.id);
      const { failures } = outcome;
      const ok = outcome.done.length;
      if (failures.length) {
        toast.error(t('delete.partial', { count: ok, failed: failures.length }), {
          description: failures.slice(0, 5).join('\n'),
        });
      } else {
        toast.success(
          tasks.length === 1
            ? deleteFiles
              ? t('delete.oneWithFiles', { name: tasks[0]!.name ?? t('delete.theTask') })
              : t('delete.one', { name: tasks[0]!.name ?? t('delete.theTask') })
            : deleteFiles
              ? t('delete.manyWithFiles', { count: ok })
              : t('delete.many', { count: ok }),
        );
      }
      return ok;
    },
    [qc],
  );

  const runner = useMemo<ActionRunner>(
    () => ({
      changeStatus,
      changeStatusBulk,
      retry,
      retrySelected,
      requestRetry,
      cancelPlannedRetry,
      move,
      deleteTasks,
    }),
    [
      changeStatus,
      changeStatusBulk,
      retry,
      retrySelected,
      requestRetry,
      cancelPlannedRetry,
      move,
      deleteTasks,
    ],
  );

  /**
   * Runs a registry action on one task (row buttons, keyboard, detail page); an action with a
   * confirmation asks first.
   */
  const run = useCallback(
    (action: TaskActionId, task: Task, options: RunOptions = { surface: 'tasks' }) => {
      const def = TASK_ACTIONS[action];
      if (def.confirm) {
        setConfirmRequest({ action, tasks: [task], bulk: false, options });
        return;
      }
      void def.run?.(runner, task, options);
    },
    [runner],
  );

  /** Runs a toolbar action on the selected tasks. */
  const runBulk = useCallback(
    (action: TaskActionId, selectedTasks: readonly Task[]) => {
      const def = TASK_ACTIONS[action];
      if (!def.runBulk) return;
      const options: RunOptions = { surface: 'tasks' };
      // The dialog names the tasks it acts on; its own run picks them again (and says when none).
      if (def.confirm) {
        if (selectedTasks.length === 0) return;
        setConfirmRequest({ action, tasks: [...selectedTasks], bulk: true, options });
        return;
      }
      void def.runBulk(runner, selectedTasks, options);
    },
    [runner],
  );

  const confirmAction = useCallback(
    async (checked: boolean) => {
      const request = confirmRequest;
      if (!request || confirming) return;
      const def = TASK_ACTIONS[request.action];
      const options = { ...request.options, checked };
      setConfirming(true);
      try {
        if (request.bulk) await def.runBulk?.(runner, request.tasks, options);
        else await def.run?.(runner, request.tasks[0]!, options);
        setConfirmRequest(null);
      } finally {
        setConfirming(false);
      }
    },
    [confirmRequest, confirming, runner],
  );

  const cancelConfirm = useCallback(() => {
    if (!confirming) setConfirmRequest(null);
  }, [confirming]);

  const confirmation = confirmRequest ? TASK_ACTIONS[confirmRequest.action].confirm : undefined;
  const confirmTasks = confirmRequest?.tasks ?? [];
  /** The confirmation of the action asked for (Stop, Delete), as the registry words it. */
  const confirmDialog = {
    open: confirmRequest !== null && confirmation !== undefined,
    title: confirmation?.title(confirmTasks) ?? '',
    message: confirmation?.message(confirmTasks),
    confirmLabel: confirmation?.confirmLabel ?? t('common.ok'),
    cancelLabel: confirmation?.cancelLabel,
    danger: confirmation?.danger,
    busy: confirming,
    checkboxLabel: confirmation?.checkboxLabel,
    onConfirm: (checked: boolean) => void confirmAction(checked),
    onCancel: cancelConfirm,
  };

  const retryDialog = {
    request: retryRequest,
    busy: retryBusy,
    error: retryError,
    onSubmit: (uri?: string) => void confirmRetry(uri),
    onCancel: cancelRetry,
  };

  return {
    run,
    runBulk,
    retryAllFailed,
    move,
    pending,
    bulkPending,
    confirmDialog,
    retryDialog,
  };
}
