/**
 * The client side of retrying beyond the basic retry: a new link, a stored torrent, every failed
 * task at once, the server's own retries (auto-retry), and the duplicate check of an add.
 * The fields below are the HTTP contract's; they are declared here, next to the calls that use
 * them, until the shared contracts carry them (reading them is always optional, so an older server
 * simply shows no retry plan).
 */

import { TASK_MESSAGES } from '@rules';
import { ApiError, request } from './api';
import { t } from './i18n';
import type { BatchCreateResponse, Task, TaskOptions, TaskStatus } from './types';

/** What a Task says about the server's retries of it. */
export interface TaskRetryFields {
  /** 1 for a first try, 2 for the first retry, … */
  attempt: number;
  /** When the server retries it on its own (ISO time), or null when nothing is planned. */
  next_retry_at: string | null;
}

/** A Task as the server sends it, with its retry fields when the server knows them. */
export type RetryableTask = Task & Partial<TaskRetryFields>;

/** Which of the caller's tasks a retry by filter takes (the list's own filter). */
export interface RetryFilter {
  view?: 'current' | 'history' | 'all';
  status?: TaskStatus;
  q?: string;
}

export interface RetryFailure {
  id: number;
  status: number;
  detail: string;
}

/** The answer of a retry by filter: how many were retried, and the first failures. */
export interface RetryFilterResult {
  retried: number;
  failed: RetryFailure[];
}

/** The extra fields of an add. */
export interface AddExtras {
  /** How many times the server retries this download on its own (0..10). */
  auto_retry?: number;
  /** Add it even when one of the caller's current tasks already downloads it. */
  allow_duplicate?: boolean;
}

/** The extra fields of a .torrent upload: an add's, and the files to download. */
export interface TorrentExtras extends AddExtras {
  /** aria2's 1-based indexes of the files to download; all of them when absent. */
  select_files?: number[];
}

/** The 409 of an add that one of the caller's current tasks already downloads. */
export const DUPLICATE_DETAIL = TASK_MESSAGES.duplicate;
/** The 400 of a retry of a torrent task. */
export const TORRENT_RETRY_DETAIL = TASK_MESSAGES.torrentRetry;

/** The task that already downloads it, when `err` is the duplicate answer of an add. */
export function duplicateTaskId(err: unknown): number | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null;
  const body = err.body as { task_id?: unknown } | undefined;
  return typeof body?.task_id === 'number' ? body.task_id : null;
}

/** Retries a failed or stopped task, from a new link when `uri` is given; on a planned task, now. */
export function retryTask(id: number, uri?: string): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/retry`, {
    method: 'POST',
    ...(uri === undefined ? {} : { body: { uri } }),
  });
}

/** Where the stored .torrent of a torrent task downloads from (the browser opens it directly). */
export function torrentUrl(id: number): string {
  return `/api/tasks/${id}/torrent`;
}

/** Re-adds a torrent task from its stored .torrent, replacing it: the new Task. */
export function reuploadTorrent(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/reupload`, { method: 'POST' });
}

/** Retries every retryable task of the caller that matches, in one request. */
export function retryByFilter(filter: RetryFilter): Promise<RetryFilterResult> {
  return request<RetryFilterResult>('/api/tasks/retry', { method: 'POST', body: { filter } });
}

/** Cancels the server's planned retry of a task: the Task, with `next_retry_at` null. */
export function cancelAutoRetry(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/auto-retry`, { method: 'DELETE' });
}

/** Adds one URI, with the add's extra fields (duplicate check, auto-retry). */
export function createTaskWith(uri: string, options?: TaskOptions, extras: AddExtras = {}): Promise<Task> {
  return request<Task>('/api/tasks', {
    method: 'POST',
    body: { uri, ...(options ? { options } : {}), ...extras },
  });
}

/** Adds many URIs in one request, with the add's extra fields. */
export function createTasksWith(
  uris: string[],
  options?: TaskOptions,
  extras: AddExtras = {},
): Promise<BatchCreateResponse> {
  return request<BatchCreateResponse>('/api/tasks/batch', {
    method: 'POST',
    body: { uris, ...(options ? { options } : {}), ...extras },
  });
}

/** Uploads a .torrent (base64) with the add's extra fields and its choice of files. */
export function uploadTorrentWith(
  torrentBase64: string,
  options?: TaskOptions,
  extras: TorrentExtras = {},
): Promise<Task> {
  return request<Task>('/api/tasks/torrent', {
    method: 'POST',
    body: { torrent: torrentBase64, ...(options ? { options } : {}), ...extras },
  });
}

/** The filter of "Retry all failed" on a page showing `view` (and `q`). */
export function failedFilter(view: RetryFilter['view'], q?: string): RetryFilter {
  const filter: RetryFilter = { status: 'error' };
  if (view) filter.view = view;
  if (q?.trim()) filter.q = q.trim();
  return filter;
}

/**
 * The sentence of a retry by filter's answer, honest about what failed: `failedAgain` new tasks
 * failed at once (the server retried them, and their new download failed straight away), and the
 * answer's `failed` could not be retried at all.
 */
export function retryFilterMessage(result: RetryFilterResult, failedAgain = 0): string {
  const refused = result.failed.length;
  const more = refused >= 100 ? '+' : '';
  const again = Math.min(Math.max(0, failedAgain), result.retried);
  if (result.retried === 0 && refused === 0) return t('retry.noneFailed');
  const parts: string[] = [];
  if (again > 0) parts.push(t('retry.runningAgain', { running: result.retried - again, again }));
  if (refused > 0) parts.push(t('retry.refused', { count: refused, more }));
  if (result.retried === 0) return t('retry.noneRetried', { count: refused, more });
  return parts.length
    ? t('retry.retriedParts', { count: result.retried, parts: parts.join(t('retry.partsSeparator')) })
    : t('retry.retried', { count: result.retried });
}

/** The seconds left until a planned retry (never negative), or null when none is planned. */
export function secondsUntil(nextRetryAt: string | null | undefined, now: number): number | null {
  if (!nextRetryAt) return null;
  const at = Date.parse(nextRetryAt);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** "Retrying in 30 s (attempt 2 of 3)"; the attempt part only when the total is known. */
export function retryCountdownText(secondsLeft: number, attempt: number, attempts?: number | null): string {
  const when = secondsLeft <= 0 ? t('retry.now') : t('retry.inWait', { wait: formatWait(secondsLeft) });
  if (!attempts || attempts < attempt) return t('retry.attempt', { when, attempt });
  return t('retry.attemptOf', { when, attempt, attempts });
}

function formatWait(seconds: number): string {
  if (seconds < 60) return t('retry.wait.s', { s: seconds });
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  if (m < 60) return s ? t('retry.wait.ms', { m, s }) : t('retry.wait.m', { m });
  const h = Math.floor(m / 60);
  return m % 60 ? t('retry.wait.hm', { h, m: m % 60 }) : t('retry.wait.h', { h });
}

export const retryApi = {
  retryTask,
  torrentUrl,
  reuploadTorrent,
  retryByFilter,
  cancelAutoRetry,
  createTaskWith,
  createTasksWith,
  uploadTorrentWith,
};
