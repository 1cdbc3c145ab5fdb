/**
 * The first admin of a fresh install (a generated password) is asked for a new one before anything
 * else; the sign-in page sends a signed-in visitor on; settings an environment variable pins are
 * shown locked, naming the variable, in English and Chinese.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { GiB } from '../backend/src/config/index.js';
import { ADMIN_PASSWORD_FILE } from '../backend/src/services/users.js';
import { type Harness, startHarness } from './harness.js';
import { button, toast } from './support.js';

let h: Harness;
let generated: string;
const NEW_PASSWORD = 'the-admins-own-password';

beforeAll(async () => {
  // No ADMIN_PASSWORD: the first start generates one (printed once: kept off the test output).
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    h = await startHarness({ ADMIN_PASSWORD: '', MAX_TASK_SIZE: String(6 * GiB) });
  } finally {
    write.mockRestore();
  }
  const text = fs.readFileSync(path.join(h.controller.dataDir, ADMIN_PASSWORD_FILE), 'utf8');
  generated = /^password: (\S+)$/m.exec(text)![1]!;
});
afterEach(async () => {
  expect(await h.closePages()).toEqual([]);
});
afterAll(async () => {
  await h?.close();
});

it('the first admin signs in with the generated password and must choose a new one before anything else', async () => {
  const file = path.join(h.controller.dataDir, ADMIN_PASSWORD_FILE);
  const page = await h.newPage();
  // Sent to sign in on the way to History: the new password comes first, then History.
  await page.goto('/login?next=%2Fhistory');
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(generated);
  await button(page, 'Sign in').click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  expect(page.url()).toMatch(/\/login/);
  // A new password must differ and be confirmed.
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill('something-else-1');
  await button(page, 'Save and continue').click();
  await page.getByText('The new passwords do not match.').waitFor();
  expect(fs.existsSync(file)).toBe(true);

  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await button(page, 'Save and continue').click();
  await toast(page, 'Password changed. Welcome!').waitFor();
  await page.waitForURL(/\/history/);
  await page.getByRole('heading', { name: 'History' }).waitFor();
  // The file with the generated password is gone; the new password is the account's.
  expect(fs.existsSync(file)).toBe(false);
  await expect(h.controller.login('admin', NEW_PASSWORD)).resolves.toMatch(/^aria2_session=/);
  await page.reload();
  await page.getByRole('heading', { name: 'History' }).waitFor();
  expect(await page.getByRole('heading', { name: 'Choose a new password' }).count()).toBe(0);
});

it('a session whose password was chosen for it sees the new-password form on every page until it is changed', async () => {
  const cookie = await h.controller.login('admin', NEW_PASSWORD);
  const made = await h.api({ cookie }).post<{ id: number }>('/api/users', {
    username: 'erin',
    password: 'erin-first-password',
    must_change_password: true,
  });
  expect(made.id).toBeGreaterThan(0);
  const page = await h.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill('erin');
  await page.getByLabel('Password').fill('erin-first-password');
  await button(page, 'Sign in').click();
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  // Straight to another page: it asks too (with the current password, as this page did not just take it).
  await page.goto('/files');
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  expect(await page.getByRole('heading', { name: 'Files', exact: true }).count()).toBe(0);
  await page.getByLabel('Current password').fill('erin-first-password');
  await page.getByLabel('New password', { exact: true }).fill('erins-own-password');
  await page.getByLabel('Confirm new password').fill('erins-own-password');
  await button(page, 'Save and continue').click();
  await page.getByRole('heading', { name: 'Files', exact: true }).waitFor();
});

it('/login for a signed-in user goes to the Tasks page, or to its next target', async () => {
  const { page } = await h.userPage('walker');
  await page.goto('/login');
  await page.waitForURL(/\/tasks$/);
  await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  expect(await page.getByLabel('Username').count()).toBe(0);
  await page.goto('/login?next=%2Fhistory');
  await page.waitForURL(/\/history$/);
  await page.getByRole('heading', { name: 'History' }).waitFor();
  // Not an open redirect: another site's address falls back to Tasks.
  await page.goto('/login?next=%2F%2Fexample.com');
  await page.waitForURL(/\/tasks$/);
});

it('settings pinned by an environment variable are locked and name the variable, in English and Chinese', async () => {
  const { page } = await h.userPage('settings-admin', { is_admin: true });
  await page.goto('/settings');
  const size = page.getByLabel('Maximum task size', { exact: true });
  await size.waitFor();
  expect(await size.inputValue()).toBe('6');
  expect(await page.getByLabel('Unit of Maximum task size').inputValue()).toBe('GiB');
  expect(await size.getAttribute('readonly')).not.toBeNull();
  expect(await page.getByLabel('Unit of Maximum task size').isDisabled()).toBe(true);
  await page
    .getByText(
      'Set by the MAX_TASK_SIZE environment variable, which wins at every start. To change it, change the variable and restart the controller.',
    )
    .waitFor();
  // The test controller sets ALLOW_PRIVATE_NETWORK too: its box is locked, with its variable named.
  const privateNetwork = page.getByLabel('Allow downloads from private networks (loopback, LAN, link-local)');
  expect(await privateNetwork.isDisabled()).toBe(true);
  await page.getByText(/^Set by the ALLOW_PRIVATE_NETWORK environment variable/).waitFor();
  // A setting no variable pins stays editable.
  expect(await page.getByLabel('Default quota', { exact: true }).getAttribute('readonly')).toBeNull();

  await page.getByLabel('Language').selectOption('zh');
  await page
    .getByText('由环境变量 MAX_TASK_SIZE 设置，每次启动时以它为准。要更改，请修改该变量并重启控制器。')
    .waitFor();
  expect(await page.getByLabel('单个任务大小上限', { exact: true }).getAttribute('readonly')).not.toBeNull();
  await page.getByLabel('语言').selectOption('en');
});
