/**
 * The Files page: the user's folder (list, new folder, rename and move, download a file or a zip of a
 * selection, delete with the space it frees), shared links (create, copy, revoke), running downloads
 * under "In progress", and each user's used space on the admin's Users page.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Download, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser, waitFor } from './harness.js';
import { button, completeTask, createTask, row, type Task, toast, waitForStatus } from './support.js';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Entry {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
  task_id: number | null;
}
interface Share {
  id: number;
  path: string;
  url: string;
  expires_at: string | null;
  has_password: boolean;
  max_downloads: number | null;
  downloads: number;
}

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

/** The row of a file or folder, by its path. */
function entryRow(page: Page, p: string): Locator {
  return page.locator(`[data-path="${p}"]`);
}

async function listed(user: TestUser, dir = ''): Promise<Entry[]> {
  return (await h.api(user).get<{ entries: Entry[] }>(`/api/files?path=${encodeURIComponent(dir)}`)).entries;
}

async function usedSpace(user: TestUser): Promise<number> {
  return (await h.api(user).get<{ used_space: number }>('/api/stats')).used_space;
}

/** Clicks a download link and returns the bytes the browser saved. */
async function download(page: Page, link: Locator): Promise<{ bytes: Buffer; download: Download }> {
  const [done] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const saved = await done.path();
  return { bytes: fs.readFileSync(saved), download: done };
}

it('lists the folder from the storage bar: folders first, sizes; makes a folder, renames and moves into it, opens it by name and goes back by the breadcrumbs', async () => {
  const { page, user } = await h.userPage('filer');
  const small = await completeTask(h, user, '/files/notes.txt', 64 * KiB);
  const big = await completeTask(h, user, '/files/disk.img', 2 * MiB);
  await h.api(user).post('/api/files/folder', { path: 'Old' });

  await page.goto('/tasks');
  await page.getByRole('link', { name: /Storage/ }).click();
  await page.waitForURL(/\/files$/);
  await page.getByRole('heading', { name: 'Files', exact: true }).waitFor();
  const list = page.getByRole('list', { name: 'Files' });
  await entryRow(page, 'notes.txt').getByText('64.0 KiB', { exact: true }).waitFor();
  await entryRow(page, 'disk.img').getByText('2.00 MiB', { exact: true }).waitFor();
  expect(
    await list.locator('[data-path]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-path'))),
  ).toEqual(['Old', 'disk.img', 'notes.txt']);

  // A new folder, made from the page.
  await button(page, 'New folder').click();
  const create = page.getByRole('dialog', { name: 'New folder' });
  await create.getByLabel('Folder name').fill('Archive');
  await button(create, 'Create folder').click();
  await toast(page, 'Created Archive').waitFor();
  await entryRow(page, 'Archive').waitFor();
  expect(fs.statSync(path.join(user.dir, 'Archive')).isDirectory()).toBe(true);

  // Rename in place, then move into the new folder.
  await page.getByRole('button', { name: 'Rename notes.txt' }).click();
  const rename = page.getByRole('dialog', { name: 'Rename or move “notes.txt”' });
  await rename.getByLabel('Name').fill('readme.txt');
  await button(rename, 'Save').click();
  await toast(page, 'Renamed notes.txt to readme.txt').waitFor();
  await entryRow(page, 'readme.txt').waitFor();
  await page.getByRole('button', { name: 'Rename disk.img' }).click();
  const move = page.getByRole('dialog', { name: 'Rename or move “disk.img”' });
  await move.getByLabel('Folder').fill('Archive');
  await button(move, 'Save').click();
  await toast(page, 'Moved disk.img to Archive').waitFor();
  await entryRow(page, 'disk.img').waitFor({ state: 'detached' });
  expect(fs.existsSync(path.join(user.dir, 'Archive', 'disk.img'))).toBe(true);
  expect(fs.existsSync(path.join(user.dir, 'readme.txt'))).toBe(true);
  // The finished tasks follow their files.
  expect((await h.api(user).get<Task>(`/api/tasks/${big.id}`)).artifact_path).toBe('Archive/disk.img');
  expect((await h.api(user).get<Task>(`/api/tasks/${small.id}`)).artifact_path).toBe('readme.txt');

  // A folder opens from its name; the breadcrumbs lead back.
  await entryRow(page, 'Archive').getByRole('link', { name: 'Archive', exact: true }).click();
  await page.waitForURL(/\/files\?path=Archive$/);
  const crumbs = page.getByRole('navigation', { name: 'Breadcrumbs' });
  expect((await crumbs.getByRole('listitem').allTextContents()).map((t) => t.trim())).toEqual([
    'Files',
    'Archive',
  ]);
  await entryRow(page, 'Archive/disk.img').getByText('2.00 MiB', { exact: true }).waitFor();
  await crumbs.getByRole('link', { name: 'Files' }).click();
  await page.waitForURL(/\/files$/);
  await entryRow(page, 'readme.txt').waitFor();
  expect((await listed(user)).map((e) => e.path).filter((p) => p !== '.incomplete')).toEqual([
    'Archive',
    'Old',
    'readme.txt',
  ]);
});

