/**
 * Screenshots of every page (sign-in, tasks, a task, history, files, profile, users, settings) in
 * English and Chinese, light and dark, at desktop (1280×800) and phone width (390×844), saved as
 * test-results/screenshots/<page>-<desktop|phone>-<light|dark>-<en|zh>.png. Each combination has one
 * browser context (the language and theme stored as the switches store them, the session cookie set
 * once signed out pages are shot). Every shot checks the page: its heading in the chosen language, the
 * chosen theme's background, and no sideways scrolling on a phone. The README's pictures are copies of
 * some of them, kept in docs/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, SCREENSHOT_DIR, startHarness, type TestUser, waitFor } from './harness.js';
import { completeTask, createTask, failedTask, row, type Task, waitForStatus } from './support.js';

const MiB = 1024 * 1024;
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const BACKGROUND = { light: 'rgb(244, 246, 249)', dark: 'rgb(15, 18, 22)' } as const;
/** The catalog words the shots check their headings against. */
interface Words {
  app: { name: string };
  tasks: { title: string };
  nav: Record<'history' | 'files' | 'profile' | 'users' | 'settings', string>;
}
type Lang = 'en' | 'zh';
const catalog = (lang: Lang): Words =>
  JSON.parse(fs.readFileSync(new URL(`../frontend/locales/${lang}.json`, import.meta.url), 'utf8')) as Words;
const CATALOGS: Record<Lang, Words> = { en: catalog('en'), zh: catalog('zh') };
type Theme = keyof typeof BACKGROUND;
type Size = keyof typeof SIZES;

let h: Harness;
let user: TestUser;
let tasks: Task[];

/**
 * Starts a download that runs fast until `fraction` of it is done, then crawls at `speed` bytes/s (so
 * it shows progress and stays active). Returns the task and a wait for that point.
 */
async function startRunning(filePath: string, size: number, fraction: number, speed: number) {
  h.files.addFile(filePath, { size }, { throttle: 32 * MiB });
  const task = await createTask(h, user, h.files.url(filePath));
  const reached = async () => {
    await waitFor(
      async () => {
        const t = await h.api(user).get<Task>(`/api/tasks/${task.id}`);
        return t.status === 'active' && t.completed_length >= size * fraction;
      },
      30_000,
      `${filePath} to reach ${fraction * 100}%`,
    );
    h.files.update(filePath, { throttle: speed });
  };
  return { task, reached };
}

beforeAll(async () => {
  h = await startHarness();
  // An admin, so the Users and Settings pages are there to shoot.
  user = await h.createUser('alice', { is_admin: true });
  await h.createUser('bob', { quota: 20 * 1024 * MiB });
  // Oldest first: the list shows the newest at the top.
  const complete1 = await completeTask(h, user, '/mirror/nextcloud-30.0.2.tar.bz2', 9 * MiB);
  const complete2 = await completeTask(h, user, '/podcasts/episode-112.mp3', 5 * MiB);
  const failed = await failedTask(h, user, '/exports/dataset-2024-q3.csv.gz');
  const paused = await startRunning(
    '/releases/LibreOffice_24.8.3_Linux_x86-64_deb.tar.gz',
    210 * MiB,
    0.2,
    64 * 1024,
  );
  // Slow enough to stay running through every shot (a few minutes).
  const slow = await startRunning('/video/big-buck-bunny-1080p.mp4', 263 * MiB, 0.12, 300 * 1024);
  const fast = await startRunning('/vscode/VSCode-linux-x64-1.95.3.tar.gz', 140 * MiB, 0.45, 160 * 1024);
  await Promise.all([paused, slow, fast].map((r) => r.reached()));
  await h.api(user).put(`/api/tasks/${paused.task.id}/status`, { status: 'pause' });
  await waitForStatus(h, user, paused.task.id, 'paused');
  tasks = [fast.task, slow.task, paused.task, failed, complete2, complete1];
});
afterEach(async () => {
  expect(await h.closePages()).toEqual([]);
});
afterAll(async () => {
  await h?.close();
});

