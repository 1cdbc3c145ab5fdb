'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { toast } from 'sonner';
import { Button } from '../../components/Button';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { EmptyState } from '../../components/EmptyState';
import { RetryIcon, TrashIcon } from '../../components/Icons';
import { Spinner } from '../../components/Spinner';
import { api, errorDetail } from '../../lib/api';
import { isTorrentFile } from '../../lib/base64';
import { useListQuery, useSearchBox } from '../../lib/hooks';
import { t } from '../../lib/i18n';
import type { ListQuery } from '../../lib/navigation';
import { failedFilter } from '../../lib/retry-api';
import type { Stats, TaskOptions, TaskStatus } from '../../lib/types';
import { OutageBanner, outageReason, useOutage } from '../shell/live-sync';
import { AddPanel } from './AddPanel';
import { AddTasks, type ChooseTorrentFiles, parseUriLines, useAddTasks } from './AddTasks';
import { actionVariant, BULK_ACTION_ORDER, TASK_ACTIONS } from './actions';
import { removeHistoryEverywhere } from './cache';
import { ListFilters } from './ListFilters';
import {
  pruneSelection,
  type SortOrder,
  type TaskFilter,
  type TaskListState,
  type TaskSortKey,
} from './list-state';
import { useStats, useTaskList } from './queries';
import { RetryDialog } from './RetryDialog';
import { TaskList } from './TaskList';
import { TasksHeader } from './TasksHeader';
import { type TorrentChoice, TorrentFilesDialog } from './TorrentFilesDialog';
import { useTaskActions } from './useTaskActions';

type StatusChoice = 'all' | 'current' | TaskStatus;

const STATUS_CHOICES: readonly { value: StatusChoice; label: string }[] = [
  { value: 'all', label: 'tasks.show.all' },
  { value: 'current', label: 'tasks.show.current' },
  { value: 'active', label: 'tasks.show.active' },
  { value: 'waiting', label: 'tasks.show.waiting' },
  { value: 'paused', label: 'tasks.show.paused' },
  { value: 'error', label: 'tasks.show.error' },
  { value: 'removed', label: 'tasks.show.removed' },
  { value: 'complete', label: 'tasks.show.complete' },
];

const SORT_CHOICES: readonly { value: TaskSortKey; label: string }[] = [
  { value: 'position', label: 'tasks.sort.position' },
  { value: 'created_at', label: 'tasks.sort.created_at' },
  { value: 'name', label: 'tasks.sort.name' },
  { value: 'size', label: 'tasks.sort.size' },
  { value: 'speed', label: 'tasks.sort.speed' },
  { value: 'progress', label: 'tasks.sort.progress' },
  { value: 'eta', label: 'tasks.sort.eta' },
];

/** The status tabs above the list, each with its count from /api/stats. */
const STATUS_TABS: readonly { value: StatusChoice; label: string }[] = [
  { value: 'all', label: 'tasks.tabs.all' },
  { value: 'active', label: 'tasks.tabs.active' },
  { value: 'waiting', label: 'tasks.tabs.waiting' },
  { value: 'paused', label: 'tasks.tabs.paused' },
  { value: 'complete', label: 'tasks.tabs.complete' },
  { value: 'error', label: 'tasks.tabs.error' },
];

/** How many tasks a status choice lists, from the per-status counts. */
export function countOf(counts: Stats['status_counts'], choice: StatusChoice): number {
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  if (choice === 'all') return all;
  if (choice === 'current') return counts.queued + counts.active + counts.waiting + counts.paused;
  return counts[choice];
}

const DEFAULT_VIEW: ListQuery<StatusChoice, TaskSortKey> = {
  status: 'all',
  sort: 'created_at',
  order: 'desc',
  q: '',
};
const ALLOWED = {
  status: STATUS_CHOICES.map((c) => c.value),
  sort: SORT_CHOICES.map((c) => c.value),
};

function StatusTabs({
  status,
  counts,
  onChange,
}: {
  status: StatusChoice;
  counts: Stats['status_counts'] | undefined;
  onChange: (status: StatusChoice) => void;
}) {
  return (
    <fieldset className="status-tabs">
      <legend className="sr-only">{t('tasks.tabs.label')}</legend>
      {STATUS_TABS.map((tab) => {
        const count = counts ? countOf(counts, tab.value) : null;
        return (
          <button
            key={tab.value}
            type="button"
            className={`status-tab${status === tab.value ? ' is-current' : ''}`}
            aria-pressed={status === tab.value}
            onClick={() => onChange(tab.value)}
          >
            <span>{t(tab.label)}</span>
            {count === null ? null : <span className="status-tab-count">{count}</span>}
          </button>
        );
      })}
    </fieldset>
  );
}

