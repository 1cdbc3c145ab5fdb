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
  await dialog.getByLabel('Password', { exact: true }).fill('carol-password-1');
  await dialog.getByLabel('Quota', { exact: true }).fill('5');
  expect(await dialog.getByLabel('Unit of Quota').inputValue()).toBe('GiB');
  // Asked by default: carol chooses her own password at her first sign-in.
  expect(
    await dialog.getByLabel('Ask them to choose their own password at their next sign-in').isChecked(),
  ).toBe(true);
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
  expect(carol).toMatchObject({ is_admin: false, quota: 5 * GiB, must_change_password: true });

  // Carol signs in through the login form and is asked for her own password before anything else.
  const page = await h.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill('carol');
  await page.getByLabel('Password').fill('carol-password-1');
  await button(page, 'Sign in').click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  expect(await page.getByLabel('Current password').count()).toBe(0);
  await page.getByLabel('New password', { exact: true }).fill('carols-own-password');
  await page.getByLabel('Confirm new password').fill('carols-own-password');
  await button(page, 'Save and continue').click();
  await page.waitForURL(/\/tasks/);
  // The admin pages are neither listed nor open to her.
  await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  await page.getByText('No downloads yet.').waitFor();
  expect(await navLinks(page)).toEqual(['Tasks', 'History', 'Files', 'Profile']);
  await page.goto('/users');
  await page.getByText('Administrators only.').waitFor();
  expect(await page.getByRole('button', { name: 'New user' }).count()).toBe(0);
  // Her own password now opens the account, with nothing more to ask.
  await expect(h.controller.login('carol', 'carols-own-password')).resolves.toMatch(/^aria2_session=/);
});

it('a quota typed as 20.5 MiB through the unit picker is listed and edited as 20.5 MiB', async () => {
  const admin = await h.newPage();
  await h.signInAdmin(admin);
  await admin.goto('/users');
  await button(admin, 'New user').click();
  const dialog = admin.getByRole('dialog', { name: 'New user' });
  await dialog.getByLabel('Username').fill('dora');
  await dialog.getByLabel('Password', { exact: true }).fill('dora-password-1');
  await dialog.getByLabel('Quota', { exact: true }).fill('20.5');
  await dialog.getByLabel('Unit of Quota').selectOption('MiB');
  await button(dialog, 'Create user').click();
  await toast(admin, 'Created dora').waitFor();
  const doraRow = admin.locator('tbody tr', { hasText: 'dora' });
  await doraRow.getByText('20.5 MiB', { exact: true }).waitFor();
  const cookie = await h.controller.adminCookie();
  const dora = (await h.api({ cookie }).get<User[]>('/api/users')).find((u) => u.username === 'dora');
  expect(dora?.quota).toBe(20.5 * 1024 * 1024);

  // Editing shows the stored value in its own unit, not rounded into GiB.
  await button(doraRow, 'Edit').click();
  const edit = admin.getByRole('dialog', { name: 'Edit dora' });
  expect(await edit.getByLabel('Quota', { exact: true }).inputValue()).toBe('20.5');
  expect(await edit.getByLabel('Unit of Quota').inputValue()).toBe('MiB');
  // Unlimited stands for 0.
  await edit.getByLabel('Quota: unlimited').check();
  await button(edit, 'Save').click();
  await toast(admin, 'Saved dora').waitFor();
  await doraRow.getByText('Unlimited', { exact: true }).waitFor();
  expect((await h.api({ cookie }).get<User[]>('/api/users')).find((u) => u.username === 'dora')?.quota).toBe(
    0,
  );
});
