/**
 * Languages: English by default (this Chromium reads en-US), Chinese chosen in the header, kept
 * across a reload, the Tasks page in Chinese and a server error shown in Chinese.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import { button } from './support.js';

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

it('switches to Chinese in the header, keeps it after a reload, and shows the Tasks page and a server error in Chinese', async () => {
  const { page } = await h.userPage('lingo');
  await page.goto('/tasks');
  await page.getByText('No downloads yet.').waitFor();
  expect(await page.locator('html').getAttribute('lang')).toBe('en');

  await page.getByLabel('Language').selectOption('zh');
  await page.getByRole('heading', { name: '任务', exact: true }).waitFor();
  await page.getByText('还没有下载。').waitFor();
  expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
  expect(await page.title()).toBe('任务 · aria2 控制台');

  await page.reload();
  await page.getByText('还没有下载。').waitFor();
  expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
  await page.getByRole('link', { name: '历史', exact: true }).waitFor();
  expect(await page.getByText('No downloads yet.').count()).toBe(0);
  expect(await page.getByLabel('语言').inputValue()).toBe('zh');

  // The server answers in English; the reader sees its known sentence in Chinese.
  h.watch(page).expectFailure({ method: 'POST', path: /^\/api\/tasks$/, status: 422 });
  await page.getByLabel('下载链接').fill('gopher://127.0.0.1/file.bin');
  await button(page, '添加').click();
  const error = page.locator('[data-sonner-toast] [data-title]', {
    hasText: '无法添加下载：链接无效：协议必须是',
  });
  await error.waitFor();
  expect(await error.textContent()).not.toMatch(/Invalid uri/);

  // Back to English: every word returns.
  await page.getByLabel('语言').selectOption('en');
  await page.getByText('No downloads yet.').waitFor();
  expect(await page.locator('html').getAttribute('lang')).toBe('en');
});
