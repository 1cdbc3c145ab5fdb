'use client';

import {
  closestCenter,
  DndContext,
  type DragEndEvent,
  type DragStartEvent,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import {
  SortableContext,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable';
import { defaultRangeExtractor, type Range, useWindowVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { formatDateTime } from '../../lib/format';
import { useScrollMargin } from '../../lib/hooks';
import { t } from '../../lib/i18n';
import type { Task } from '../../lib/types';
import { actionForKey, type TaskActionId } from './actions';
import { useStats } from './queries';
import { TaskRow, type TaskRowProps, taskTitle } from './TaskRow';

/**
 * What tells apart the rows whose names clash (two downloads of one name: the second is saved as
 * `name_1.bin`): the saved file name once there is one, else when it was added. Rows of a name of
 * their own get none.
 */
export function clashHints(items: readonly Task[]): Map<number, string> {
  const byName = new Map<string, Task[]>();
  for (const task of items) {
    const name = taskTitle(task);
    const same = byName.get(name);
    if (same) same.push(task);
    else byName.set(name, [task]);
  }
  const hints = new Map<number, string>();
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    for (const task of same) {
      const saved = task.artifact_path?.split('/').filter(Boolean).pop();
      hints.set(
        task.id,
        saved
          ? t('row.savedAs', { name: saved })
          : t('row.addedAs', { id: task.id, time: formatDateTime(task.created_at) }),
      );
    }
  }
  return hints;
}

export interface TaskListProps {
  items: readonly Task[];
  total: number;
  hasMore: boolean;
  loadMore: () => void;
  selected: ReadonlySet<number>;
  onToggle: (id: number, selected: boolean, shiftKey: boolean) => void;
  onAction: (action: TaskActionId, task: Task) => void;
  pending: ReadonlyMap<number, TaskActionId>;
  /** Drag-and-drop reordering (the waiting queue). */
  sortable?: boolean;
  onReorder?: (activeId: number, overId: number) => void;
  label: string;
}

/** Up to this many rows, all are rendered. */
const SMALL_LIST = 100;

function estimateRowHeight(): number {
  if (typeof window === 'undefined') return 84;
  return window.matchMedia('(max-width: 760px)').matches ? 74 : 84;
}

function SortableTaskRow(
  props: Omit<TaskRowProps, 'y'> & { start: number; measure: (el: HTMLLIElement | null) => void },
) {
  const { start, measure, ...rowProps } = props;
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } =
    useSortable({
      id: props.task.id,
    });
  const ref = useCallback(
    (el: HTMLLIElement | null) => {
      setNodeRef(el);
      measure(el);
    },
    [setNodeRef, measure],
  );
  return (
    <TaskRow
      {...rowProps}
      rowRef={ref}
      dragging={isDragging}
      dragHandle={{
        ref: setActivatorNodeRef,
        attributes: attributes as unknown as Record<string, unknown>,
        listeners: listeners as Record<string, unknown> | undefined,
      }}
      y={start}
      dragY={transform?.y ?? 0}
      transition={transition ?? undefined}
    />
  );
}

/**
 * The task rows, virtualized against the window scroll (10,000 rows stay smooth): only the rows
 * on screen are in the DOM. Loads the next page as the end comes near.
 */
export function TaskList({
  items,
  total,
  hasMore,
  loadMore,
  selected,
  onToggle,
  onAction,
  pending,
  sortable = false,
  onReorder,
  label,
}: TaskListProps) {
  const listRef = useRef<HTMLUListElement>(null);
  const scrollMargin = useScrollMargin(listRef);
  const [activeId, setActiveId] = useState<number | null>(null);
  const activeIndex = activeId === null ? -1 : items.findIndex((t) => t.id === activeId);

  const rangeExtractor = useCallback(
    (range: Range) => {
      const base = defaultRangeExtractor(range);
      if (activeIndex >= 0 && !base.includes(activeIndex))
        return [...base, activeIndex].sort((a, b) => a - b);
      return base;
    },
    [activeIndex],
  );

  const virtualizer = useWindowVirtualizer<HTMLLIElement>({
    count: items.length,
    estimateSize: estimateRowHeight,
    // Short lists are rendered whole (every row findable, e.g. by the browser's find); long ones
    // keep only the rows near the screen in the DOM.
    overscan: items.length <= SMALL_LIST ? SMALL_LIST : 8,
    scrollMargin,
    getItemKey: (index) => items[index]?.id ?? index,
    rangeExtractor,
  });

  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.length ? virtualItems[virtualItems.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && lastIndex >= items.length - 150) loadMore();
  }, [hasMore, lastIndex, items.length, loadMore]);

  // Keyboard: P pauses or resumes, R retries, Delete deletes the row that has focus.
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const onActionRef = useRef(onAction);
  onActionRef.current = onAction;
  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement;
      if (target.closest('input[type="text"], input[type="search"], textarea')) return;
      const row = target.closest<HTMLElement>('[data-task-id]');
      if (!row) return;
      const id = Number(row.dataset.taskId);
      const task = itemsRef.current.find((t) => t.id === id);
      if (!task) return;
      const def = actionForKey(event.key, task);
      if (!def) return;
      event.preventDefault();
      onActionRef.current(def.id, task);
    };
    el.addEventListener('keydown', onKey);
    return () => el.removeEventListener('keydown', onKey);
  }, []);

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const ids = useMemo(() => items.map((t) => t.id), [items]);

  const onDragStart = useCallback((event: DragStartEvent) => setActiveId(Number(event.active.id)), []);
  const onDragEnd = useCallback(
    (event: DragEndEvent) => {
      setActiveId(null);
      const { active, over } = event;
      if (over && active.id !== over.id) onReorder?.(Number(active.id), Number(over.id));
    },
    [onReorder],
  );

  const { data: stats } = useStats();
  const hints = useMemo(() => clashHints(items), [items]);
  const rows = virtualItems.map((v) => {
    const task = items[v.index];
    if (!task) return null;
    const common: Omit<TaskRowProps, 'y'> = {
      task,
      index: v.index,
      setSize: total,
      selected: selected.has(task.id),
      busyAction: pending.get(task.id) ?? null,
      onToggle,
      onAction,
      // Only waiting rows show them: the others need not render again when they change.
      waitingCounts: task.status === 'waiting' ? (stats?.waiting_counts ?? null) : null,
      clashHint: hints.get(task.id) ?? null,
    };
    const start = v.start - virtualizer.options.scrollMargin;
    if (sortable) {
      return <SortableTaskRow key={v.key} {...common} start={start} measure={virtualizer.measureElement} />;
    }
    return <TaskRow key={v.key} {...common} rowRef={virtualizer.measureElement} y={start} />;
  });

  const list = (
    <ul ref={listRef} className="task-list" aria-label={label} style={{ height: virtualizer.getTotalSize() }}>
      {rows}
    </ul>
  );

  if (!sortable) return list;
  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragStart={onDragStart}
      onDragEnd={onDragEnd}
      onDragCancel={() => setActiveId(null)}
      accessibility={{
        screenReaderInstructions: {
          draggable: t('tasks.dragScreenReader'),
        },
      }}
    >
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        {list}
      </SortableContext>
    </DndContext>
  );
}
