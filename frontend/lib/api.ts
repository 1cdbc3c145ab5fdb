/**
 * Typed fetch over the HTTP contract (types from backend/src/contracts).
 * Same-origin, cookie session. Every non-2xx answer is thrown as an ApiError carrying the status
 * and the server's `detail`. A 401 on anything but the login call sends the browser to
 * `/login?next=<current path>`.
 */
import type { AddExtras, RetryFilter } from '@contracts';
import { MAX_IDS_PER_CALL } from '@rules';
import { translateDetail } from './api-messages';
import { t } from './i18n';
import { loginUrl } from './navigation';
import type {
  BatchCreateResponse,
  CreateUserBody,
  Health,
  ListTasksQuery,
  MachineStats,
  PositionHow,
  RetryResult,
  Settings,
  SettingsPatch,
  Stats,
  Task,
  TaskDetail,
  TaskFile,
  TaskList,
  TaskOptions,
  TaskStatusChange,
  UpdateUserBody,
  User,
} from './types';

/** A fetch that got no answer; shown in the reader's language (see api-messages). */
export const UNREACHABLE = 'The server cannot be reached. Check your connection.';

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  /** The whole JSON answer, when there was one (some errors carry more than `detail`). */
  readonly body: unknown;

  constructor(status: number, detail: string, body?: unknown) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/**
 * The human sentence of any error, for toasts: the server's `detail` when there is one, in the
 * reader's language when it is a sentence the UI knows.
 */
export function errorDetail(err: unknown): string {
  if (err instanceof ApiError) return translateDetail(err.detail);
  if (err instanceof Error) return err.message;
  return String(err);
}

type UnauthorizedHandler = () => void;

let redirecting = false;
function defaultUnauthorized(): void {
  if (typeof window === 'undefined' || redirecting) return;
  const { pathname, search } = window.location;
  if (pathname === '/login' || pathname.startsWith('/login.')) return;
  redirecting = true;
  window.location.assign(loginUrl(pathname + search));
}

let onUnauthorized: UnauthorizedHandler = defaultUnauthorized;

/** Replaces what a 401 does (tests; the default sends the browser to the login page). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler ?? defaultUnauthorized;
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  /** The login call answers 401 for wrong credentials: that is not "signed out". */
  noAuthRedirect?: boolean;
  signal?: AbortSignal;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function readDetail(res: Response): Promise<{ detail: string; body?: unknown }> {
  const fallback = `${res.status} ${res.statusText || t('api.requestFailed')}`.trim();
  let text: string;
  try {
    text = await res.text();
  } catch {
    return { detail: fallback };
  }
  if (!text) return { detail: fallback };
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && 'detail' in body) {
      const detail = (body as { detail: unknown }).detail;
      return { detail: typeof detail === 'string' ? detail : JSON.stringify(detail), body };
    }
  } catch {
    // not JSON: fall through to the text itself when it is short
  }
  return { detail: text.length <= 300 ? text : fallback };
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { method = 'GET', body, query, noAuthRedirect, signal } = options;
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal,
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, query), init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, UNREACHABLE);
  }
  if (!res.ok) {
    const { detail, body: errorBody } = await readDetail(res);
    if (res.status === 401 && !noAuthRedirect) onUnauthorized();
    throw new ApiError(res.status, detail, errorBody);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

// ---------------------------------------------------------------- auth
export function login(username: string, password: string): Promise<User> {
  return request<User>('/api/auth/login', {
    method: 'POST',
    body: { username, password },
    noAuthRedirect: true,
  });
}
export function logout(): Promise<void> {
  return request<void>('/api/auth/logout', { method: 'POST', noAuthRedirect: true });
}
export function me(): Promise<User> {
  return request<User>('/api/auth/me');
}
export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return request<void>('/api/auth/change-password', {
    method: 'POST',
    body: { current_password: currentPassword, new_password: newPassword },
  });
}

// ---------------------------------------------------------------- users (admin)
export function listUsers(): Promise<User[]> {
  return request<User[]>('/api/users');
}
export function createUser(body: CreateUserBody): Promise<User> {
  return request<User>('/api/users', { method: 'POST', body });
}
export function getUser(id: number): Promise<User> {
  return request<User>(`/api/users/${id}`);
}
export function updateUser(id: number, body: UpdateUserBody): Promise<User> {
  return request<User>(`/api/users/${id}`, { method: 'PUT', body });
}
export function deleteUser(id: number, deleteFiles = false): Promise<void> {
  return request<void>(`/api/users/${id}`, {
    method: 'DELETE',
    query: { delete_files: deleteFiles ? 'true' : 'false' },
  });
}

