'use client';

import { isTorrentUri } from '@rules';
import Link from 'next/link';
import { type CSSProperties, memo, type Ref } from 'react';
import { GripIcon } from '../../components/Icons';
import { ProgressBar } from '../../components/ProgressBar';
import { StatusBadge, statusLabel } from '../../components/StatusBadge';
import {
  formatBytes,
  formatDuration,
  formatPercent,
  formatSpeed,
  progressOf,
  timeLeft,
  type WaitingCounts,
  waitingText,
} from '../../lib/format';
import { t } from '../../lib/i18n';
import type { Task } from '../../lib/types';
import { useOutage } from '../shell/live-sync';
import { ActionButtons } from './ActionButtons';
import { hasPlannedRetry, type TaskActionId } from './actions';
import { RetryCountdown } from './RetryPlan';

export function taskTitle(task: Task): string {
  if (task.name) return task.name;
  if (isTorrentUri(task.uri)) return t('row.torrent');
  try {
    const url = new URL(task.uri);
    const last = url.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : url.host || task.uri;
  } catch {
    return task.uri;
  }
}

function tone(task: Task): 'normal' | 'success' | 'danger' | 'muted' | 'warning' {
  switch (task.status) {
    case 'complete':
      return 'success';
    case 'error':
      return 'danger';
    case 'paused':
    case 'removed':
      return 'muted';
    case 'waiting':
    case 'queued':
      return 'warning';
    default:
      return 'normal';
  }
}

export function sizeText(task: Task): string {
  if (task.total_length <= 0)
    return task.completed_length > 0 ? formatBytes(task.completed_length) : t('row.sizeUnknown');
  if (task.status === 'complete' || task.completed_length >= task.total_length)
    return formatBytes(task.total_length);
  return `${formatBytes(task.completed_length)} / ${formatBytes(task.total_length)}`;
}

export function etaText(task: Task): string {
  if (task.status === 'complete') return t('row.done');
  if (task.status !== 'active') return '—';
  const left = timeLeft(task);
  return left === null ? '∞' : formatDuration(left);
}

export interface DragHandleProps {
  ref?: Ref<HTMLButtonElement>;
  attributes: Record<string, unknown>;
  listeners: Record<string, unknown> | undefined;
}

export interface TaskRowProps {
  task: Task;
  index: number;
  setSize: number;
  selected: boolean;
  /** The action of this row whose request is running. */
  busyAction: TaskActionId | null;
  onToggle: (id: number, selected: boolean, shiftKey: boolean) => void;
  onAction: (action: TaskActionId, task: Task) => void;
  rowRef?: Ref<HTMLLIElement>;
  /** The row's offset in the list (px); a number, so an unchanged row skips re-rendering. */
  y: number;
  /** dnd-kit's offset while sorting (px). */
  dragY?: number;
  /** A drag-and-drop transition, while sorting. */
  transition?: string;
  dragHandle?: DragHandleProps;
  dragging?: boolean;
  /** What the waiting reasons count (/api/stats), given to waiting rows only. */
  waitingCounts?: WaitingCounts | null;
  /** Another row of the page has the same name: what tells this one apart (its saved file name). */
  clashHint?: string | null;
}

/** One task: name (a link to its detail), progress, size, speed, time left, status, error, actions. */
export const TaskRow = memo(function TaskRow({
  task,
  index,
  setSize,
  selected,
  busyAction,
  onToggle,
  onAction,
  rowRef,
  y,
  dragY,
  transition,
  dragHandle,
  dragging,
  waitingCounts,
  clashHint,
}: TaskRowProps) {
  // During an outage the last figures are not live: no speed or time left is shown as if they were.
  const stale = useOutage() !== null;
  // While sortable, the row sits at `top` and the transform is dnd-kit's alone: it measures rows
  // without their transforms.
  const style: CSSProperties = dragHandle
    ? {
        top: y,
        transform: dragY ? `translate3d(0, ${dragY}px, 0)` : undefined,
        transition,
        zIndex: dragging ? 2 : undefined,
      }
    : { transform: `translate3d(0, ${y}px, 0)` };
  const title = taskTitle(task);
  const progress = progressOf(task);
  const unknownSize = task.total_length <= 0 && task.status === 'active';
  const detailHref = `/tasks/detail?id=${task.id}`;
  const waiting = waitingText(task, waitingCounts);
  const sub =
    task.status === 'error' && task.error
      ? null
      : isTorrentUri(task.uri)
        ? t('row.uploadedTorrent')
        : task.uri;
  return (
    <li
      ref={rowRef}
      data-task-id={task.id}
      data-index={index}
      data-status={task.status}
      aria-setsize={setSize}
      aria-posinset={index + 1}
      className={`task-row status-${task.status}${selected ? ' is-selected' : ''}${dragging ? ' is-dragging' : ''}`}
      style={style}
    >
      <div className="task-select">
        <input
          type="checkbox"
          checked={selected}
          aria-label={t('row.select', { name: title })}
          onChange={(e) => onToggle(task.id, e.currentTarget.checked, false)}
          onClick={(e) => {
            if (e.shiftKey) onToggle(task.id, e.currentTarget.checked, true);
          }}
        />
      </div>
      {dragHandle ? (
        <button
          type="button"
          ref={dragHandle.ref}
          className="icon-btn drag-handle"
          aria-label={t('row.reorder', { name: title })}
          {...dragHandle.attributes}
          {...dragHandle.listeners}
        >
          <GripIcon />
        </button>
      ) : null}
      <div className="task-main">
        <div className="task-title">
          <Link href={detailHref} className="task-name" title={title} prefetch={false}>
            {title}
          </Link>
          <StatusBadge status={task.status} seeding={task.seeding} />
        </div>
        {clashHint ? (
          <p className="task-sub task-clash" title={clashHint}>
            {clashHint}
          </p>
        ) : null}
        {hasPlannedRetry(task) ? (
          <RetryCountdown task={task} />
        ) : task.status === 'error' && task.error ? (
          <p className="task-error" title={task.error}>
            {task.error}
          </p>
        ) : waiting ? (
          <p className="task-sub task-waiting" title={waiting}>
            {waiting}
          </p>
        ) : sub ? (
          <p className="task-sub" title={sub}>
            {sub}
          </p>
        ) : null}
        <ProgressBar
          value={progress}
          tone={tone(task)}
          indeterminate={unknownSize}
          label={t('row.progress', {
            name: title,
            percent: formatPercent(progress),
            status: statusLabel(task.status),
          })}
        />
      </div>
      <dl className="task-meta">
        <div>
          <dt>{t('tasks.col.done')}</dt>
          <dd>{formatPercent(progress)}</dd>
        </div>
        <div>
          <dt>{t('tasks.col.size')}</dt>
          <dd>{sizeText(task)}</dd>
        </div>
        <div>
          <dt>{t('tasks.col.speed')}</dt>
          <dd>{task.status === 'active' && !stale ? formatSpeed(task.download_speed) : '—'}</dd>
        </div>
        <div>
          <dt>{t('tasks.col.eta')}</dt>
          <dd>{stale && task.status === 'active' ? '—' : etaText(task)}</dd>
        </div>
      </dl>
      <div className="task-actions">
        <ActionButtons task={task} surface="tasks" busyAction={busyAction} onAction={onAction} />
      </div>
    </li>
  );
});