it('downloads a file by its link, and a selection as one zip', async () => {
  const { page, user } = await h.userPage('fetcher');
  await completeTask(h, user, '/dl/one.bin', 300 * KiB);
  await completeTask(h, user, '/dl/two.bin', 100 * KiB);
  await page.goto('/files');

  const one = await download(page, page.getByRole('link', { name: 'Download one.bin' }));
  expect(one.bytes.equals(h.files.content('/dl/one.bin'))).toBe(true);
  expect(one.download.suggestedFilename()).toBe('one.bin');

  await page.getByLabel('Select one.bin').check();
  await page.getByLabel('Select two.bin').check();
  await page.getByRole('toolbar', { name: 'Selected files' }).getByText('2 selected (400 KiB)').waitFor();
  const zip = await download(page, page.getByRole('link', { name: 'Download as zip' }));
  // A zip archive (local file header), holding both files' bytes (stored or deflated: at least the names).
  expect(zip.bytes.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe(true);
  expect(zip.bytes.includes(Buffer.from('one.bin'))).toBe(true);
  expect(zip.bytes.includes(Buffer.from('two.bin'))).toBe(true);
  // One request for the whole selection.
  const archive = new URL(zip.download.url());
  expect(archive.pathname).toBe('/api/files/archive');
  expect(archive.searchParams.getAll('path').sort()).toEqual(['one.bin', 'two.bin']);
});

it('deletes after a confirmation that says how much it frees; the quota gives it back and the task loses its download', async () => {
  const { page, user } = await h.userPage('cleaner');
  const gone = await completeTask(h, user, '/del/big.bin', 3 * MiB);
  await completeTask(h, user, '/del/keep.bin', 64 * KiB);
  const before = await usedSpace(user);
  await page.goto('/files');
  await entryRow(page, 'big.bin').waitFor();

  // Cancel changes nothing.
  await page.getByRole('button', { name: 'Delete big.bin' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete “big.bin”?' });
  await dialog.getByText('This frees 3.00 MiB of your storage.').waitFor();
  await button(dialog, 'Cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  expect(fs.existsSync(path.join(user.dir, 'big.bin'))).toBe(true);

  await page.getByRole('button', { name: 'Delete big.bin' }).click();
  await button(dialog, 'Delete').click();
  await toast(page, 'Deleted big.bin, freed 3.00 MiB').waitFor();
  await entryRow(page, 'big.bin').waitFor({ state: 'detached' });
  await entryRow(page, 'keep.bin').waitFor();
  expect(fs.existsSync(path.join(user.dir, 'big.bin'))).toBe(false);
  expect(await usedSpace(user)).toBe(before - 3 * MiB);
  const task = await h.api(user).get<Task>(`/api/tasks/${gone.id}`);
  expect(task).toMatchObject({ status: 'complete', artifact_path: null, artifact_token: null });

  // Its row on the Tasks page stays, without a Download.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await row(page, gone.id).getByText('Complete', { exact: true }).waitFor();
  expect(await row(page, gone.id).getByRole('link', { name: 'Download' }).count()).toBe(0);
});

it('shares a file with an expiry, a password and a download limit, copies the link, and revokes it', async () => {
  const { page, user } = await h.userPage('sharer');
  await completeTask(h, user, '/share/report.pdf', 128 * KiB);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.origin });
  await page.goto('/files');
  await page.getByText('No shared links.', { exact: false }).waitFor();

  await page.getByRole('button', { name: 'Share report.pdf' }).click();
  const dialog = page.getByRole('dialog', { name: 'Share “report.pdf”' });
  await dialog.getByLabel('Expires').selectOption('1d');
  await dialog.getByLabel('Password').fill('open-sesame-1');
  await dialog.getByLabel('Maximum downloads').fill('2');
  const asked = Date.now();
  await button(dialog, 'Create link').click();
  await toast(page, 'Link created').waitFor();
  const link = await dialog.getByLabel('Link').inputValue();
  expect(link).toMatch(new RegExp(`^${h.origin}/s/[A-Za-z0-9_-]{22,}$`));

  const [share] = await h.api(user).get<Share[]>('/api/shares');
  expect(share).toMatchObject({ path: 'report.pdf', has_password: true, max_downloads: 2, downloads: 0 });
  expect(`${h.origin}${share!.url}`).toBe(link);
  const expires = Date.parse(share!.expires_at!);
  expect(Math.abs(expires - (asked + 86_400_000))).toBeLessThan(10 * 60_000);

  await button(dialog, 'Copy link').click();
  await toast(page, 'Link copied').waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
  await button(dialog, 'Done').click();
  await dialog.waitFor({ state: 'hidden' });

  const listedShare = page.locator(`[data-share-id="${share!.id}"]`);
  await listedShare.getByText('0 of 2', { exact: true }).waitFor();
  await listedShare.getByText('Yes', { exact: true }).waitFor();

  await listedShare.getByRole('button', { name: 'Revoke the link to report.pdf' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke this link?' });
  await button(confirm, 'Revoke').click();
  await toast(page, 'Revoked the link to report.pdf').waitFor();
  await listedShare.waitFor({ state: 'detached' });
  expect(await h.api(user).get<Share[]>('/api/shares')).toEqual([]);
  const res = await h.controller.app.inject({ method: 'GET', url: share!.url });
  expect(res.statusCode).toBe(410);
  expect(JSON.parse(res.body)).toEqual({ detail: 'This link has expired' });
  // The file itself stays.
  expect(fs.existsSync(path.join(user.dir, 'report.pdf'))).toBe(true);
});

it('shows a running download under In progress, linked to its task, with nothing to rename or delete', async () => {
  const { page, user } = await h.userPage('waiter', { width: 390, height: 844 });
  h.files.addFile('/slow/movie.mkv', { size: 64 * MiB }, { throttle: 64 * KiB });
  const task = await createTask(h, user, h.files.url('/slow/movie.mkv'));
  await waitForStatus(h, user, task.id, 'active');
  const running = await waitFor(
    async () => (await listed(user, '.incomplete')).find((e) => e.task_id === task.id) ?? null,
    15_000,
    'the running download to show in .incomplete',
  );
  await page.goto('/files');
  const section = page.getByRole('region', { name: 'In progress' });
  const line = section.locator(`[data-path="${running.path}"]`);
  await line.getByRole('link', { name: 'see the task' }).waitFor();
  expect(await line.getByRole('button').count()).toBe(0);
  expect(await line.getByRole('checkbox').count()).toBe(0);
  // `.incomplete` is not a folder row of the list.
  expect(await page.getByRole('list', { name: 'Files' }).locator('[data-path=".incomplete"]').count()).toBe(
    0,
  );
  await line.getByRole('link', { name: 'see the task' }).click();
  await page.waitForURL(new RegExp(`/tasks/detail\\?id=${task.id}$`));
  await h.api(user).delete(`/api/tasks/${task.id}?delete_files=true`);
});

it('shows the admin each user’s used space on the Users page', async () => {
  const user = await h.createUser('hoarder', { quota: 8 * MiB });
  await completeTask(h, user, '/hoard/a.bin', 2 * MiB);
  const admin = await h.newPage();
  await h.signInAdmin(admin);
  await admin.goto('/users');
  const line = admin.locator('tbody tr', { hasText: 'hoarder' });
  await line.getByText('2.00 MiB (25%)', { exact: true }).waitFor();
});
