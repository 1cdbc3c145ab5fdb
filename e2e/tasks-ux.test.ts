/**
 * The Tasks and History pages without confusing moments: the outage banner with its disabled
 * actions, an add form that keeps what is typed, the view in the URL, names that clash, status tabs
 * with counts and Clear completed, and the phone's "+" button.
 */
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, waitFor } from './harness.js';
import {
  button,
  completeTask,
  createTask,
  failedTask,
  listTasks,
  row,
  type Task,
  toast,
  waitForStatus,
} from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(async () => {
  expect(await h.closePages()).toEqual([]);
});
afterAll(async () => {
  await h?.close();
});

/** A download that stays active (~4 MiB at 32 KiB/s) until the test ends. */
async function runningTask(user: Parameters<typeof createTask>[1], filePath: string): Promise<Task> {
  h.files.addFile(filePath, { size: 4 << 20 }, { throttle: 32 * 1024 });
  const task = await createTask(h, user, h.files.url(filePath));
  return waitForStatus(h, user, task.id, 'active');
}

const BANNER_ARIA2 = 'aria2 is unavailable: downloads are paused until it is back';
const BANNER_SERVER = 'Connection to the server lost. Reconnecting…';

function banner(page: Page) {
  return page.locator('.outage-banner');
}

it('while aria2 is away the list greys out, its buttons disable with the reason, speeds go, and a banner says so; all of it clears when aria2 is back', async () => {
  const { page, user } = await h.userPage('outage-aria2');
  const t = await runningTask(user, '/outage/aria2.bin');
  await page.goto('/tasks');
  const r = row(page, t.id);
  const pause = button(r, 'Pause');
  await pause.waitFor();
  expect(await pause.isEnabled()).toBe(true);
  expect(await banner(page).count()).toBe(0);

  const daemon = h.controller.daemon!;
  await daemon.stop();
  try {
    await page.getByText(BANNER_ARIA2).waitFor({ timeout: 30_000 });
    expect(await pause.isDisabled()).toBe(true);
    expect(await pause.getAttribute('title')).toBe('Unavailable while aria2 is down');
    expect(await button(page, 'Clear completed').getAttribute('title')).toBe(
      'Unavailable while aria2 is down',
    );
    expect(await page.locator('.list-card').getAttribute('class')).toContain('is-offline');
    // The last speed and time left are not shown as if they were live.
    const meta = r.locator('.task-meta dd');
    expect(await meta.nth(2).textContent()).toBe('—');
    expect(await meta.nth(3).textContent()).toBe('—');
    // The banner speaks the reader's language.
    await page.getByLabel('Language').selectOption('zh');
    await page.getByText('aria2 不可用：下载已暂停，待其恢复后继续').waitFor();
    expect(await button(r, '暂停').getAttribute('title')).toBe('aria2 停止运行期间不可用');
    await page.getByLabel('语言').selectOption('en');
    await page.getByText(BANNER_ARIA2).waitFor();
    // The task's own page says so too, with its buttons disabled.
    await page.goto(`/tasks/detail?id=${t.id}`);
    await page.getByText(BANNER_ARIA2).waitFor({ timeout: 30_000 });
    expect(await button(page, 'Pause').isDisabled()).toBe(true);
    await page.goto('/tasks');
    await pause.waitFor();
  } finally {
    await daemon.start();
  }
  await banner(page).waitFor({ state: 'detached', timeout: 30_000 });
  await waitFor(async () => (await pause.isEnabled()) || null, 15_000, 'Pause to be enabled again');
  expect(await pause.getAttribute('title')).toBeNull();
  expect(await page.locator('.list-card').getAttribute('class')).not.toContain('is-offline');
});

it('while the server is away a banner says the connection is lost and the buttons disable; it clears when the server is back', async () => {
  const { page, user } = await h.userPage('outage-server');
  const done = await completeTask(h, user, '/outage/server-done.bin');
  await page.goto('/history');
  const del = button(row(page, done.id), 'Delete');
  await del.waitFor();
  expect(await del.isEnabled()).toBe(true);

  // The controller stops listening and drops every connection (its sockets included), then comes
  // back on the same port.
  const server = h.controller.app.server;
  const port = (server.address() as AddressInfo).port;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  for (const ws of h.controller.app.websocketServer.clients) ws.terminate();
  await closed;
  try {
    await page.getByText(BANNER_SERVER).waitFor({ timeout: 30_000 });
    expect(await del.isDisabled()).toBe(true);
    expect(await del.getAttribute('title')).toBe('Unavailable while the connection to the server is lost');
    expect(await button(page, 'Clear history').isDisabled()).toBe(true);
  } finally {
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  }
  await banner(page).waitFor({ state: 'detached', timeout: 45_000 });
  await waitFor(async () => (await del.isEnabled()) || null, 15_000, 'Delete to be enabled again');

  // What the browser logged about the refused connections of the outage is what the test did (a
  // response cut mid-way, such as a script the page was still loading, included).
  const problems = await h.closePages();
  expect(
    problems.filter(
      (p) =>
        !/WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_CONTENT_LENGTH_MISMATCH/.test(
          p,
        ),
    ),
  ).toEqual([]);
});

