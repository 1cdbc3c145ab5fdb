'use client';

import { type QueryClient, useQuery } from '@tanstack/react-query';
import { type FileListing, filesApi } from '../../lib/files-api';
import { statsKey } from '../tasks/cache';

export const filesKeys = {
  all: ['files'] as const,
  list: (path: string) => ['files', 'list', path] as const,
};
export const sharesKey = ['shares'] as const;

/** While a running download is listed, its size grows: look again this often. */
const RUNNING_REFRESH_MS = 5000;

export function useFolder(path: string, enabled = true) {
  return useQuery({
    queryKey: filesKeys.list(path),
    queryFn: ({ signal }) => filesApi.listFiles(path, signal),
    enabled,
    refetchInterval: (query) =>
      (query.state.data as FileListing | undefined)?.entries.some((e) => e.task_id !== null)
        ? RUNNING_REFRESH_MS
        : false,
  });
}

export function useShares() {
  return useQuery({ queryKey: sharesKey, queryFn: filesApi.listShares });
}

/** After anything changed the folder: listings, shares (they follow moves and deletes) and the quota. */
export function refreshAfterChange(qc: QueryClient): void {
  void qc.invalidateQueries({ queryKey: filesKeys.all });
  void qc.invalidateQueries({ queryKey: sharesKey });
  void qc.invalidateQueries({ queryKey: statsKey });
}