/** The width and height a PNG file declares. */
function pngSize(file: string): { width: number; height: number } {
  const png = fs.readFileSync(file);
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Waits until the tasks page shows every task in its state, the running ones with a speed. */
async function tasksReady(page: Page): Promise<void> {
  await page.locator('.live-open').waitFor({ state: 'attached' });
  const statuses = ['active', 'active', 'paused', 'error', 'complete', 'complete'];
  for (const [i, t] of tasks.entries()) {
    await page.locator(`[data-task-id="${t.id}"][data-status="${statuses[i]}"]`).waitFor();
    expect(await page.locator(`[data-task-id][data-index="${i}"]`).getAttribute('data-task-id')).toBe(
      String(t.id),
    );
  }
  // The running rows show a speed (not 0 B/s) once the live updates have brought one.
  for (const t of tasks.slice(0, 2)) {
    await row(page, t.id)
      .locator('dd', { hasText: /^(?!0 B\/s$).*\/s$/ })
      .waitFor({ state: 'attached' });
  }
}

interface Shot {
  name: string;
  path: () => string;
  heading: (c: Words) => string;
  ready?: (page: Page) => Promise<void>;
}

const SIGNED_IN: readonly Shot[] = [
  { name: 'tasks', path: () => '/tasks', heading: (c) => c.tasks.title, ready: tasksReady },
  {
    name: 'task',
    path: () => `/tasks/detail?id=${tasks[0]!.id}`,
    heading: () => 'VSCode-linux-x64-1.95.3.tar.gz',
  },
  {
    name: 'history',
    path: () => '/history',
    heading: (c) => c.nav.history,
    ready: (page) => page.locator('.history-row').first().waitFor(),
  },
  {
    name: 'files',
    path: () => '/files',
    heading: (c) => c.nav.files,
    ready: (page) => page.locator('[data-path]').first().waitFor(),
  },
  { name: 'profile', path: () => '/profile', heading: (c) => c.nav.profile },
  {
    name: 'users',
    path: () => '/users',
    heading: (c) => c.nav.users,
    ready: (page) => page.locator('[data-user-id]').first().waitFor(),
  },
  { name: 'settings', path: () => '/settings', heading: (c) => c.nav.settings },
];

/** Opens a page, checks it, and saves a whole-page screenshot. */
async function shoot(page: Page, shot: Shot, lang: Lang, theme: Theme, size: Size): Promise<void> {
  await page.goto(shot.path());
  const heading = page.getByRole('heading', { level: 1 }).first();
  await expect
    .poll(async () => (await heading.textContent())?.trim(), { timeout: 15_000 })
    .toBe(shot.heading(CATALOGS[lang]));
  expect(await heading.isVisible()).toBe(true);
  await shot.ready?.(page);
  // Nothing is still loading.
  await expect.poll(() => page.locator('.loading').count(), { timeout: 15_000 }).toBe(0);
  const look = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    theme: document.documentElement.dataset.theme,
    background: getComputedStyle(document.body).backgroundColor,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  const where = `${shot.name} ${size} ${theme} ${lang}`;
  expect(look.lang, where).toBe(lang === 'zh' ? 'zh-CN' : 'en');
  expect(look.theme, where).toBe(theme);
  expect(look.background, where).toBe(BACKGROUND[theme]);
  // Nothing is wider than the screen: no sideways scrolling (on a phone above all).
  expect(look.scrollWidth, where).toBeLessThanOrEqual(look.innerWidth);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${shot.name}-${size}-${theme}-${lang}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  const png = pngSize(file);
  expect(png.width, where).toBe(SIZES[size].width);
  expect(png.height, where).toBeGreaterThanOrEqual(SIZES[size].height);
}

for (const size of ['desktop', 'phone'] as const) {
  for (const theme of ['light', 'dark'] as const) {
    for (const lang of ['en', 'zh'] as const) {
      it(`saves every page at ${size} width, ${theme}, in ${lang === 'en' ? 'English' : 'Chinese'}`, async () => {
        const page = await h.newPage(SIZES[size]);
        const context = page.context();
        // Stored as the header's switches store them.
        await context.addInitScript(
          ([l, t]) => {
            window.localStorage.setItem('aria2c.lang', l!);
            window.localStorage.setItem('aria2c.theme', t!);
          },
          [lang, theme],
        );
        await shoot(
          page,
          { name: 'login', path: () => '/login', heading: (c) => c.app.name },
          lang,
          theme,
          size,
        );
        const [name, ...value] = user.cookie.split('=');
        await context.addCookies([
          { name: name!, value: value.join('='), url: h.origin, httpOnly: true, sameSite: 'Lax' },
        ]);
        for (const shot of SIGNED_IN) await shoot(page, shot, lang, theme, size);
      });
    }
  }
}
