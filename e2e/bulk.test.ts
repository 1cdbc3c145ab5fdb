/**
 * The selection toolbar's Pause, Resume and Delete: one bulk request each for the whole selection,
 * and every selected row follows.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, type TestUser } from './harness.js';
import { button, listTasks, row, type Task, toast, waitForStatus } from './support.js';

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

/** A download that stays active for a while (about 16 s for 1 MiB). */
async function runningTask(user: TestUser, filePath: string) {
  h.files.addFile(filePath, { size: 1 << 20 }, { throttle: 64 * 1024 });
  const task = await h.api(user).post<Task>('/api/tasks', { uri: h.files.url(filePath) });
  return waitForStatus(h, user, task.id, 'active');
}

const idsOf = (requests: { postDataJSON(): unknown }[]) =>
  requests.map((r) => ((r.postDataJSON() as { ids: number[] }).ids ?? []).slice().sort((x, y) => x - y));

it('Pause, Resume and Delete selected send one bulk request each for every selected task', async () => {
  const { page, user } = await h.userPage('bulk-actions');
  const a = await runningTask(user, '/bulk/a.bin');
  const b = await runningTask(user, '/bulk/b.bin');
  const both = [a.id, b.id].sort((x, y) => x - y);
  await page.goto('/tasks');
  for (const t of [a, b]) await row(page, t.id).waitFor();
  const watch = h.watch(page);

  await page.getByLabel('Select all').check();
  await page.getByText('2 tasks, 2 selected').waitFor();
  await button(page, 'Pause selected').click();
  await toast(page, 'Paused 2 tasks').waitFor();
  for (const t of [a, b]) await page.locator(`[data-task-id="${t.id}"][data-status="paused"]`).waitFor();
  const pauses = watch.requests('POST', /^\/api\/tasks\/status$/);
  expect(idsOf(pauses)).toEqual([both]);
  expect((pauses[0]!.postDataJSON() as { status: string }).status).toBe('pause');
  expect(watch.requests('PUT', /^\/api\/tasks\/\d+\/status$/)).toHaveLength(0);

  await button(page, 'Resume selected').click();
  await toast(page, 'Resumed 2 tasks').waitFor();
  for (const t of [a, b])
    await page.locator(`[data-task-id="${t.id}"]:not([data-status="paused"])`).waitFor();
  expect(watch.requests('POST', /^\/api\/tasks\/status$/)).toHaveLength(2);

  await button(page, 'Delete selected').click();
  const dialog = page.getByRole('dialog', { name: 'Delete 2 tasks?' });
  await dialog.getByLabel('Also delete files').check();
  await button(dialog, 'Delete').click();
  await toast(page, 'Deleted 2 tasks and their files').waitFor();
  for (const t of [a, b]) await row(page, t.id).waitFor({ state: 'detached' });
  const deletes = watch.requests('POST', /^\/api\/tasks\/delete$/);
  expect(idsOf(deletes)).toEqual([both]);
  expect((deletes[0]!.postDataJSON() as { delete_files?: boolean }).delete_files).toBe(true);
  expect(watch.requests('DELETE', /^\/api\/tasks\/\d+/)).toHaveLength(0);
  expect(await listTasks(h, user)).toEqual([]);
});