it('a link typed while the previous add runs stays in the field when that add finishes', async () => {
  const { page } = await h.userPage('keeps-typing');
  // The size check's HEAD hangs: the add takes the check's whole timeout.
  h.files.addFile('/keep/slow-head.bin', { size: 1000 }, { hang: true });
  h.files.addFile('/keep/next.bin', { size: 1000 });
  await page.goto('/tasks');
  const field = page.getByLabel('Download URL');
  await field.fill(h.files.url('/keep/slow-head.bin'));
  const answer = page.waitForResponse(
    (r) => r.url().endsWith('/api/tasks') && r.request().method() === 'POST',
  );
  await button(page, 'Add').click();
  await page.locator('button[aria-busy="true"]', { hasText: 'Add' }).waitFor();
  const next = h.files.url('/keep/next.bin');
  await field.fill(next);
  expect((await answer).status()).toBe(201);
  await toast(page, 'Added slow-head.bin').waitFor();
  expect(await field.inputValue()).toBe(next);
  // The link that was sent alone goes when its add succeeds.
  await button(page, 'Add').click();
  await toast(page, 'Added next.bin').waitFor();
  await waitFor(async () => (await field.inputValue()) === '' || null, 5000, 'the field to be empty');
});

it('the filter, sort and search are in the URL: a reload keeps them, Back returns to the previous ones (Tasks and History)', async () => {
  const { page, user } = await h.userPage('url-keeper');
  const failedB = await failedTask(h, user, '/url/b-failed.bin');
  const failedA = await failedTask(h, user, '/url/a-failed.bin');
  const done = await completeTask(h, user, '/url/done.bin');
  await page.goto('/tasks');
  await row(page, done.id).waitFor();

  await page.getByLabel('Show').selectOption('error');
  await page.waitForURL(/\/tasks\?status=error$/);
  await row(page, done.id).waitFor({ state: 'detached' });
  await page.getByLabel('Sort by').selectOption('name');
  await page.waitForURL(/\/tasks\?status=error&sort=name$/);

  await page.reload();
  await row(page, failedA.id).waitFor();
  expect(await page.getByLabel('Show').inputValue()).toBe('error');
  expect(await page.getByLabel('Sort by').inputValue()).toBe('name');
  expect(await button(page.locator('.status-tabs'), 'Failed 2').getAttribute('aria-pressed')).toBe('true');
  expect(await row(page, done.id).count()).toBe(0);
  // Sorted by name, newest-first order of the default would put b first.
  const ids = async () =>
    page
      .locator('[data-task-id]')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-task-id'))));
  await waitFor(
    async () => {
      const shown = await ids();
      return shown.join() === [failedB.id, failedA.id].join() || null;
    },
    10_000,
    'the failed rows sorted by name, descending',
  );

  await page.goBack();
  await page.waitForURL(/\/tasks\?status=error$/);
  await waitFor(
    async () => (await page.getByLabel('Sort by').inputValue()) === 'created_at' || null,
    10_000,
    'the sort to be Added again',
  );
  expect(await page.getByLabel('Show').inputValue()).toBe('error');
  await page.goBack();
  await page.waitForURL(/\/tasks$/);
  await row(page, done.id).waitFor();
  expect(await page.getByLabel('Show').inputValue()).toBe('all');

  // A search is kept too (without a history entry per key).
  await page.getByLabel('Search').fill('a-failed');
  await page.waitForURL(/\/tasks\?q=a-failed$/);
  await page.reload();
  await row(page, failedA.id).waitFor();
  expect(await page.getByLabel('Search').inputValue()).toBe('a-failed');
  expect(await row(page, failedB.id).count()).toBe(0);

  await page.goto('/history');
  await row(page, done.id).waitFor();
  await page.getByLabel('Show').selectOption('error');
  await page.waitForURL(/\/history\?status=error$/);
  await page.reload();
  await row(page, failedA.id).waitFor();
  expect(await page.getByLabel('Show').inputValue()).toBe('error');
  expect(await row(page, done.id).count()).toBe(0);
  await page.goBack();
  await page.waitForURL(/\/history$/);
  await row(page, done.id).waitFor();
  expect(await page.getByLabel('Show').inputValue()).toBe('all');
});

