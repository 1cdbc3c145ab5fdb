'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import Link from 'next/link';
import { memo, type Ref, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { RetryIcon, TrashIcon } from '../../components/Icons';
import { Spinner } from '../../components/Spinner';
import { StatusBadge } from '../../components/StatusBadge';
import { api, errorDetail } from '../../lib/api';
import { formatBytes, formatDateTime } from '../../lib/format';
import { useListQuery, useScrollMargin, useSearchBox } from '../../lib/hooks';
import { t } from '../../lib/i18n';
import type { ListQuery } from '../../lib/navigation';
import { failedFilter } from '../../lib/retry-api';
import type { Task, TaskStatus } from '../../lib/types';
import { OutageBanner, outageReason, useOutage } from '../shell/live-sync';
import { ActionButtons } from '../tasks/ActionButtons';
import { hasPlannedRetry, type TaskActionId } from '../tasks/actions';
import { removeHistoryEverywhere } from '../tasks/cache';
import { ListFilters } from '../tasks/ListFilters';
import type { TaskFilter, TaskSortKey } from '../tasks/list-state';
import { useTaskList } from '../tasks/queries';
import { RetryDialog } from '../tasks/RetryDialog';
import { RetryCountdown } from '../tasks/RetryPlan';
import { taskTitle } from '../tasks/TaskRow';
import { useTaskActions } from '../tasks/useTaskActions';

type HistoryStatus = 'all' | Extract<TaskStatus, 'complete' | 'error' | 'removed'>;

const STATUS_CHOICES: readonly { value: HistoryStatus; label: string }[] = [
  { value: 'all', label: 'history.show.all' },
  { value: 'complete', label: 'tasks.show.complete' },
  { value: 'error', label: 'tasks.show.error' },
  { value: 'removed', label: 'tasks.show.removed' },
];

const SORT_CHOICES: readonly { value: TaskSortKey; label: string }[] = [
  { value: 'updated_at', label: 'history.sort.finished' },
  { value: 'size', label: 'tasks.sort.size' },
  { value: 'name', label: 'tasks.sort.name' },
  { value: 'created_at', label: 'tasks.sort.created_at' },
];

const DEFAULT_VIEW: ListQuery<HistoryStatus, TaskSortKey> = {
  status: 'all',
  sort: 'updated_at',
  order: 'desc',
  q: '',
};
const ALLOWED = {
  status: STATUS_CHOICES.map((c) => c.value),
  sort: SORT_CHOICES.map((c) => c.value),
};

interface HistoryRowProps {
  task: Task;
  index: number;
  setSize: number;
  busyAction: TaskActionId | null;
  onAction: (action: TaskActionId, task: Task) => void;
  rowRef: Ref<HTMLLIElement>;
  start: number;
}

const HistoryRow = memo(function HistoryRow({
  task,
  index,
  setSize,
  busyAction,
  onAction,
  rowRef,
  start,
}: HistoryRowProps) {
  const title = taskTitle(task);
  return (
    <li
      ref={rowRef}
      data-task-id={task.id}
      data-index={index}
      data-status={task.status}
      aria-setsize={setSize}
      aria-posinset={index + 1}
      className={`history-row status-${task.status}`}
      style={{ transform: `translate3d(0, ${start}px, 0)` }}
    >
      <div className="task-main">
        <div className="task-title">
          <Link href={`/tasks/detail?id=${task.id}`} className="task-name" title={title} prefetch={false}>
            {title}
          </Link>
          <StatusBadge status={task.status} />
        </div>
        {hasPlannedRetry(task) ? (
          <RetryCountdown task={task} />
        ) : task.status === 'error' && task.error ? (
          <p className="task-error" title={task.error}>
            {task.error}
          </p>
        ) : (
          <p className="task-sub" title={task.artifact_path ?? task.uri}>
            {task.artifact_path ?? task.uri}
          </p>
        )}
      </div>
      <dl className="task-meta">
        <div>
          <dt>{t('tasks.col.size')}</dt>
          <dd>{task.total_length > 0 ? formatBytes(task.total_length) : '—'}</dd>
        </div>
        <div>
          <dt>{t('history.sort.finished')}</dt>
          <dd>{formatDateTime(task.updated_at)}</dd>
        </div>
      </dl>
      <div className="task-actions">
        <ActionButtons task={task} surface="history" busyAction={busyAction} onAction={onAction} />
      </div>
    </li>
  );
});

function HistoryList({
  items,
  total,
  hasMore,
  loadMore,
  pending,
  onAction,
}: {
  items: readonly Task[];
  total: number;
  hasMore: boolean;
  loadMore: () => void;
  pending: ReadonlyMap<number, TaskActionId>;
  onAction: (action: TaskActionId, task: Task) => void;
}) {
  const listRef = useRef<HTMLUListElement>(null);
  const scrollMargin = useScrollMargin(listRef);
  const virtualizer = useWindowVirtualizer<HTMLLIElement>({
    count: items.length,
    estimateSize: () => (typeof window !== 'undefined' && window.innerWidth <= 760 ? 150 : 72),
    overscan: items.length <= 100 ? 100 : 8,
    scrollMargin,
    getItemKey: (index) => items[index]?.id ?? index,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.length ? virtualItems[virtualItems.length - 1]!.index : -1;
  useEffect(() => {
    if (hasMore && lastIndex >= items.length - 150) loadMore();
  }, [hasMore, lastIndex, items.length, loadMore]);
  return (
    <ul
      ref={listRef}
      className="task-list"
      aria-label={t('nav.history')}
      style={{ height: virtualizer.getTotalSize() }}
    >
      {virtualItems.map((v) => {
        const task = items[v.index];
        if (!task) return null;
        return (
          <HistoryRow
            key={v.key}
            task={task}
            index={v.index}
            setSize={total}
            busyAction={pending.get(task.id) ?? null}
            onAction={onAction}
            rowRef={virtualizer.measureElement}
            start={v.start - virtualizer.options.scrollMargin}
          />
        );
      })}
    </ul>
  );
}

export function HistoryPage() {
  const qc = useQueryClient();
  // The view lives in the URL: a reload keeps it, Back returns to the previous one.
  const [view, setView] = useListQuery(DEFAULT_VIEW, ALLOWED);
  const { status, sort, order, q } = view;
  const [search, setSearch] = useSearchBox(q, (next) => setView({ q: next }, 'replace'));
  const outage = useOutage();
  const offlineTitle = outageReason(outage);
  const filter = useMemo<TaskFilter>(() => {
    const f: TaskFilter = { view: 'history', sort, order };
    if (status !== 'all') f.status = status;
    if (q.trim()) f.q = q.trim();
    return f;
  }, [status, q, sort, order]);
  const list = useTaskList(filter);
  const actions = useTaskActions();
  const [clearOpen, setClearOpen] = useState(false);
  const [clearing, setClearing] = useState(false);

  const { run } = actions;
  const onAction = useCallback(
    (action: TaskActionId, task: Task) => {
      if (outage === null) run(action, task, { surface: 'history' });
    },
    [run, outage],
  );

  async function clearHistory(deleteFiles: boolean) {
    setClearing(true);
    try {
      const { deleted } = await api.clearHistory(deleteFiles);
      removeHistoryEverywhere(qc);
      toast.success(
        deleteFiles
          ? t('history.clearedWithFiles', { count: deleted })
          : t('history.cleared', { count: deleted }),
      );
      setClearOpen(false);
    } catch (err) {
      toast.error(t('history.clearFailed', { detail: errorDetail(err) }));
    } finally {
      setClearing(false);
    }
  }

  return (
    <div className="history-page">
      <div className="page-head">
        <h1>{t('nav.history')}</h1>
        <div className="page-head-actions">
          <Button
            icon={<RetryIcon />}
            busy={actions.bulkPending === 'retry'}
            disabled={outage !== null}
            title={offlineTitle}
            onClick={() => void actions.retryAllFailed(failedFilter('history', filter.q))}
          >
            {t('tasks.retryAllFailed')}
          </Button>
          <Button
            variant="danger"
            icon={<TrashIcon />}
            onClick={() => setClearOpen(true)}
            disabled={outage !== null || (list.total === 0 && !list.isLoading)}
            title={offlineTitle}
          >
            {t('history.clear')}
          </Button>
        </div>
      </div>
      <OutageBanner />
      <section
        className={`card list-card${outage ? ' is-offline' : ''}`}
        aria-label={t('history.listLabel')}
        aria-busy={outage !== null || undefined}
      >
        <ListFilters
          status={status}
          statusChoices={STATUS_CHOICES}
          onStatusChange={(next) => setView({ status: next }, 'push')}
          search={search}
          onSearchChange={setSearch}
          sort={sort}
          sortChoices={SORT_CHOICES}
          onSortChange={(next) => setView({ sort: next }, 'push')}
          order={order}
          onOrderToggle={() => setView({ order: order === 'asc' ? 'desc' : 'asc' }, 'push')}
        />
        <output className="toolbar-summary standalone" aria-live="polite">
          {list.isLoading ? t('common.loadingPage') : t('tasks.count', { count: list.total })}
        </output>
        {list.isLoading ? (
          <Spinner label={t('history.loading')} />
        ) : list.error && list.items.length === 0 ? (
          <EmptyState title={t('history.loadFailed')}>
            <Button onClick={() => void list.refetch()}>{t('common.tryAgain')}</Button>
          </EmptyState>
        ) : list.items.length === 0 ? (
          <EmptyState title={q || status !== 'all' ? t('history.noMatch') : t('history.empty')} />
        ) : (
          <HistoryList
            items={list.items}
            total={list.total}
            hasMore={list.hasMore}
            loadMore={list.loadMore}
            pending={actions.pending}
            onAction={onAction}
          />
        )}
        {list.loadingMore ? <Spinner label={t('common.loadingMore')} /> : null}
      </section>
      <ConfirmDialog {...actions.confirmDialog} />
      <RetryDialog {...actions.retryDialog} />
      <ConfirmDialog
        open={clearOpen}
        title={t('history.clearTitle')}
        message={t('history.clearMessage')}
        confirmLabel={t('history.clear')}
        danger
        busy={clearing}
        checkboxLabel={t('actions.alsoDeleteFiles')}
        onConfirm={(checked) => void clearHistory(checked)}
        onCancel={() => setClearOpen(false)}
      />
    </div>
  );
}
