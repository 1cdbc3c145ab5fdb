'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../../lib/api';
import { type RetryableTask, retryCountdownText, secondsUntil } from '../../lib/retry-api';
import type { Task } from '../../lib/types';
import { useMe } from '../auth/useMe';

/** When the server retries this task on its own (ISO time), or null. */
export function plannedRetryAt(task: Task): string | null {
  return (task as RetryableTask).next_retry_at ?? null;
}

/** Now, once a second while `active` (one timer per shown plan). */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/**
 * How many tries the server makes in all (the first one plus its retries), when this user may
 * read the settings (admins); otherwise the line names the attempt alone.
 */
function useAttemptsTotal(): number | null {
  const me = useMe();
  const config = useQuery({
    queryKey: ['config'],
    queryFn: api.getConfig,
    enabled: me.data?.is_admin === true,
    staleTime: 60_000,
  });
  const retries = (config.data as { auto_retry_attempts?: unknown } | undefined)?.auto_retry_attempts;
  return typeof retries === 'number' && retries > 0 ? retries + 1 : null;
}

/** "Retrying in 30 s (attempt 2 of 4)", counting down, for a task whose retry is planned. */
export function RetryCountdown({ task, className }: { task: Task; className?: string }) {
  const at = plannedRetryAt(task);
  const now = useNow(at !== null);
  const total = useAttemptsTotal();
  const left = secondsUntil(at, now);
  if (left === null) return null;
  // The planned retry is the attempt after the one that failed.
  const attempt = ((task as RetryableTask).attempt ?? 1) + 1;
  const text = retryCountdownText(left, attempt, total);
  return (
    <p className={className ?? 'task-sub task-retrying'} title={task.error ?? text} data-retry-plan="">
      {text}
    </p>
  );
}
