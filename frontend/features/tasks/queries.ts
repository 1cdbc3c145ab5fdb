'use client';

import { keepPreviousData, type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ListTasksParams } from '../../lib/api';
import { api } from '../../lib/api';
import { statsKey, taskKeys } from './cache';
import {
  appendPage,
  EMPTY_LIST,
  isClientSort,
  sortTasks,
  type TaskFilter,
  type TaskListState,
} from './list-state';

/** The server's page size (its maximum). */
export const PAGE_SIZE = 1000;
/** A refetch reloads as many pages as were loaded, up to this many. */
const MAX_REFETCH_PAGES = 20;

export function serverParams(filter: TaskFilter, offset: number, limit = PAGE_SIZE): ListTasksParams {
  const clientSort = isClientSort(filter.sort);
  const params: ListTasksParams = {
    view: filter.view,
    sort: clientSort ? 'created_at' : (filter.sort as Exclude<TaskFilter['sort'], 'eta'>),
    order: clientSort ? 'desc' : filter.order,
    limit,
    offset,
  };
  if (filter.status) params.status = filter.status;
  const q = filter.q?.trim();
  if (q) params.q = q;
  return params;
}

async function fetchList(qc: QueryClient, filter: TaskFilter, signal: AbortSignal): Promise<TaskListState> {
  const previous = qc.getQueryData<TaskListState>(taskKeys.list(filter));
  const pages = Math.min(
    MAX_REFETCH_PAGES,
    Math.max(1, Math.ceil((previous?.items.length ?? 0) / PAGE_SIZE)),
  );
  let list: TaskListState = EMPTY_LIST;
  for (let page = 0; page < pages; page += 1) {
    const result = await api.listTasks(serverParams(filter, list.items.length), signal);
    list = page === 0 ? { items: result.items, total: result.total } : appendPage(list, result);
    if (result.items.length < PAGE_SIZE) break;
  }
  if (isClientSort(filter.sort)) list = { items: sortTasks(list.items, filter), total: list.total };
  return list;
}

/**
 * One task list (a filter) from the cache: the first page at once, more pages on demand
 * (`loadMore`, called as the list scrolls near its end), all of them for client-side sorts.
 */
export function useTaskList(filter: TaskFilter) {
  const qc = useQueryClient();
  const query = useQuery({
    queryKey: taskKeys.list(filter),
    queryFn: ({ signal }) => fetchList(qc, filter, signal),
    placeholderData: keepPreviousData,
    staleTime: 30_000,
    refetchOnWindowFocus: false,
  });
  const [loadingMore, setLoadingMore] = useState(false);
  const busy = useRef(false);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const loadMore = useCallback(async () => {
    const current = filterRef.current;
    const key = taskKeys.list(current);
    const data = qc.getQueryData<TaskListState>(key);
    if (busy.current || !data || data.items.length >= data.total) return;
    busy.current = true;
    setLoadingMore(true);
    try {
      const page = await api.listTasks(serverParams(current, data.items.length));
      qc.setQueryData<TaskListState>(key, (old) => appendPage(old ?? EMPTY_LIST, page, current));
    } catch {
      // the next scroll tries again
    } finally {
      busy.current = false;
      setLoadingMore(false);
    }
  }, [qc]);

  const data = query.data;
  const items = data?.items ?? EMPTY_LIST.items;
  const total = data?.total ?? 0;
  const hasMore = items.length < total;

  // A client-side sort needs every page.
  useEffect(() => {
    if (isClientSort(filter.sort) && hasMore && !loadingMore && !query.isFetching) void loadMore();
  }, [filter.sort, hasMore, loadingMore, query.isFetching, loadMore]);

  return {
    items,
    total,
    hasMore,
    loadMore,
    loadingMore,
    isLoading: query.isLoading,
    isFetching: query.isFetching,
    isPlaceholder: query.isPlaceholderData,
    error: query.error,
    refetch: query.refetch,
    queryKey: taskKeys.list(filter),
  };
}

export function useStats() {
  return useQuery({
    queryKey: statsKey,
    queryFn: api.getStats,
    staleTime: 10_000,
    refetchInterval: 60_000,
  });
}
