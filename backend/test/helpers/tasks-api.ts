/**
 * Small conveniences for the tasks integration tests: JSON calls through `app.inject` as one user, and
 * bounded waits on a task's state.
 *
 *   const alice = as(c, cookie);
 *   const res = await alice.post('/api/tasks', { uri });      // a LightMyRequest response
 *   const done = await alice.waitTask(id, (t) => t.status === 'complete', 'the download to finish');
 */
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Task } from '../../src/contracts/tasks.js';
import type { TestController } from './controller.js';
import { waitFor } from './controller.js';

export interface ApiClient {
  readonly cookie: string | undefined;
  request(opts: InjectOptions): Promise<LightMyRequestResponse>;
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  put(url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  del(url: string): Promise<LightMyRequestResponse>;
  /** POST /api/tasks and expect 201; returns the Task. */
  add(uri: string, options?: Record<string, unknown>): Promise<Task>;
  task(id: number): Promise<Task>;
  /** Polls GET /api/tasks/{id} until `check` holds (bounded); returns the task. */
  waitTask(id: number, check: (t: Task) => boolean, what?: string, timeoutMs?: number): Promise<Task>;
}

/** Calls as the user of `cookie` (no cookie: anonymous). */
export function as(c: TestController, cookie?: string): ApiClient {
  const request = (opts: InjectOptions) =>
    c.app.inject({ ...opts, headers: { ...(cookie ? { cookie } : {}), ...opts.headers } });
  const client: ApiClient = {
    cookie,
    request,
    get: (url) => request({ method: 'GET', url }),
    post: (url, payload) =>
      request({ method: 'POST', url, ...(payload === undefined ? {} : { payload: payload as object }) }),
    put: (url, payload) =>
      request({ method: 'PUT', url, ...(payload === undefined ? {} : { payload: payload as object }) }),
    del: (url) => request({ method: 'DELETE', url }),
    async add(uri, options) {
      const res = await client.post('/api/tasks', options ? { uri, options } : { uri });
      if (res.statusCode !== 201) throw new Error(`POST /api/tasks ${uri}: ${res.statusCode} ${res.body}`);
      return res.json() as Task;
    },
    async task(id) {
      const res = await client.get(`/api/tasks/${id}`);
      if (res.statusCode !== 200) throw new Error(`GET /api/tasks/${id}: ${res.statusCode} ${res.body}`);
      return res.json() as Task;
    },
    async waitTask(id, check, what = `task ${id}`, timeoutMs = 20_000) {
      let last: Task | null = null;
      try {
        return await waitFor(
          async () => {
            last = await client.task(id);
            return check(last) ? last : null;
          },
          timeoutMs,
          what,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
      }
    },
  };
  return client;
}

export const isFinished = (t: Task) =>
  t.status === 'complete' || t.status === 'error' || t.status === 'removed';
