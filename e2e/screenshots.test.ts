/**
 * The screenshots of the README: the tasks page with downloads in several states (complete, failed,
 * paused, running), at phone width (390×844) and desktop width (1280×800), saved as
 * test-results/screenshots/tasks-phone.png and tasks-desktop.png (the README's copies live in
 * docs/screenshots/).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, SCREENSHOT_DIR, startHarness, type TestUser, waitFor } from './harness.js';
import { completeTask, createTask, failedTask, row, type Task, waitForStatus } from './support.js';

const MiB = 1024 * 1024;

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
  user = await h.createUser('alice');
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
  const slow = await startRunning('/video/big-buck-bunny-1080p.mp4', 263 * MiB, 0.12, 700 * 1024);
  const fast = await startRunning('/vscode/VSCode-linux-x64-1.95.3.tar.gz', 140 * MiB, 0.45, 2 * MiB);
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

/** Opens the tasks page, waits until every row shows its task's state, and saves a whole-page screenshot. */
async function shoot(page: Page, name: string): Promise<string> {
  await page.goto('/tasks');
  await page.locator('.live-open').waitFor();
  for (const t of tasks) await row(page, t.id).waitFor();
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
      .waitFor();
  }
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

it('saves a phone-width screenshot of the tasks page', async () => {
  const page = await h.newPage({ width: 390, height: 844 });
  await h.signIn(page, user.username, user.password);
  const file = await shoot(page, 'tasks-phone.png');
  const size = pngSize(file);
  expect(size.width).toBe(390);
  expect(size.height).toBeGreaterThan(844);
  // Nothing is wider than the phone: no sideways scrolling.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});

it('saves a desktop screenshot of the tasks page', async () => {
  const page = await h.newPage({ width: 1280, height: 800 });
  await h.signIn(page, user.username, user.password);
  const file = await shoot(page, 'tasks-desktop.png');
  const size = pngSize(file);
  expect(size.width).toBe(1280);
  expect(size.height).toBeGreaterThanOrEqual(800);
});
