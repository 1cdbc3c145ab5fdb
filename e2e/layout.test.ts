/**
 * The layout at phone (390×844) and desktop width: the task list on the first screen with compact
 * rows, the add form behind its button, the menu, users as cards, toasts clear of the first row's
 * buttons; the theme switch (remembered, applied before the page's scripts run); the `?` sheet.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from './harness.js';
import { button, completeTask, createTask, failedTask, row, type Task, waitForStatus } from './support.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };
const LIGHT_BG = 'rgb(244, 246, 249)';
const DARK_BG = 'rgb(15, 18, 22)';

let h: Harness;
let user: TestUser;
let tasks: Task[];

beforeAll(async () => {
  h = await startHarness();
  user = await h.createUser('lena');
  const done = await completeTask(h, user, '/layout/report-2024.pdf', 96 * 1024);
  const failed = await failedTask(h, user, '/layout/missing-archive.tar.gz');
  h.files.addFile('/layout/slow-image.iso', { size: 64 * 1024 * 1024 }, { throttle: 64 * 1024 });
  const running = await createTask(h, user, h.files.url('/layout/slow-image.iso'));
  await waitForStatus(h, user, running.id, 'active');
  // Newest first.
  tasks = [running, failed, done];
});
afterEach(async () => {
  expect(await h.closePages()).toEqual([]);
});
afterAll(async () => {
  await h?.close();
});

async function signedIn(size: { width: number; height: number }, who: TestUser = user): Promise<Page> {
  const page = await h.newPage(size);
  const [name, ...value] = who.cookie.split('=');
  await page
    .context()
    .addCookies([{ name: name!, value: value.join('='), url: h.origin, httpOnly: true, sameSite: 'Lax' }]);
  return page;
}

async function openTasks(page: Page): Promise<void> {
  await page.goto('/tasks');
  for (const t of tasks) await row(page, t.id).waitFor();
  await row(page, tasks[0]!.id).and(page.locator('[data-status="active"]')).waitFor();
}

const overlaps = (
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function box(locator: Locator) {
  const b = await locator.boundingBox();
  if (!b) throw new Error('not on screen');
  return b;
}

it('on a phone the first task row is on the first screen, rows are compact and nothing scrolls sideways', async () => {
  const page = await signedIn(PHONE);
  await openTasks(page);
  const first = await box(row(page, tasks[0]!.id));
  expect(first.y + first.height).toBeLessThanOrEqual(PHONE.height);
  for (const t of tasks) {
    const r = row(page, t.id);
    const b = await box(r);
    expect(b.height, `row of task ${t.id}`).toBeGreaterThanOrEqual(56);
    expect(b.height, `row of task ${t.id}`).toBeLessThanOrEqual(90);
    // Its buttons are on the phone's screen, named (an icon with its name for screen readers).
    for (const action of await r.locator('.task-actions > *').all()) {
      const a = await box(action);
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(PHONE.width);
    }
  }
  await button(row(page, tasks[0]!.id), 'Pause').waitFor();
  await button(row(page, tasks[1]!.id), 'Retry').waitFor();
  await row(page, tasks[2]!.id).getByRole('link', { name: 'Download', exact: true }).waitFor();
  // A failed row tells why on its one line.
  expect(await row(page, tasks[1]!.id).locator('.task-error').isVisible()).toBe(true);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);

  // The add form waits behind its button.
  const url = page.getByLabel('Download URL');
  expect(await url.isVisible()).toBe(false);
  await button(page, 'Add downloads').click();
  await url.waitFor();
  await button(page, 'Hide the add form').click();
  await url.waitFor({ state: 'hidden' });

  // The pages are behind the menu, which closes once one is chosen.
  const history = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' });
  expect(await history.isVisible()).toBe(false);
  await button(page, 'Menu').click();
  await history.click();
  await page.waitForURL(/\/history$/);
  await page.getByRole('heading', { level: 1, name: 'History' }).waitFor();
  expect(await history.isVisible()).toBe(false);
});

it('on a desktop the add form and the navigation show as before, with no menu button', async () => {
  const page = await signedIn(DESKTOP);
  await openTasks(page);
  await page.getByLabel('Download URL').waitFor();
  expect(await button(page, 'Add downloads').isVisible()).toBe(false);
  expect(await button(page, 'Menu').isVisible()).toBe(false);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).waitFor();
  // The row keeps its columns.
  expect(await row(page, tasks[0]!.id).getByText('Pause', { exact: true }).isVisible()).toBe(true);
});

let toasted: TestUser | null = null;
/** A user whose list fills the screen with finished rows (nothing failed: Retry all failed only says so). */
async function toastedUser(): Promise<{ user: TestUser; done: Task[] }> {
  const first = !toasted;
  toasted ??= await h.createUser('toasted');
  const done: Task[] = [];
  if (first) {
    for (let i = 0; i < 8; i += 1)
      done.push(await completeTask(h, toasted, `/layout/part-${i}.zip`, 16 * 1024));
  }
  return { user: toasted, done };
}
let toastedTasks: Task[] = [];