// ---------------------------------------------------------------- tasks
export type ListTasksParams = Partial<ListTasksQuery>;

/**
 * `extras`: `auto_retry` (0..10 automatic retries for this task) and `allow_duplicate` (add even when a
 * current task downloads the same URI or info hash; otherwise 409 "This download is already in your list").
 */
export function createTask(uri: string, options?: TaskOptions, extras?: AddExtras): Promise<Task> {
  return request<Task>('/api/tasks', {
    method: 'POST',
    body: { uri, ...(options ? { options } : {}), ...extras },
  });
}
export function createTasks(
  uris: string[],
  options?: TaskOptions,
  extras?: AddExtras,
): Promise<BatchCreateResponse> {
  return request<BatchCreateResponse>('/api/tasks/batch', {
    method: 'POST',
    body: { uris, ...(options ? { options } : {}), ...extras },
  });
}
/** Uploads a .torrent as base64 JSON (`torrent` is the file's bytes in base64). */
export function uploadTorrent(
  torrentBase64: string,
  options?: TaskOptions,
  extras?: AddExtras,
): Promise<Task> {
  return request<Task>('/api/tasks/torrent', {
    method: 'POST',
    body: { torrent: torrentBase64, ...(options ? { options } : {}), ...extras },
  });
}
export function listTasks(params: ListTasksParams = {}, signal?: AbortSignal): Promise<TaskList> {
  return request<TaskList>('/api/tasks', { query: { ...params }, signal });
}
export function getTask(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}`);
}
export function getTaskDetail(id: number): Promise<TaskDetail> {
  return request<TaskDetail>(`/api/tasks/${id}/detail`);
}
export function getTaskFiles(id: number): Promise<TaskFile[]> {
  return request<TaskFile[]>(`/api/tasks/${id}/files`);
}
export function setTaskStatus(id: number, status: TaskStatusChange): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/status`, { method: 'PUT', body: { status } });
}
export function pauseTask(id: number): Promise<Task> {
  return setTaskStatus(id, 'pause');
}
export function resumeTask(id: number): Promise<Task> {
  return setTaskStatus(id, 'resume');
}
export function stopTask(id: number): Promise<Task> {
  return setTaskStatus(id, 'stop');
}
export function changeTaskPosition(
  id: number,
  position: number,
  how: PositionHow = 'POS_SET',
): Promise<{ position: number }> {
  return request<{ position: number }>(`/api/tasks/${id}/position`, {
    method: 'PUT',
    body: { position, how },
  });
}
/** Changes a current download's options (speed limits, seeding) at once. */
export function changeTaskOptions(id: number, options: Partial<TaskOptions>): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/options`, { method: 'PUT', body: options });
}
/** Chooses which of a torrent's files are downloaded (1-based indexes). */
export function selectTaskFiles(id: number, selected: number[]): Promise<TaskFile[]> {
  return request<TaskFile[]>(`/api/tasks/${id}/files`, { method: 'PUT', body: { selected } });
}
export function deleteTask(id: number, deleteFiles = false): Promise<void> {
  return request<void>(`/api/tasks/${id}`, {
    method: 'DELETE',
    query: { delete_files: deleteFiles ? 'true' : 'false' },
  });
}
/**
 * Sends `ids` in calls of at most `MAX_IDS_PER_CALL` (the server's limit), one after the other,
 * and joins their results in order.
 */
async function inChunks<R>(ids: readonly number[], call: (chunk: number[]) => Promise<{ results: R[] }>) {
  const results: R[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) {
    results.push(...(await call(ids.slice(i, i + MAX_IDS_PER_CALL))).results);
  }
  return { results };
}
/**
 * One id's answer of a bulk action: the single action's outcome for that id, `task` as it is now
 * (absent after a delete). Declared here, next to the calls, until the shared contracts carry the
 * bulk bodies.
 */
export type BulkResult =
  | { id: number; ok: true; task?: Task }
  | { id: number; ok: false; status: number; detail: string };
export interface BulkResponse {
  results: BulkResult[];
}
/** Pauses, resumes or stops many tasks, 1000 per request; one result per id. */
export function setTasksStatus(ids: readonly number[], status: TaskStatusChange): Promise<BulkResponse> {
  return inChunks(ids, (chunk) =>
    request<BulkResponse>('/api/tasks/status', { method: 'POST', body: { ids: chunk, status } }),
  );
}
/** Deletes many tasks (and their files when asked), 1000 per request; one result per id. */
export function deleteTasks(ids: readonly number[], deleteFiles = false): Promise<BulkResponse> {
  return inChunks(ids, (chunk) =>
    request<BulkResponse>('/api/tasks/delete', {
      method: 'POST',
      body: { ids: chunk, ...(deleteFiles ? { delete_files: true } : {}) },
    }),
  );
}
/** Clears the caller's history (complete, error, removed). */
/** Clears the history; with `status` only its tasks of that status ('complete': Clear completed). */
export function clearHistory(
  deleteFiles = false,
  status?: 'complete' | 'error' | 'removed',
): Promise<{ deleted: number }> {
  return request<{ deleted: number }>('/api/tasks', {
    method: 'DELETE',
    query: { delete_files: deleteFiles ? 'true' : 'false', status },
  });
}
/** Replaces a failed or stopped task by a new download of the same source: the new Task. */
export function retryTask(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/retry`, { method: 'POST' });
}
/** Retries many tasks, 1000 per request; one result per distinct id, in the order given. */
export function retryTasks(ids: readonly number[]): Promise<{ results: RetryResult[] }> {
  return inChunks(ids, (chunk) =>
    request<{ results: RetryResult[] }>('/api/tasks/retry', { method: 'POST', body: { ids: chunk } }),
  );
}
/** Retries the task from a new link (one that expired): checked like an add. */
export function retryTaskWithUri(id: number, uri: string): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/retry`, { method: 'POST', body: { uri } });
}
export interface RetryByFilterResult {
  retried: number;
  /** The first 100 failures. */
  failed: { id: number; status: number; detail: string }[];
}
/** "Retry all failed": every retryable task that matches, in one request however long the history. */
export function retryByFilter(filter: RetryFilter): Promise<RetryByFilterResult> {
  return request<RetryByFilterResult>('/api/tasks/retry', { method: 'POST', body: { filter } });
}
/** Where an uploaded torrent task's stored .torrent file downloads from. */
export function torrentFileUrl(id: number): string {
  return `/api/tasks/${id}/torrent`;
}
/** Re-adds a failed or stopped torrent task from its stored .torrent file (replacing it, like a retry). */
export function reuploadTorrent(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/reupload`, { method: 'POST' });
}
/** Cancels a task's planned automatic retry. */
export function cancelAutoRetry(id: number): Promise<Task> {
  return request<Task>(`/api/tasks/${id}/auto-retry`, { method: 'DELETE' });
}
/** Where the finished file (or a zip of a finished folder) downloads from. */
export function artifactUrl(token: string): string {
  return `/api/tasks/artifacts/${enc(token)}`;
}

