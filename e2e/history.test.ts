/** The history page (the spec's UI flow 2): Retry on a failed row. */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import {
  button,
  completeTask,
  failedTask,
  listTasks,
  row,
  serve,
  type Task,
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

it('Retry on a failed history row removes the row and says the retry started; the new task is on the Tasks page', async () => {
  const { page, user } = await h.userPage('historian');
  const done = await completeTask(h, user, '/history/done.bin');
  const failed = await failedTask(h, user, '/history/broken.bin');
  await page.goto('/tasks');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
  await page.waitForURL(/\/history/);
  await page.getByRole('heading', { name: 'History' }).waitFor();
  const old = row(page, failed.id);
  await old.getByText('Failed', { exact: true }).waitFor();
  await row(page, done.id).getByText('Complete', { exact: true }).waitFor();
  // Only failed (and stopped) rows offer Retry.
  expect(await button(row(page, done.id), 'Retry').count()).toBe(0);

  serve(h, '/history/broken.bin');
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/tasks/${failed.id}/retry`));
  await button(old, 'Retry').click();
  const created = (await (await answer).json()) as Task;
  await toast(page, 'Task retry initiated. Check the Tasks page for progress.').waitFor();
  await old.waitFor({ state: 'detached' });
  await row(page, done.id).waitFor();
  expect(await taskExists(h, user, failed.id)).toBe(false);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
  await page.waitForURL(/\/tasks/);
  await row(page, created.id).getByText('broken.bin', { exact: true }).waitFor();
  expect(await row(page, failed.id).count()).toBe(0);
  await waitForStatus(h, user, created.id, 'complete');
  expect((await listTasks(h, user)).map((t) => t.id).sort()).toEqual([done.id, created.id].sort());
});