for (const [name, size] of [
  ['phone', PHONE],
  ['desktop', DESKTOP],
] as const) {
  it(`a toast on a ${name} stays off the first row's buttons${name === 'desktop' ? ' and every row on screen' : ''}`, async () => {
    const { user: who, done } = await toastedUser();
    if (done.length) toastedTasks = done.reverse();
    const page = await signedIn(size, who);
    await page.goto('/tasks');
    const rows = toastedTasks.map((t) => row(page, t.id));
    for (const r of rows) await r.waitFor({ state: 'attached' });
    // The first row is on the first screen, so it is the one a toast could cover.
    const first = await box(rows[0]!);
    expect(first.y + first.height).toBeLessThanOrEqual(size.height);
    await button(page, 'Retry all failed').click();
    const toast = page.locator('[data-sonner-toast][data-mounted="true"]').first();
    await toast.waitFor();
    // Once it has slid in (its transitions ended: two equal boxes in a row can also be two polls
    // between the frames of a busy machine), its box stays put.
    await toast.evaluate((el) =>
      Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished.catch(() => undefined))),
    );
    let last = await box(toast);
    await expect
      .poll(async () => {
        const now = await box(toast);
        const still = now.x === last.x && now.y === last.y;
        last = now;
        return still;
      })
      .toBe(true);
    // A wide screen has room for the toast where no row is; a phone keeps it off the first row.
    const checked = name === 'desktop' ? rows : rows.slice(0, 1);
    let seen = 0;
    for (const r of checked) {
      for (const target of await r.locator('button, a, input').all()) {
        const b = await target.boundingBox();
        if (!b || !(await target.isVisible()) || b.y >= size.height) continue;
        seen += 1;
        expect(overlaps(last, b), await target.evaluate((e) => e.outerHTML.slice(0, 80))).toBe(false);
      }
    }
    expect(seen).toBeGreaterThan(1);
    // On the screen, and below the header.
    const header = await box(page.locator('header.topbar'));
    expect(last.y).toBeGreaterThanOrEqual(header.y + header.height);
    expect(last.y + last.height).toBeLessThanOrEqual(size.height);
  });
}

