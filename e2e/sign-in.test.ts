import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

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

it('signs in and lands on the tasks page; a wrong password stays on the login page', async () => {
  const page = await h.newPage();
  h.watch(page).expectFailure({ method: 'POST', path: /^\/api\/auth\/login$/, status: 401 });
  await page.goto(`${h.origin}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText('Wrong username or password.').waitFor();
  expect(page.url()).toContain('/login');
  await h.signInAdmin(page);
  expect(page.url()).toContain('/tasks');
});

it('sends a visitor without a session to the login page and back after signing in', async () => {
  const page = await h.newPage();
  // Without a session the page's first API calls are refused: that is what sends it to the login page.
  h.watch(page).expectFailure({ method: 'GET', path: /^\/api\//, status: 401 });
  await page.goto(`${h.origin}/history`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('admin-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/history/);
});