// ---------------------------------------------------------------- stats and settings
export function getStats(): Promise<Stats> {
  return request<Stats>('/api/stats');
}
export function getMachineStats(): Promise<MachineStats> {
  return request<MachineStats>('/api/stats/machine');
}
export function getConfig(): Promise<Settings> {
  return request<Settings>('/api/config');
}
export function updateConfig(patch: SettingsPatch): Promise<Settings> {
  return request<Settings>('/api/config', { method: 'PUT', body: patch });
}
export function health(): Promise<Health> {
  return request<Health>('/api/health', { noAuthRedirect: true });
}

/** Every endpoint as one object (`api.retryTask(id)`), the same functions as the named exports. */
export const api = {
  login,
  logout,
  me,
  changePassword,
  listUsers,
  createUser,
  getUser,
  updateUser,
  deleteUser,
  createTask,
  createTasks,
  uploadTorrent,
  listTasks,
  getTask,
  getTaskDetail,
  getTaskFiles,
  setTaskStatus,
  pauseTask,
  resumeTask,
  stopTask,
  changeTaskPosition,
  changeTaskOptions,
  selectTaskFiles,
  deleteTask,
  deleteTasks,
  setTasksStatus,
  clearHistory,
  retryTask,
  retryTasks,
  retryTaskWithUri,
  retryByFilter,
  torrentFileUrl,
  reuploadTorrent,
  cancelAutoRetry,
  artifactUrl,
  getStats,
  getMachineStats,
  getConfig,
  updateConfig,
  health,
};
export type Api = typeof api;
