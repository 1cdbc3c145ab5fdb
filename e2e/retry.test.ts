/**
 * Retry on the tasks page (the spec's UI flows 1 and 3): one task, a batch, the torrent message, a
 * refused retry, and a double click.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, makeTorrent, patternBytes, startHarness } from './harness.js';
import {
  button,
  completeTask,
  failedTask,
  GiB,
  idAt,
  listTasks,
  row,
  SMALL_QUOTA,
  sameBytes,
  serve,
  type Task,
  taskExists,
  toast,
  waitForStatus,
} from './support.js';

/** Both retry endpoints: one task, and the batch. */
const RETRY_PATH = /^\/api\/tasks\/(\d+\/)?retry$/;
const BATCH_PATH = /^\/api\/tasks\/retry$/;

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

it('Retry on a failed task replaces its row by the new task at the top, which completes', async () => {
  const { page, user } = await h.userPage('single');
  const failed = await failedTask(h, user, '/single/flaky.bin', 256 * 1024);
  const newer = await completeTask(h, user, '/single/newer.bin');
  await page.goto('/tasks');
  const old = row(page, failed.id);
  await old.getByText('Failed', { exact: true }).waitFor();
  // The failed task is not the first row: the new one must go to the top, not take its place.
  expect(await idAt(page, 0)).toBe(newer.id);
  expect(await idAt(page, 1)).toBe(failed.id);

  serve(h, '/single/flaky.bin', 256 * 1024);
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${failed.id}/retry`));
  await button(old, 'Retry').click();
  const created = (await (await answer).json()) as Task;
  expect(created.id).not.toBe(failed.id);

  await old.waitFor({ state: 'detached' });
  const fresh = row(page, created.id);
  await fresh.waitFor();
  expect(await idAt(page, 0)).toBe(created.id);
  expect(await idAt(page, 1)).toBe(newer.id);
  expect(await page.locator('[data-task-id]').count()).toBe(2);
  await page.locator(`[data-task-id="${created.id}"][data-status="complete"]`).waitFor({ timeout: 30_000 });
  await fresh.getByText('Complete', { exact: true }).waitFor();

  expect(await taskExists(h, user, failed.id)).toBe(false);
  const done = await waitForStatus(h, user, created.id, 'complete');
  expect(done.uri).toBe(failed.uri);
  expect(sameBytes(h, user, done, '/single/flaky.bin')).toBe(true);
  expect(h.watch(page).requests('POST', RETRY_PATH)).toHaveLength(1);
});

it('keeps the Retry button disabled while its request runs: a double click sends one request', async () => {
  const { page, user } = await h.userPage('double');
  const failed = await failedTask(h, user, '/double/file.bin');
  await page.goto('/tasks');
  const old = row(page, failed.id);
  await old.getByText('Failed', { exact: true }).waitFor();
  serve(h, '/double/file.bin');

  // Hold the retry request until the button has been seen disabled.
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(`**/api/tasks/${failed.id}/retry`, async (route) => {
    await held;
    await route.continue();
  });
  const retry = button(old, 'Retry');
  const sent = page.waitForRequest((r) => r.url().endsWith(`/api/tasks/${failed.id}/retry`));
  await retry.dblclick();
  await sent;
  await expect.poll(() => retry.isDisabled()).toBe(true);
  expect(await retry.getAttribute('aria-busy')).toBe('true');
  // The row's other action waits too.
  expect(await button(old, 'Delete').isDisabled()).toBe(true);
  expect(h.watch(page).requests('POST', RETRY_PATH)).toHaveLength(1);

  release();
  await old.waitFor({ state: 'detached' });
  const tasks = await listTasks(h, user);
  expect(tasks).toHaveLength(1);
  await row(page, tasks[0]!.id).waitFor();
  expect(h.watch(page).requests('POST', RETRY_PATH)).toHaveLength(1);
});

it('shows "Retry failed: <detail>" when the server refuses, and keeps the failed task', async () => {
  const { page, user } = await h.userPage('refused', { quota: SMALL_QUOTA });
  const failed = await failedTask(h, user, '/refused/huge.iso');
  h.watch(page).expectFailure({
    method: 'POST',
    path: new RegExp(`^/api/tasks/${failed.id}/retry$`),
    status: 403,
  });
  await page.goto('/tasks');
  const old = row(page, failed.id);
  await old.getByText('Failed', { exact: true }).waitFor();

  // The source is back, but now larger than the user's quota: the HEAD check refuses the retry.
  serve(h, '/refused/huge.iso', 2 * GiB);
  await button(old, 'Retry').click();
  // The server's GB (1024³ bytes) reads GiB, with the same numbers.
  await toast(page, 'Retry failed: File size 2.00 GiB exceeds your available space 1.00 GiB').waitFor();

  // The button is usable again, and the old task is untouched.
  await expect.poll(() => button(old, 'Retry').isEnabled()).toBe(true);
  await old.getByText('Failed', { exact: true }).waitFor();
  expect(await page.locator('[data-task-id]').count()).toBe(1);
  expect((await waitForStatus(h, user, failed.id, 'error')).id).toBe(failed.id);
  expect(await listTasks(h, user)).toHaveLength(1);
  // Nothing was downloaded from the source since it came back.
  expect(
    h.files.requestsFor('/refused/huge.iso').filter((r) => r.method === 'GET' && r.status !== 404),
  ).toEqual([]);
});

it('Retry selected sends one request and replaces every selected failed task', async () => {
  const { page, user } = await h.userPage('batch');
  const paths = ['/batch/a.bin', '/batch/b.bin', '/batch/c.bin'];
  const selected: Task[] = [];
  for (const p of paths) selected.push(await failedTask(h, user, p));
  const unselected = await failedTask(h, user, '/batch/left-alone.bin');
  await page.goto('/tasks');
  for (const t of [...selected, unselected])
    await row(page, t.id).getByText('Failed', { exact: true }).waitFor();

  for (const p of paths) serve(h, p);
  serve(h, '/batch/left-alone.bin');
  for (const t of selected) await row(page, t.id).getByRole('checkbox').check();
  await page.getByText('4 tasks, 3 selected').waitFor();
  const answer = page.waitForResponse((r) => BATCH_PATH.test(new URL(r.url()).pathname));
  await button(page, 'Retry selected').click();
  const { results } = (await (await answer).json()) as {
    results: { id: number; ok: boolean; task?: Task }[];
  };

  await toast(page, 'Successfully retried 3 tasks').waitFor();
  const requests = h.watch(page).requests('POST', RETRY_PATH);
  expect(requests).toHaveLength(1);
  expect(new URL(requests[0]!.url()).pathname).toBe('/api/tasks/retry');
  expect((requests[0]!.postDataJSON() as { ids: number[] }).ids.sort()).toEqual(
    selected.map((t) => t.id).sort(),
  );

  for (const t of selected) await row(page, t.id).waitFor({ state: 'detached' });
  const created = results.map((r) => r.task!.id);
  expect(created).toHaveLength(3);
  // The new tasks are the first rows; the task that was not selected is still there, still failed.
  expect(new Set([await idAt(page, 0), await idAt(page, 1), await idAt(page, 2)])).toEqual(new Set(created));
  expect(await idAt(page, 3)).toBe(unselected.id);
  await row(page, unselected.id).getByText('Failed', { exact: true }).waitFor();
  expect(await page.locator('[data-task-id]').count()).toBe(4);
  for (const id of created) await waitForStatus(h, user, id, 'complete');
  for (const t of selected) expect(await taskExists(h, user, t.id)).toBe(false);
});

it('Retry selected with one refusal says "Retry complete: 1 succeeded, 1 failed"', async () => {
  const { page, user } = await h.userPage('mixed', { quota: SMALL_QUOTA });
  const fine = await failedTask(h, user, '/mixed/fine.bin');
  const huge = await failedTask(h, user, '/mixed/huge.iso');
  await page.goto('/tasks');
  await row(page, fine.id).getByText('Failed', { exact: true }).waitFor();
  await row(page, huge.id).getByText('Failed', { exact: true }).waitFor();

  serve(h, '/mixed/fine.bin');
  serve(h, '/mixed/huge.iso', 2 * GiB);
  await page.getByLabel('Select all').check();
  await page.getByText('2 tasks, 2 selected').waitFor();
  await button(page, 'Retry selected').click();
  await toast(page, 'Retry complete: 1 succeeded, 1 failed').waitFor();

  expect(h.watch(page).requests('POST', RETRY_PATH)).toHaveLength(1);
  await row(page, fine.id).waitFor({ state: 'detached' });
  await row(page, huge.id).getByText('Failed', { exact: true }).waitFor();
  const tasks = await listTasks(h, user);
  expect(tasks.map((t) => t.id)).toContain(huge.id);
  expect(tasks.map((t) => t.id)).not.toContain(fine.id);
  expect(tasks).toHaveLength(2);
  expect(await idAt(page, 0)).toBe(tasks.find((t) => t.id !== huge.id)!.id);
});

it('a torrent task is never retried by a plain retry: the sentence and the re-upload, alone or in a batch', async () => {
  const { page, user } = await h.userPage('torrents');
  await page.goto('/tasks');
  await page.getByText('No downloads yet.').waitFor();
  // No web seed, no peers: it never downloads, so it can be stopped.
  const t = makeTorrent({ name: 'movie.mkv', content: patternBytes(0, 40_000) });
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: 'movie.torrent', mimeType: 'application/x-bittorrent', buffer: t.torrent });
  await toast(page, 'Added movie.mkv').waitFor();
  const [task] = await listTasks(h, user);
  expect(task?.uri).toBe('[torrent]');
  await row(page, task!.id).getByText('Uploaded .torrent file').waitFor();
  await h.api(user).put(`/api/tasks/${task!.id}/status`, { status: 'stop' });
  const stopped = page.locator(`[data-task-id="${task!.id}"][data-status="removed"]`);
  await stopped.waitFor();

  // A stopped task offers to start again; for a torrent that is the re-upload of its stored file.
  await button(stopped, 'Start again').click();
  const dialog = page.getByRole('dialog', { name: 'Retry a torrent' });
  await dialog.getByText('Torrent tasks cannot be retried. Please re-upload the torrent file.').waitFor();
  await button(dialog, 'Re-upload the stored .torrent').waitFor();
  await button(dialog, 'Cancel').click();
  await dialog.waitFor({ state: 'hidden' });

  await stopped.getByRole('checkbox').check();
  await button(page, 'Retry selected').click();
  await toast(page, 'No retryable tasks (torrent tasks need to be re-uploaded)').waitFor();

  expect(h.watch(page).requests('POST', RETRY_PATH)).toHaveLength(0);
  await stopped.waitFor();
  expect((await listTasks(h, user)).map((x) => x.id)).toEqual([task!.id]);
});