export function toFilter(status: StatusChoice, q: string, sort: TaskSortKey, order: SortOrder): TaskFilter {
  const filter: TaskFilter = { view: status === 'current' ? 'current' : 'all', sort, order };
  if (status !== 'all' && status !== 'current') filter.status = status;
  if (q.trim()) filter.q = q.trim();
  return filter;
}

/** Drop .torrent files (or links) anywhere on the page. */
function usePageDrop(onFiles: (files: File[]) => void, onText: (text: string) => void) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const onFilesRef = useRef(onFiles);
  onFilesRef.current = onFiles;
  const onTextRef = useRef(onText);
  onTextRef.current = onText;
  useEffect(() => {
    const accepts = (e: DragEvent) => {
      const types = Array.from(e.dataTransfer?.types ?? []);
      return types.includes('Files') || types.includes('text/uri-list');
    };
    const onEnter = (e: DragEvent) => {
      if (!accepts(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    };
    const onOver = (e: DragEvent) => {
      if (!accepts(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const onLeave = (e: DragEvent) => {
      if (!accepts(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const onDrop = (e: DragEvent) => {
      if (!accepts(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) onFilesRef.current(files);
      else {
        const text = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain') || '';
        if (text) onTextRef.current(text);
      }
    };
    window.addEventListener('dragenter', onEnter);
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragenter', onEnter);
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
  return over;
}

export function TasksPage() {
  const qc = useQueryClient();
  // The view lives in the URL: a reload keeps it, Back returns to the previous one.
  const [view, setView] = useListQuery(DEFAULT_VIEW, ALLOWED);
  const { status, sort, order, q } = view;
  const [search, setSearch] = useSearchBox(q, (next) => setView({ q: next }, 'replace'));
  const filter = useMemo(() => toFilter(status, q, sort, order), [status, q, sort, order]);
  const list = useTaskList(filter);
  const actions = useTaskActions();
  const { uploadTorrents, addMany, addOne } = useAddTasks();
  const { data: stats } = useStats();
  const outage = useOutage();
  const offlineTitle = outageReason(outage);
  const [clearOpen, setClearOpen] = useState(false);
  const [clearing, setClearing] = useState(false);
  const completeCount = stats?.status_counts.complete ?? 0;

  // No action (a button or a key) runs while the server or aria2 is away.
  const { run } = actions;
  const onAction = useCallback<typeof run>(
    (...args) => {
      if (outage === null) run(...args);
    },
    [run, outage],
  );

  async function clearCompleted(deleteFiles: boolean) {
    setClearing(true);
    try {
      const { deleted } = await api.clearHistory(deleteFiles, 'complete');
      removeHistoryEverywhere(qc, 'complete');
      toast.success(
        deleteFiles
          ? t('tasks.clearCompleted.doneWithFiles', { count: deleted })
          : t('tasks.clearCompleted.done', { count: deleted }),
      );
      setClearOpen(false);
    } catch (err) {
      toast.error(t('tasks.clearCompleted.failed', { detail: errorDetail(err) }));
    } finally {
      setClearing(false);
    }
  }

  const [selected, setSelected] = useState<ReadonlySet<number>>(() => new Set());
  const lastToggled = useRef<number | null>(null);
  useEffect(() => {
    setSelected((s) => pruneSelection(s, list.items));
  }, [list.items]);

  const itemsRef = useRef(list.items);
  itemsRef.current = list.items;
  const onToggle = useCallback((id: number, checked: boolean, shiftKey: boolean) => {
    setSelected((prev) => {
      const next = new Set(prev);
      const items = itemsRef.current;
      if (shiftKey && lastToggled.current !== null) {
        const a = items.findIndex((t) => t.id === lastToggled.current);
        const b = items.findIndex((t) => t.id === id);
        if (a >= 0 && b >= 0) {
          for (let i = Math.min(a, b); i <= Math.max(a, b); i += 1) {
            const t = items[i]!;
            if (checked) next.add(t.id);
            else next.delete(t.id);
          }
          return next;
        }
      }
      if (checked) next.add(id);
      else next.delete(id);
      return next;
    });
    lastToggled.current = id;
  }, []);

  const allSelected = list.items.length > 0 && list.items.every((t) => selected.has(t.id));
  const someSelected = selected.size > 0 && !allSelected;
  const selectAllRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAllRef.current) selectAllRef.current.indeterminate = someSelected;
  }, [someSelected]);

  const selectedTasks = useMemo(() => list.items.filter((t) => selected.has(t.id)), [list.items, selected]);

  // The queue is reordered where it is shown whole and in its own order.
  const sortable =
    status === 'waiting' && sort === 'position' && order === 'asc' && !q && !list.isPlaceholder;
  const onReorder = useCallback(
    async (activeId: number, overId: number) => {
      const items = qc.getQueryData<TaskListState>(list.queryKey)?.items ?? [];
      const task = items.find((t) => t.id === activeId);
      const over = items.find((t) => t.id === overId);
      // The place is the one the task dropped on holds (places count the user's waiting tasks).
      const to = over?.position ?? items.indexOf(over!);
      if (!task || !over || to < 0) return;
      await actions.move(task, to);
    },
    [qc, list.queryKey, actions],
  );

  // The file choice of a multi-file .torrent: one dialog at a time, answered through its promise.
  const [torrentChoice, setTorrentChoice] = useState<
    (TorrentChoice & { answer: (picked: number[] | undefined | null) => void }) | null
  >(null);
  const chooseFiles = useCallback<ChooseTorrentFiles>(
    (fileName, info) =>
      new Promise((resolve) =>
        setTorrentChoice({
          fileName,
          info,
          answer: (picked) => {
            setTorrentChoice(null);
            resolve(picked);
          },
        }),
      ),
    [],
  );

  const uploadFiles = useCallback(
    async (files: File[], options?: TaskOptions) => {
      const torrents = files.filter(isTorrentFile);
      if (torrents.length < files.length) {
        toast.error(t('tasks.dropOnlyTorrents'));
      }
      if (torrents.length) await uploadTorrents(torrents, options, chooseFiles);
    },
    [uploadTorrents, chooseFiles],
  );
  const dropping = usePageDrop(
    (files) => void uploadFiles(files),
    (text) => {
      const uris = parseUriLines(text);
      if (uris.length === 1) void addOne(uris[0]!);
      else if (uris.length > 1) void addMany(uris);
    },
  );

  const onStatusChange = (value: StatusChoice) => {
    // The queue shows aria2's order; a view without a queue in it starts from the newest again.
    if (value === 'waiting') setView({ status: value, sort: 'position', order: 'asc' }, 'push');
    else if (sort === 'position' && value !== 'current')
      setView({ status: value, sort: 'created_at', order: 'desc' }, 'push');
    else setView({ status: value }, 'push');
  };

  const shown = list.items.length;
  const summary = list.isLoading
    ? t('tasks.loading')
    : [
        t('tasks.count', { count: list.total }),
        ...(shown < list.total ? [t('tasks.loaded', { count: shown })] : []),
        ...(selected.size ? [t('tasks.selectedCount', { count: selected.size })] : []),
      ].join(t('common.listSeparator'));

  return (
    <div className="tasks-page">
      <div className="page-head">
        <h1>{t('tasks.title')}</h1>
        <div className="page-head-actions">
          <Button
            icon={<RetryIcon />}
            busy={actions.bulkPending === 'retry'}
            // A failed task is never current: the current view has nothing to retry.
            disabled={
              outage !== null ||
              filter.view === 'current' ||
              (actions.bulkPending !== null && actions.bulkPending !== 'retry')
            }
            title={offlineTitle}
            onClick={() => void actions.retryAllFailed(failedFilter(filter.view, filter.q))}
          >
            {t('tasks.retryAllFailed')}
          </Button>
          <Button
            icon={<TrashIcon />}
            disabled={outage !== null || completeCount === 0}
            title={offlineTitle}
            onClick={() => setClearOpen(true)}
          >
            {t('tasks.clearCompleted.button')}
          </Button>
        </div>
      </div>
      <OutageBanner />
      <TasksHeader />
      <AddPanel>
        <AddTasks onUploadFiles={uploadFiles} />
      </AddPanel>

      <StatusTabs status={status} counts={stats?.status_counts} onChange={onStatusChange} />
      <section
        className={`card list-card${outage ? ' is-offline' : ''}`}
        aria-labelledby="list-title"
        aria-busy={outage !== null || undefined}
      >
        <h2 id="list-title" className="sr-only">
          {t('tasks.listTitle')}
        </h2>
        <ListFilters
          status={status}
          statusChoices={STATUS_CHOICES}
          onStatusChange={onStatusChange}
          search={search}
          onSearchChange={setSearch}
          sort={sort}
          sortChoices={SORT_CHOICES}
          onSortChange={(next) => setView({ sort: next }, 'push')}
          order={order}
          onOrderToggle={() => setView({ order: order === 'asc' ? 'desc' : 'asc' }, 'push')}
        />

        <div
          className={`toolbar${selected.size ? ' has-selection' : ''}`}
          role="toolbar"
          aria-label={t('tasks.selectedToolbar')}
        >
          <div className="check select-all">
            <input
              ref={selectAllRef}
              id="select-all"
              type="checkbox"
              checked={allSelected}
              disabled={list.items.length === 0}
              onChange={(e) => {
                const checked = e.currentTarget.checked;
                setSelected(checked ? new Set(list.items.map((t) => t.id)) : new Set());
              }}
            />
            <label htmlFor="select-all">{t('tasks.selectAll')}</label>
          </div>
          <div className="toolbar-buttons">
            {BULK_ACTION_ORDER.map((id) => {
              const def = TASK_ACTIONS[id];
              const Icon = def.icon;
              return (
                <Button
                  key={id}
                  size="sm"
                  variant={actionVariant(def)}
                  icon={Icon ? <Icon /> : undefined}
                  disabled={
                    outage !== null ||
                    selected.size === 0 ||
                    (actions.bulkPending !== null && actions.bulkPending !== id)
                  }
                  title={offlineTitle}
                  busy={actions.bulkPending === id}
                  onClick={() => actions.runBulk(id, selectedTasks)}
                >
                  {def.bulkLabel}
                </Button>
              );
            })}
          </div>
          <output className="toolbar-summary" aria-live="polite">
            {summary}
            {list.isFetching && !list.isLoading ? (
              <span className="spinner small" aria-hidden="true" />
            ) : null}
          </output>
        </div>
        {sortable && list.items.length > 1 ? <p className="hint queue-hint">{t('tasks.dragHint')}</p> : null}

        {list.isLoading ? (
          <Spinner label={t('tasks.loading')} />
        ) : list.error && list.items.length === 0 ? (
          <EmptyState title={t('tasks.loadFailed')}>
            <Button onClick={() => void list.refetch()}>{t('common.tryAgain')}</Button>
          </EmptyState>
        ) : list.items.length === 0 ? (
          <EmptyState title={q || status !== 'all' ? t('tasks.noMatch') : t('tasks.empty')}>
            {q || status !== 'all' ? null : <p>{t('tasks.emptyHint')}</p>}
          </EmptyState>
        ) : (
          <>
            <div className="list-head" aria-hidden="true">
              <span className="lh-select" />
              {sortable ? <span className="lh-handle" /> : null}
              <span className="lh-main">{t('tasks.col.name')}</span>
              <span className="lh-meta">
                <span>{t('tasks.col.done')}</span>
                <span>{t('tasks.col.size')}</span>
                <span>{t('tasks.col.speed')}</span>
                <span>{t('tasks.col.eta')}</span>
              </span>
              <span className="lh-actions" />
            </div>
            <TaskList
              label={t('tasks.title')}
              items={list.items}
              total={list.total}
              hasMore={list.hasMore}
              loadMore={list.loadMore}
              selected={selected}
              onToggle={onToggle}
              onAction={onAction}
              pending={actions.pending}
              sortable={sortable}
              onReorder={onReorder}
            />
          </>
        )}
        {list.loadingMore ? <Spinner label={t('common.loadingMore')} /> : null}
      </section>

      {dropping ? (
        <div className="drop-overlay" aria-hidden="true">
          <div className="drop-box">{t('tasks.dropBox')}</div>
        </div>
      ) : null}
      <ConfirmDialog {...actions.confirmDialog} />
      <ConfirmDialog
        open={clearOpen}
        title={t('tasks.clearCompleted.title')}
        message={t('tasks.clearCompleted.message', { count: completeCount })}
        confirmLabel={t('tasks.clearCompleted.button')}
        busy={clearing}
        checkboxLabel={t('actions.alsoDeleteFiles')}
        onConfirm={(checked) => void clearCompleted(checked)}
        onCancel={() => setClearOpen(false)}
      />
      <RetryDialog {...actions.retryDialog} />
      <TorrentFilesDialog
        choice={torrentChoice}
        onSubmit={(picked) => torrentChoice?.answer(picked)}
        onCancel={() => torrentChoice?.answer(null)}
      />
    </div>
  );
}