it('shows users as cards on a phone, with Edit and Delete on screen and no sideways scrolling', async () => {
  const admin = await h.newPage(PHONE);
  await h.signInAdmin(admin);
  const other = await h.createUser('cardholder');
  await admin.goto('/users');
  const card = admin.locator(`[data-user-id="${other.id}"]`);
  await card.waitFor();
  expect(await card.evaluate((e) => getComputedStyle(e).display)).toBe('grid');
  for (const name of ['Edit', 'Delete']) {
    const b = await box(button(card, name));
    expect(b.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width).toBeLessThanOrEqual(PHONE.width);
    expect(await button(card, name).isEnabled()).toBe(true);
  }
  // Each figure says what it is.
  await card.getByText('cardholder', { exact: true }).waitFor();
  expect(await card.locator('td[data-label="Quota"]').count()).toBe(1);
  expect(await admin.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
  await button(card, 'Edit').click();
  await admin.getByRole('dialog', { name: 'Edit cardholder' }).waitFor();
  await admin.keyboard.press('Escape');

  // A desktop keeps the table.
  await admin.setViewportSize(DESKTOP);
  expect(await card.evaluate((e) => getComputedStyle(e).display)).toBe('table-row');
});

it('remembers the chosen theme across a reload and applies it before the page’s scripts run', async () => {
  const page = await signedIn(DESKTOP);
  await openTasks(page);
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const theme = page.getByRole('combobox', { name: 'Theme' });
  expect(await theme.inputValue()).toBe('system');
  expect(await bg()).toBe(LIGHT_BG);

  await theme.selectOption('dark');
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  expect(await bg()).toBe(DARK_BG);

  await page.reload();
  await row(page, tasks[0]!.id).waitFor();
  expect(await bg()).toBe(DARK_BG);
  expect(await theme.inputValue()).toBe('dark');

  // Before any of the app's scripts has run (they are held back), the page is already dark.
  const held: (() => Promise<void>)[] = [];
  await page.route('**/_next/static/chunks/*.js', (route) => {
    held.push(() => route.continue());
  });
  await page.goto('/tasks', { waitUntil: 'domcontentloaded' });
  expect(held.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  expect(await bg()).toBe(DARK_BG);
  for (const release of held) await release();
  await page.unroute('**/_next/static/chunks/*.js');
  await row(page, tasks[0]!.id).waitFor();

  // Light wins over a dark system; "System" follows the system again.
  await page.emulateMedia({ colorScheme: 'dark' });
  await theme.selectOption('light');
  expect(await bg()).toBe(LIGHT_BG);
  await theme.selectOption('system');
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
  expect(await bg()).toBe(DARK_BG);
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await bg()).toBe(LIGHT_BG);
  await page.reload();
  await row(page, tasks[0]!.id).waitFor();
  expect(await theme.inputValue()).toBe('system');
});

it('? opens the keyboard shortcut sheet (not while typing), in English and in Chinese', async () => {
  const page = await signedIn(DESKTOP);
  await openTasks(page);
  await page.locator('body').click({ position: { x: 5, y: 400 } });
  await page.keyboard.press('?');
  const sheet = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await sheet.waitFor();
  const pause = sheet.getByRole('row').filter({ hasText: 'Pause or resume the focused task' });
  expect(await pause.locator('kbd').textContent()).toBe('P');
  await sheet
    .getByRole('row')
    .filter({ hasText: 'Retry the focused task' })
    .locator('kbd', { hasText: 'R' })
    .waitFor();
  await sheet
    .getByRole('row')
    .filter({ hasText: 'Delete the focused task' })
    .locator('kbd', { hasText: 'Delete' })
    .waitFor();
  await page.keyboard.press('Escape');
  await sheet.waitFor({ state: 'hidden' });

  // A ? typed into a field is text.
  const url = page.getByLabel('Download URL');
  await url.fill('http://127.0.0.1/a');
  await url.press('?');
  expect(await url.inputValue()).toBe('http://127.0.0.1/a?');
  expect(await sheet.isVisible()).toBe(false);

  // The header's button says so and opens it too.
  await button(page, 'Keyboard shortcuts (press ?)').click();
  await sheet.waitFor();
  await page.keyboard.press('Escape');

  await page.getByRole('combobox', { name: 'Language' }).selectOption('zh');
  await page.getByRole('heading', { level: 1, name: '任务' }).waitFor();
  await page.locator('body').click({ position: { x: 5, y: 400 } });
  await page.keyboard.press('?');
  const zh = page.getByRole('dialog', { name: '键盘快捷键' });
  await zh.waitFor();
  await zh
    .getByRole('row')
    .filter({ hasText: '暂停或继续当前聚焦的任务' })
    .locator('kbd', { hasText: 'P' })
    .waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('combobox', { name: '语言' }).selectOption('en');
});
