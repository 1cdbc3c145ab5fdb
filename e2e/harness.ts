/**
 * The browser-test harness: a real controller (SQLite, embedded aria2c, the built UI from
 * frontend/out) on a free loopback port, a local file server, and Debian's Chromium driven by
 * playwright-core.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
  USER_PASSWORD,
} from '../backend/test/helpers/controller.js';
import { type FileServer, startFileServer } from '../backend/test/helpers/file-server.js';

export { ADMIN_PASSWORD, USER_PASSWORD } from '../backend/test/helpers/controller.js';
export { patternBytes } from '../backend/test/helpers/file-server.js';
export { makeTorrent } from '../backend/test/helpers/torrent.js';
export { waitFor } from '../backend/test/helpers/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI_DIR = path.resolve(here, '../frontend/out');
/**
 * Screenshots are test artifacts, written outside the tracked tree; the README shows copies of them
 * kept in docs/screenshots/ (copy them there to refresh the README).
 */
export const SCREENSHOT_DIR = path.resolve(here, '../test-results/screenshots');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A response a test provokes on purpose (a refused retry): not a problem. */
export interface ExpectedFailure {
  method: string;
  /** Matched against the path (with the query string) of the request. */
  path: RegExp;
  status: number;
}

/**
 * What a page did that a working UI never does: a native dialog (alert/confirm/prompt), a console
 * error, an uncaught exception, or a 4xx/5xx answer (page assets and API calls alike) that the test
 * did not declare with `expectFailure`.
 */
export interface PageWatch {
  readonly problems: readonly string[];
  /** Declares an expected failing answer; Chromium's console error for it is then not a problem either. */
  expectFailure(failure: ExpectedFailure): void;
  /** The requests the page sent so far whose method and path (query string included) match. */
  requests(method: string, path: RegExp): Request[];
}

/** The Content-Security-Policy violations the page's current document saw. */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}

/** A user of the controller with a session cookie. */
export interface TestUser {
  id: number;
  username: string;
  password: string;
  /** `aria2_session=...`, for `api`. */
  cookie: string;
  /** The user's download folder: finished downloads land in it (`<dir>/<artifact_path>`). */
  dir: string;
}

/** The controller's HTTP API as one user (through app.inject: no network, no Origin header). */
export interface ApiClient {
  get<T>(url: string): Promise<T>;
  post<T>(url: string, body?: unknown): Promise<T>;
  put<T>(url: string, body?: unknown): Promise<T>;
  delete<T>(url: string): Promise<T>;
  /** The status and body of any request, without throwing. */
  raw(method: string, url: string, body?: unknown): Promise<{ status: number; body: unknown }>;
}

export interface Harness {
  controller: TestController;
  files: FileServer;
  browser: Browser;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** A page in a fresh browser context (no session), watched (see `PageWatch`). */
  newPage(options?: { width?: number; height?: number }): Promise<Page>;
  /** The watch of a page made by `newPage` or `userPage`. */
  watch(page: Page): PageWatch;
  signIn(page: Page, username: string, password: string): Promise<void>;
  signInAdmin(page: Page): Promise<void>;
  /** Creates a user (through the service; password `USER_PASSWORD`). */
  createUser(username: string, options?: { quota?: number; is_admin?: boolean }): Promise<TestUser>;
  /** A watched page of a new user, already signed in (the session cookie is set in its context). */
  userPage(
    username: string,
    options?: { quota?: number; is_admin?: boolean; width?: number; height?: number },
  ): Promise<{ page: Page; user: TestUser }>;
  api(user: Pick<TestUser, 'cookie'>): ApiClient;
  /**
   * Closes every page opened since the last call and returns the problems they saw, for
   * `afterEach(async () => expect(await h.closePages()).toEqual([]))`.
   */
  closePages(): Promise<string[]>;
  close(): Promise<void>;
}

interface Watched {
  context: BrowserContext;
  watch: PageWatch;
}

