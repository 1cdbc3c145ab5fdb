/** Accounts from the browser: an admin creates a user, who signs in and sees no admin pages. */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { User } from '../backend/src/contracts/users.js';
import { type Harness, startHarness } from './harness.js';
import { button, GiB, toast } from './support.js';

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

const navLinks = async (page: import('playwright-core').Page) =>
  (await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) =>
    t.trim(),
  );

it('an admin creates a user on the Users page; the user signs in and sees no Users or Settings', async () => {
  const admin = await h.newPage();
  await h.signInAdmin(admin);
  expect(await navLinks(admin)).toEqual(['Tasks', 'History', 'Files', 'Users', 'Settings', 'Profile']);
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await admin.waitForURL(/\/users/);
  await admin.getByRole('heading', { name: 'Users' }).waitFor();
  await admin.locator('tr', { hasText: 'admin' }).first().waitFor();

  await button(admin, 'New user').click();
  const dialog = admin.getByRole('dialog', { name: 'New user' });
  await dialog.waitFor();
  await dialog.getByLabel('Username').fill('carol');
  await dialog.getByLabel('Password').fill('carol-password-1');
  await dialog.getByLabel('Quota (GB)').fill('5');
  await button(dialog, 'Create user').click();
  await toast(admin, 'Created carol').waitFor();
  await dialog.waitFor({ state: 'hidden' });
  const carolRow = admin.locator('tbody tr', { hasText: 'carol' });
  await carolRow.getByText('5.00 GiB', { exact: true }).waitFor();
  await carolRow.getByText('User', { exact: true }).waitFor();

  // The server has the account as typed.
  const cookie = await h.controller.adminCookie();
  const users = await h.api({ cookie }).get<User[]>('/api/users');
  const carol = users.find((u) => u.username === 'carol');
  expect(carol).toMatchObject({ is_admin: false, quota: 5 * GiB });

  // Carol signs in through the login form, and the admin pages are neither listed nor open to her.
  const page = await h.newPage();
  await h.signIn(page, 'carol', 'carol-password-1');
  await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  await page.getByText('No downloads yet.').waitFor();
  expect(await navLinks(page)).toEqual(['Tasks', 'History', 'Files', 'Profile']);
  await page.goto('/users');
  await page.getByText('Administrators only.').waitFor();
  expect(await page.getByRole('button', { name: 'New user' }).count()).toBe(0);
});