it('two downloads of one name show the names they were saved as; a name of its own shows none', async () => {
  const { page, user } = await h.userPage('same-names');
  const first = await completeTask(h, user, '/names/one/report.bin');
  const second = await completeTask(h, user, '/names/two/report.bin');
  const other = await completeTask(h, user, '/names/other.bin');
  expect(first.artifact_path).toBe('report.bin');
  expect(second.artifact_path).toBe('report_1.bin');
  await page.goto('/tasks');
  await row(page, first.id).getByText('Saved as report.bin', { exact: true }).waitFor();
  await row(page, second.id).getByText('Saved as report_1.bin', { exact: true }).waitFor();
  await row(page, other.id).waitFor();
  expect(await row(page, other.id).locator('.task-clash').count()).toBe(0);
});

it('status tabs count the tasks of each status; Clear completed asks first, clears only the finished ones in one request and says how many went', async () => {
  const { page, user } = await h.userPage('tab-counter');
  const failed = await failedTask(h, user, '/tabs/failed.bin');
  const a = await completeTask(h, user, '/tabs/a.bin');
  const b = await completeTask(h, user, '/tabs/b.bin');
  await page.goto('/tasks');
  const tabs = page.locator('.status-tabs');
  await button(tabs, 'All 3').waitFor();
  await button(tabs, 'Done 2').waitFor();
  await button(tabs, 'Failed 1').waitFor();
  await button(tabs, 'Downloading 0').waitFor();

  await button(tabs, 'Failed 1').click();
  await page.waitForURL(/status=error/);
  await row(page, a.id).waitFor({ state: 'detached' });
  await row(page, failed.id).waitFor();
  await button(tabs, 'All 3').click();
  await row(page, a.id).waitFor();

  await button(page.locator('.page-head'), 'Clear completed').click();
  const dialog = page.getByRole('dialog', { name: 'Clear the completed downloads?' });
  await dialog.getByText('2 completed downloads leave the list.', { exact: false }).waitFor();
  await button(dialog, 'Clear completed').click();
  await toast(page, 'Cleared 2 completed downloads').waitFor();
  await row(page, a.id).waitFor({ state: 'detached' });
  await row(page, b.id).waitFor({ state: 'detached' });
  await row(page, failed.id).waitFor();
  await button(tabs, 'Done 0').waitFor();
  expect((await listTasks(h, user)).map((t) => t.id)).toEqual([failed.id]);
  expect(
    h
      .watch(page)
      .requests('DELETE', /^\/api\/tasks\?/)
      .map((r) => new URL(r.url()).search),
  ).toEqual(['?delete_files=false&status=complete']);
  expect(await button(page.locator('.page-head'), 'Clear completed').isDisabled()).toBe(true);
});

it('on a phone the add form waits behind a button and the list starts on the first screen; on a desktop the form is shown', async () => {
  const phone = await h.userPage('phone-adder', { width: 390, height: 844 });
  const t = await completeTask(h, phone.user, '/phone/first.bin');
  await phone.page.goto('/tasks');
  const first = row(phone.page, t.id);
  await first.waitFor();
  const field = phone.page.getByLabel('Download URL');
  expect(await field.isVisible()).toBe(false);
  const box = await first.boundingBox();
  expect(box).not.toBeNull();
  // The list starts on the first screen: at least the first row's name line is on it.
  expect(box!.y + 48).toBeLessThanOrEqual(844);
  const toggle = phone.page.getByRole('button', { name: 'Add downloads', exact: true });
  expect(await toggle.getAttribute('aria-expanded')).toBe('false');
  await toggle.click();
  await field.waitFor();
  await field.fill('http://127.0.0.1:9/typed.bin');
  await phone.page.getByRole('button', { name: 'Hide the add form', exact: true }).click();
  await field.waitFor({ state: 'hidden' });
  await phone.page.getByRole('button', { name: 'Add downloads', exact: true }).click();
  // What was typed is still there.
  expect(await field.inputValue()).toBe('http://127.0.0.1:9/typed.bin');

  const desk = await h.userPage('desk-adder');
  await desk.page.goto('/tasks');
  await desk.page.getByLabel('Download URL').waitFor();
  expect(await desk.page.getByRole('button', { name: 'Add downloads', exact: true }).count()).toBe(0);
});
