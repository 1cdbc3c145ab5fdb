import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

it('signs in and lands on the tasks page; a wrong password stays on the login page', async () => {
  const page = await h.newPage();
  await page.goto(`${h.origin}/login`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.url()).toContain('/login');
  await h.signInAdmin(page);
  expect(page.url()).toContain('/tasks');
});

it('sends a visitor without a session to the login page and back after signing in', async () => {
  const page = await h.newPage();
  await page.goto(`${h.origin}/history`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill('admin-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/history/);
});
