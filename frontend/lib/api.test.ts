import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, errorDetail, setUnauthorizedHandler } from './api';

type FetchArgs = [string, RequestInit];
let calls: FetchArgs[];
let respond: (url: string, init: RequestInit) => Response | Promise<Response>;

beforeEach(() => {
  calls = [];
  respond = () => new Response(null, { status: 204 });
  vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return Promise.resolve(respond(url, init));
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('api', () => {
  it('retryTask posts to the task’s retry endpoint and returns the new task', async () => {
    respond = () => json({ id: 16, status: 'active' });
    const task = await api.retryTask(15);
    expect(task).toEqual({ id: 16, status: 'active' });
    const [url, init] = calls[0]!;
    expect(url).toBe('/api/tasks/15/retry');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('same-origin');
  });

  it('retryTasks sends all ids in one request', async () => {
    respond = () => json({ results: [{ id: 1, ok: false, status: 409, detail: 'x' }] });
    const { results } = await api.retryTasks([1, 2]);
    expect(results).toHaveLength(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('/api/tasks/retry');
    expect(JSON.parse(String(calls[0]![1].body))).toEqual({ ids: [1, 2] });
    expect(new Headers(calls[0]![1].headers).get('content-type')).toBe('application/json');
  });

  it('throws ApiError with the status and the server’s detail', async () => {
    respond = () => json({ detail: 'Only failed or stopped tasks can be retried' }, 409);
    const err = await api.retryTask(3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(409);
    expect((err as ApiError).detail).toBe('Only failed or stopped tasks can be retried');
    expect(errorDetail(err)).toBe('Only failed or stopped tasks can be retried');
  });

  it('sends a 401 to the login page, except for the login call itself', async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    respond = () => json({ detail: 'Not authenticated' }, 401);
    await expect(api.listTasks()).rejects.toMatchObject({ status: 401, detail: 'Not authenticated' });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    await expect(api.login('a', 'b')).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('passes query parameters and skips empty ones', async () => {
    respond = () => json({ items: [], total: 0 });
    await api.listTasks({ view: 'history', status: undefined, q: '', limit: 1000, offset: 2000 });
    expect(calls[0]![0]).toBe('/api/tasks?view=history&limit=1000&offset=2000');
    await api.deleteTask(7, true);
    expect(calls[1]![0]).toBe('/api/tasks/7?delete_files=true');
    expect(calls[1]![1].method).toBe('DELETE');
  });

  it('returns undefined for 204 and turns a network failure into an ApiError', async () => {
    await expect(api.logout()).resolves.toBeUndefined();
    respond = () => {
      throw new TypeError('fetch failed');
    };
    await expect(api.me()).rejects.toMatchObject({ status: 0 });
  });

  it('uploads a torrent as base64 JSON', async () => {
    respond = () => json({ id: 1, uri: '[torrent]' }, 201);
    await api.uploadTorrent('ZGF0YQ==', { split: 4 });
    expect(calls[0]![0]).toBe('/api/tasks/torrent');
    expect(JSON.parse(String(calls[0]![1].body))).toEqual({ torrent: 'ZGF0YQ==', options: { split: 4 } });
  });

  it('reads a non-JSON error body as the detail', async () => {
    respond = () => new Response('Bad gateway', { status: 502 });
    await expect(api.getStats()).rejects.toMatchObject({ status: 502, detail: 'Bad gateway' });
  });
});

describe('bulk calls', () => {
  it('retryTasks sends more than 1000 ids in calls of 1000 and joins the results in order', async () => {
    respond = (_url, init) =>
      json({
        results: (JSON.parse(String(init.body)) as { ids: number[] }).ids.map((id) => ({
          id,
          ok: false,
          status: 409,
          detail: 'Only failed or stopped tasks can be retried',
        })),
      });
    const ids = Array.from({ length: 2001 }, (_, i) => i + 1);
    const { results } = await api.retryTasks(ids);
    expect(calls.map(([, init]) => (JSON.parse(String(init.body)) as { ids: number[] }).ids.length)).toEqual([
      1000, 1000, 1,
    ]);
    expect(results.map((r) => r.id)).toEqual(ids);
  });

  const echo = (extra: object) => (_url: string, init: RequestInit) =>
    json({
      results: (JSON.parse(String(init.body)) as { ids: number[] }).ids.map((id) => ({
        id,
        ok: true,
        ...extra,
      })),
    });
  const bodies = () => calls.map(([, init]) => JSON.parse(String(init.body)) as Record<string, unknown>);

  it('setTasksStatus posts ids and the change to the bulk status route, 1000 ids per call', async () => {
    respond = echo({ task: { id: 0, status: 'paused' } });
    const ids = Array.from({ length: 1500 }, (_, i) => i + 1);
    const { results } = await api.setTasksStatus(ids, 'pause');
    expect(calls.map(([url, init]) => `${init.method} ${url}`)).toEqual([
      'POST /api/tasks/status',
      'POST /api/tasks/status',
    ]);
    expect(bodies()).toEqual([
      { ids: ids.slice(0, 1000), status: 'pause' },
      { ids: ids.slice(1000), status: 'pause' },
    ]);
    expect(results.map((r) => r.id)).toEqual(ids);
  });

  it('deleteTasks posts ids to the bulk delete route, delete_files only when asked', async () => {
    respond = echo({});
    await api.deleteTasks([3, 4]);
    await api.deleteTasks([5], true);
    expect(calls.map(([url, init]) => `${init.method} ${url}`)).toEqual([
      'POST /api/tasks/delete',
      'POST /api/tasks/delete',
    ]);
    expect(bodies()).toEqual([{ ids: [3, 4] }, { ids: [5], delete_files: true }]);
  });

  it('a refused bulk call is an ApiError with the server’s detail', async () => {
    respond = () => json({ detail: 'ids: at most 1000' }, 422);
    await expect(api.setTasksStatus([1], 'stop')).rejects.toMatchObject({
      status: 422,
      detail: 'ids: at most 1000',
    });
  });
});