function watchPage(page: Page, origin: string): PageWatch {
  const problems: string[] = [];
  // The sign-in page asks whether a session is already there: a 401 is its "nobody is signed in".
  const expected: ExpectedFailure[] = [{ method: 'GET', path: /^\/api\/auth\/me$/, status: 401 }];
  const sent: Request[] = [];
  const pathOf = (url: string) => {
    const u = new URL(url);
    return u.origin === origin ? u.pathname + u.search : url;
  };
  const isExpected = (method: string | null, url: string, status: number | null) =>
    expected.some(
      (e) =>
        (method === null || e.method === method) &&
        (status === null || e.status === status) &&
        e.path.test(pathOf(url)),
    );
  page.on('request', (r) => sent.push(r));
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const method = r.request().method();
    if (isExpected(method, r.url(), r.status())) return;
    problems.push(`${r.status()} ${method} ${pathOf(r.url())}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs "Failed to load resource: ... status of 403" for every failing fetch.
    const at = m.location().url;
    if (/^Failed to load resource/.test(m.text()) && at && isExpected(null, at, null)) return;
    problems.push(`console error: ${m.text()}${at ? ` (${pathOf(at)})` : ''}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`native ${d.type()} dialog: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  return {
    problems,
    expectFailure: (failure) => {
      expected.push(failure);
    },
    requests: (method, path) => sent.filter((r) => r.method() === method && path.test(pathOf(r.url()))),
  };
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  if (!fs.existsSync(path.join(UI_DIR, 'index.html')))
    throw new Error('the UI is not built (npm run build:ui)');
  const controller = await startTestController(env, { uiDir: UI_DIR });
  await controller.app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(controller.app.server.address() as AddressInfo).port}`;
  const files = await startFileServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const watched = new Map<Page, Watched>();
  const newPage = async ({ width = 1280, height = 800 } = {}, cookie?: string) => {
    const context = await browser.newContext({
      viewport: { width, height },
      baseURL: origin,
      colorScheme: 'light',
    });
    if (cookie) {
      const [name, ...value] = cookie.split('=');
      await context.addCookies([
        { name: name!, value: value.join('='), url: origin, httpOnly: true, sameSite: 'Lax' },
      ]);
    }
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // A Content-Security-Policy violation (a blocked inline script, say) is a console error, so a
    // problem of the page; `cspViolations` reads the list the page itself kept.
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) => {
        const what = `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`;
        seen.push(what);
        console.error(`CSP violation: ${what}`);
      });
    });
    watched.set(page, { context, watch: watchPage(page, origin) });
    return page;
  };
  const signIn = async (page: Page, username: string, password: string) => {
    await page.goto(`${origin}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/tasks/);
  };
  const api = (user: Pick<TestUser, 'cookie'>): ApiClient => {
    const raw = async (method: string, url: string, body?: unknown) => {
      const res = await controller.app.inject({
        method: method as 'GET',
        url,
        headers: { cookie: user.cookie },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as unknown) : undefined };
    };
    const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
      const res = await raw(method, url, body);
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as T;
    };
    return {
      get: (url) => call('GET', url),
      post: (url, body) => call('POST', url, body),
      put: (url, body) => call('PUT', url, body),
      delete: (url) => call('DELETE', url),
      raw,
    };
  };
  const createUser = async (username: string, options: { quota?: number; is_admin?: boolean } = {}) => {
    const { id, cookie } = await controller.createUser(username, options);
    return {
      id,
      username,
      password: USER_PASSWORD,
      cookie,
      dir: path.join(controller.config.downloadDir, String(id)),
    };
  };
  return {
    controller,
    files,
    browser,
    origin,
    newPage: (options) => newPage(options),
    watch(page) {
      const w = watched.get(page);
      if (!w) throw new Error('not a page of this harness');
      return w.watch;
    },
    signIn,
    signInAdmin: (page) => signIn(page, 'admin', ADMIN_PASSWORD),
    createUser,
    async userPage(username, { width, height, ...options } = {}) {
      const user = await createUser(username, options);
      const page = await newPage({ width, height }, user.cookie);
      return { page, user };
    },
    api,
    async closePages() {
      const problems: string[] = [];
      for (const [page, w] of watched) {
        problems.push(...w.watch.problems.map((p) => `${page.url()}: ${p}`));
        await w.context.close().catch(() => undefined);
      }
      watched.clear();
      return problems;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await files.close();
      await controller.destroy();
    },
  };
}
