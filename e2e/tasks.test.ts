/**
 * The tasks page: adding a download and watching it finish; downloading a finished one from its row;
 * deleting with and without its files.
 */
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, waitFor } from './harness.js';
import {
  artifactFile,
  button,
  completeTask,
  createTask,
  listTasks,
  row,
  sameBytes,
  taskExists,
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

it('adds a URI from the tasks page and shows it Complete; the file on disk is the source', async () => {
  const { page, user } = await h.userPage('adder');
  h.files.addFile('/releases/ubuntu.iso', { size: 3 * 1024 * 1024 });
  await page.goto('/tasks');
  await page.getByText('No downloads yet.').waitFor();

  await page.getByLabel('Download URL').fill(h.files.url('/releases/ubuntu.iso'));
  await button(page, 'Add').click();
  await toast(page, 'Added ubuntu.iso').waitFor();

  const added = await listTasks(h, user);
  expect(added).toHaveLength(1);
  const id = added[0]!.id;
  const line = row(page, id);
  await line.getByText('ubuntu.iso', { exact: true }).waitFor();
  // The row follows the download to its end (live updates, no reload).
  await page.locator(`[data-task-id="${id}"][data-status="complete"]`).waitFor({ timeout: 30_000 });
  await line.getByText('Complete', { exact: true }).waitFor();
  expect(await line.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
  await line.getByText('3.00 MiB', { exact: true }).waitFor();
  // The input is cleared for the next link.
  expect(await page.getByLabel('Download URL').inputValue()).toBe('');

  const task = await waitForStatus(h, user, id, 'complete');
  expect(sameBytes(h, user, task, '/releases/ubuntu.iso')).toBe(true);
  expect(h.files.requestsFor('/releases/ubuntu.iso').some((r) => r.method === 'GET')).toBe(true);
});

it('a finished row has a Download button, at desktop and phone width, that downloads the file; a running row has none', async () => {
  const { page, user } = await h.userPage('taker');
  const done = await completeTask(h, user, '/take/finished.tar.gz', 200 * 1024);
  h.files.addFile('/take/slow.bin', { size: 32 * 1024 * 1024 }, { throttle: 64 * 1024 });
  const running = await createTask(h, user, h.files.url('/take/slow.bin'));
  await waitForStatus(h, user, running.id, 'active');

  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 844 });
    await page.goto('/tasks');
    await row(page, running.id).getByText('Downloading', { exact: true }).waitFor();
    expect(await row(page, running.id).getByRole('link', { name: 'Download' }).count()).toBe(0);
    const link = row(page, done.id).getByRole('link', { name: 'Download', exact: true });
    expect(await link.isVisible()).toBe(true);
    expect(await link.getAttribute('href')).toBe(`/api/tasks/artifacts/${done.artifact_token}`);
    const [started] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const saved = await started.path();
    expect(fs.readFileSync(saved).equals(h.files.content('/take/finished.tar.gz'))).toBe(true);
  }

  // The storage bar leads to the Files page, and deleting a task says where kept files are.
  expect(await page.getByRole('link', { name: /Storage/ }).getAttribute('href')).toBe('/files');
  await button(row(page, done.id), 'Delete').click();
  const dialog = page.getByRole('dialog', { name: 'Delete “finished.tar.gz”?' });
  await dialog
    .getByText(
      /Files you keep still count against your storage quota; find and delete them on the Files page\./,
    )
    .waitFor();
  await button(dialog, 'Cancel').click();
  await h.api(user).delete(`/api/tasks/${running.id}?delete_files=true`);
});

it('deletes a task after an in-page confirmation, with its files only when asked', async () => {
  const { page, user } = await h.userPage('deleter');
  const kept = await completeTask(h, user, '/keep.bin');
  const gone = await completeTask(h, user, '/gone.bin');
  expect(fs.existsSync(artifactFile(user, kept))).toBe(true);
  expect(fs.existsSync(artifactFile(user, gone))).toBe(true);
  await page.goto('/tasks');
  await row(page, kept.id).waitFor();
  await row(page, gone.id).waitFor();

  // Cancel leaves everything as it was.
  await button(row(page, gone.id), 'Delete').click();
  const dialog = page.getByRole('dialog', { name: 'Delete “gone.bin”?' });
  await dialog.waitFor();
  await button(dialog, 'Cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  expect(await taskExists(h, user, gone.id)).toBe(true);

  // Delete, also deleting the files: the row goes, and so does the file.
  await button(row(page, gone.id), 'Delete').click();
  await dialog.waitFor();
  const alsoFiles = dialog.getByLabel('Also delete files');
  expect(await alsoFiles.isChecked()).toBe(false);
  await alsoFiles.check();
  await button(dialog, 'Delete').click();
  await row(page, gone.id).waitFor({ state: 'detached' });
  await toast(page, 'Deleted gone.bin and its files').waitFor();
  expect(await taskExists(h, user, gone.id)).toBe(false);
  await waitFor(() => !fs.existsSync(artifactFile(user, gone)), 5000, 'the deleted file to leave the disk');

  // Delete without the box: the task goes, the file stays.
  await button(row(page, kept.id), 'Delete').click();
  const keepDialog = page.getByRole('dialog', { name: 'Delete “keep.bin”?' });
  await keepDialog.waitFor();
  expect(await keepDialog.getByLabel('Also delete files').isChecked()).toBe(false);
  await button(keepDialog, 'Delete').click();
  await row(page, kept.id).waitFor({ state: 'detached' });
  await toast(page, 'Deleted keep.bin').waitFor();
  expect(await taskExists(h, user, kept.id)).toBe(false);
  expect(fs.existsSync(artifactFile(user, kept))).toBe(true);
  await page.getByText('No downloads yet.').waitFor();
});
