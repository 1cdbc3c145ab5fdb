import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import {
  cancelAutoRetry,
  createTasksWith,
  createTaskWith,
  duplicateTaskId,
  failedFilter,
  retryByFilter,
  retryCountdownText,
  retryFilterMessage,
  retryTask,
  reuploadTorrent,
  secondsUntil,
  torrentUrl,
  uploadTorrentWith,
} from './retry-api';

type FetchArgs = [string, RequestInit];
let calls: FetchArgs[];
let respond: () => Response;

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

beforeEach(() => {
  calls = [];
  respond = () => json({ id: 2 });
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return Promise.resolve(respond());
  });
});
afterEach(() => vi.unstubAllGlobals());

const sent = (i = 0) => {
  const [url, init] = calls[i]!;
  return { url, method: init.method, body: init.body ? JSON.parse(String(init.body)) : undefined };
};

describe('retry api', () => {
  it('retries with a new link, or without a body', async () => {
    await retryTask(5, 'https://mirror.example/a.zip');
    expect(sent(0)).toEqual({
      url: '/api/tasks/5/retry',
      method: 'POST',
      body: { uri: 'https://mirror.example/a.zip' },
    });
    await retryTask(5);
    expect(sent(1)).toEqual({ url: '/api/tasks/5/retry', method: 'POST', body: undefined });
  });

  it('re-uploads a stored torrent, and downloads it from its own path', async () => {
    await reuploadTorrent(9);
    expect(sent()).toEqual({ url: '/api/tasks/9/reupload', method: 'POST', body: undefined });
    expect(torrentUrl(9)).toBe('/api/tasks/9/torrent');
  });

  it('retries by filter in one request and cancels a plan', async () => {
    respond = () => json({ retried: 3, failed: [] });
    expect(await retryByFilter(failedFilter('history', ' iso '))).toEqual({ retried: 3, failed: [] });
    expect(sent()).toEqual({
      url: '/api/tasks/retry',
      method: 'POST',
      body: { filter: { status: 'error', view: 'history', q: 'iso' } },
    });
    respond = () => json({ id: 4, next_retry_at: null });
    await cancelAutoRetry(4);
    expect(sent(1)).toEqual({ url: '/api/tasks/4/auto-retry', method: 'DELETE', body: undefined });
  });

  it('adds with allow_duplicate beside uri and options, and reads the duplicate answer', async () => {
    await createTaskWith('https://a.example/x', { split: 2 }, { allow_duplicate: true });
    expect(sent().body).toEqual({ uri: 'https://a.example/x', options: { split: 2 }, allow_duplicate: true });
    respond = () => json({ detail: 'This download is already in your list', task_id: 12 }, 409);
    const err = await createTaskWith('https://a.example/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(duplicateTaskId(err)).toBe(12);
    expect(duplicateTaskId(new ApiError(409, 'Only failed or stopped tasks can be retried'))).toBeNull();
    expect(duplicateTaskId(new ApiError(400, 'x', { task_id: 1 }))).toBeNull();
  });

  it('carries the extra fields on a batch add and a torrent upload too', async () => {
    respond = () => json({ created: [], failed: [] });
    await createTasksWith(['https://a.example/x'], undefined, { allow_duplicate: true });
    expect(sent()).toEqual({
      url: '/api/tasks/batch',
      method: 'POST',
      body: { uris: ['https://a.example/x'], allow_duplicate: true },
    });
    respond = () => json({ id: 3 });
    await uploadTorrentWith('ZGF0YQ==', { split: 1 }, { auto_retry: 2 });
    expect(sent(1)).toEqual({
      url: '/api/tasks/torrent',
      method: 'POST',
      body: { torrent: 'ZGF0YQ==', options: { split: 1 }, auto_retry: 2 },
    });
    await uploadTorrentWith('ZGF0YQ==', undefined, { select_files: [1, 3] });
    expect(sent(2)).toEqual({
      url: '/api/tasks/torrent',
      method: 'POST',
      body: { torrent: 'ZGF0YQ==', select_files: [1, 3] },
    });
  });
});

describe('retry messages', () => {
  it('says how many were retried and how many failed, honestly', () => {
    expect(retryFilterMessage({ retried: 3, failed: [] })).toBe('Retried 3 tasks');
    expect(retryFilterMessage({ retried: 3, failed: [] }, 2)).toBe(
      'Retried 3 tasks: 1 running, 2 failed again',
    );
    expect(retryFilterMessage({ retried: 1, failed: [{ id: 4, status: 403, detail: 'quota' }] })).toBe(
      'Retried 1 task: 1 could not be retried',
    );
    expect(retryFilterMessage({ retried: 0, failed: [] })).toBe('No failed tasks to retry');
    expect(retryFilterMessage({ retried: 0, failed: [{ id: 4, status: 403, detail: 'quota' }] })).toBe(
      'No task retried: 1 task could not be retried',
    );
  });

  it('counts down to a planned retry', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(secondsUntil('2026-01-01T00:00:30Z', now)).toBe(30);
    expect(secondsUntil('2026-01-01T00:00:29.2Z', now)).toBe(30);
    expect(secondsUntil('2025-12-31T23:59:00Z', now)).toBe(0);
    expect(secondsUntil(null, now)).toBeNull();
    expect(secondsUntil('soon', now)).toBeNull();
    expect(retryCountdownText(30, 2, 3)).toBe('Retrying in 30 s (attempt 2 of 3)');
    expect(retryCountdownText(90, 2)).toBe('Retrying in 1 min 30 s (attempt 2)');
    expect(retryCountdownText(0, 3, 4)).toBe('Retrying now (attempt 3 of 4)');
  });
});
