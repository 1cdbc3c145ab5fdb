/**
 * Steering downloads from the UI: the queue order (drag and drop, move to top or bottom) reaching
 * aria2 and staying in the list, a running download's limits changed live, and a torrent's files
 * chosen in the add dialog and changed later.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { makeMultiFileTorrent, makeTorrent } from '../backend/test/helpers/torrent.js';
import { type Harness, patternBytes, startHarness, type TestUser, waitFor } from './harness.js';
import { button, createTask, idAt, row, type Task, toast, waitForStatus } from './support.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  // One download at a time, so the others wait in aria2's queue.
  const admin = h.api({ cookie: await h.controller.adminCookie() });
  await admin.put('/api/config', { max_concurrent_downloads: 1 });
});
const users: TestUser[] = [];
afterEach(async () => {
  // Every test's downloads end with it, so the next one has aria2's one slot.
  for (const user of users.splice(0)) await stopAll(user);
  expect(await h.closePages()).toEqual([]);
});
afterAll(async () => {
  await h?.close();
});

/** A signed-in page of a new user whose downloads end with the test. */
async function userPage(name: string) {
  const made = await h.userPage(name);
  users.push(made.user);
  return made;
}

/** Deletes every current download of the user, with its files. */
async function stopAll(user: TestUser): Promise<void> {
  const api = h.api(user);
  const current = (await api.get<{ items: Task[] }>('/api/tasks?view=current')).items;
  for (const t of current) await api.delete(`/api/tasks/${t.id}?delete_files=true`);
}

/** The ids of the waiting tasks by their place in the queue, as the API says. */
async function queueByPosition(user: TestUser): Promise<number[]> {
  const items = (await h.api(user).get<{ items: Task[] }>('/api/tasks?status=waiting&limit=1000')).items;
  return items
    .filter((t) => t.position !== null)
    .sort((a, b) => a.position! - b.position!)
    .map((t) => t.id);
}

async function shownOrder(page: import('playwright-core').Page, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await idAt(page, i));
  return ids;
}

/** Waits until the list shows these tasks first, in this order (the rows settle after a load). */
async function expectShown(page: import('playwright-core').Page, want: number[]): Promise<void> {
  await waitFor(
    async () => JSON.stringify(await shownOrder(page, want.length)) === JSON.stringify(want),
    5000,
    `the list to show ${want.join(', ')}`,
  ).catch(() => undefined);
  expect(await shownOrder(page, want.length)).toEqual(want);
}

it('the queue: a task dragged by its handle takes its new place in aria2 at once; the task page moves to top and bottom', async () => {
  const { page, user } = await userPage('queuer');
  for (const name of ['busy', 'x1', 'x2', 'x3'])
    h.files.addFile(`/queue/${name}.bin`, { size: 8 * 1024 * 1024 }, { throttle: 32 * 1024 });
  const busy = await createTask(h, user, h.files.url('/queue/busy.bin'));
  await waitForStatus(h, user, busy.id, 'active');
  const x1 = await createTask(h, user, h.files.url('/queue/x1.bin'));
  const x2 = await createTask(h, user, h.files.url('/queue/x2.bin'));
  const x3 = await createTask(h, user, h.files.url('/queue/x3.bin'));
  for (const t of [x1, x2, x3]) await waitForStatus(h, user, t.id, 'waiting');
  await waitFor(
    async () => JSON.stringify(await queueByPosition(user)) === JSON.stringify([x1.id, x2.id, x3.id]),
    15_000,
    'the queue in the order added',
  );

  await page.goto('/tasks');
  await page.getByLabel('Show').selectOption('waiting');
  await row(page, x3.id).waitFor();
  await page.getByText('Drag a task by its handle', { exact: false }).waitFor();
  await expectShown(page, [x1.id, x2.id, x3.id]);

  // x3 dragged (with the keyboard, as dnd-kit offers) above x1.
  const handle = row(page, x3.id).getByRole('button', { name: 'Reorder x3.bin' });
  await handle.focus();
  // dnd-kit measures the rows between key presses: one key per animation frame or so.
  for (const key of ['Space', 'ArrowUp', 'ArrowUp', 'Space']) {
    await page.keyboard.press(key);
    await page.waitForTimeout(150);
  }
  // The list shows the new order at once, and aria2 and the API have it too.
  await expectShown(page, [x3.id, x1.id, x2.id]);
  await waitFor(
    async () => JSON.stringify(await queueByPosition(user)) === JSON.stringify([x3.id, x1.id, x2.id]),
    5000,
    'the API to place x3 first',
  );
  expect(h.watch(page).requests('PUT', new RegExp(`/api/tasks/${x3.id}/position$`))).toHaveLength(1);
  expect((await h.api(user).get<Task>(`/api/tasks/${x3.id}`)).position).toBe(0);
  const gids = (await h.controller.aria2.tellWaiting(0, 10, ['gid'])).map((s) => s.gid);
  const mine = await Promise.all([x3, x1, x2].map((t) => h.api(user).get<Task>(`/api/tasks/${t.id}`)));
  expect(gids.filter((g) => mine.some((t) => t.gid === g))).toEqual(mine.map((t) => t.gid));
  // After a reload the queue view lists the same order: the server's queue order, not the date added.
  await page.reload();
  await page.getByLabel('Show').selectOption('waiting');
  await row(page, x3.id).waitFor();
  expect(await page.getByLabel('Sort by').inputValue()).toBe('position');
  await expectShown(page, [x3.id, x1.id, x2.id]);

  // The task page moves x1 to the bottom, then x2 to the top.
  await page.goto(`/tasks/detail?id=${x1.id}`);
  await button(page, 'Move to bottom').click();
  await toast(page, 'Moved to the end of the queue').waitFor();
  expect(await queueByPosition(user)).toEqual([x3.id, x2.id, x1.id]);
  await page.goto(`/tasks/detail?id=${x2.id}`);
  await button(page, 'Move to top').click();
  await toast(page, 'Moved to the top of the queue').waitFor();
  expect(await queueByPosition(user)).toEqual([x2.id, x3.id, x1.id]);
  // The queue view lists that order too (and the page leaves the task before it is deleted).
  await page.goto('/tasks');
  await page.getByLabel('Show').selectOption('waiting');
  await row(page, x1.id).waitFor();
  await expectShown(page, [x2.id, x3.id, x1.id]);
});

it("the task page changes a running download's download limit live", async () => {
  const { page, user } = await userPage('limiter');
  h.files.addFile('/limits/run.bin', { size: 32 * 1024 * 1024 }, { throttle: 128 * 1024 });
  const t = await createTask(h, user, h.files.url('/limits/run.bin'));
  const running = await waitForStatus(h, user, t.id, 'active');

  await page.goto(`/tasks/detail?id=${t.id}`);
  const form = page.getByRole('form', { name: 'Speed limits' });
  await form.getByLabel('Download limit', { exact: true }).fill('40');
  await form.getByLabel('Unit of Download limit').selectOption('KiB/s');
  await button(form, 'Apply limits').click();
  await toast(page, 'Limits applied').waitFor();
  // aria2 applies it to the running download, which keeps running.
  const [got] = await h.controller.aria2.multicall([{ method: 'aria2.getOption', params: [running.gid] }]);
  expect(got?.ok ? (got.value as Record<string, string>)['max-download-limit'] : got).toBe('40960');
  expect((await h.api(user).get<Task>(`/api/tasks/${t.id}`)).status).toBe('active');

  // A bad value is refused in the form, before any request.
  await form.getByLabel('Download limit', { exact: true }).fill('-5');
  await form.getByText('Enter a number of at least 0.').waitFor();
  expect(await button(form, 'Apply limits').isDisabled()).toBe(true);
  expect(h.watch(page).requests('PUT', /\/options$/)).toHaveLength(1);
});

it("a torrent's file selection is changed later on the task page", async () => {
  const { page, user } = await userPage('picker');
  const made = makeMultiFileTorrent({
    name: 'pack',
    files: [
      { path: 'a.bin', content: patternBytes(0, 300_000) },
      { path: 'docs/b.txt', content: patternBytes(300_000, 400_000) },
      { path: 'c.bin', content: patternBytes(400_000, 700_000) },
    ],
    webSeedUrl: h.files.url('/packseed/'),
  });
  for (const f of made.files) h.files.addFile(`/packseed/${f.seedPath}`, f.content, { throttle: 16 * 1024 });
  const api = h.api(user);
  const t = await api.post<Task>('/api/tasks/torrent', { torrent: made.base64, select_files: [1, 3] });
  await waitForStatus(h, user, t.id, 'active');
  const selected = async () =>
    (await api.get<{ index: number; selected: boolean }[]>(`/api/tasks/${t.id}/files`)).map((f) => [
      f.index,
      f.selected,
    ]);
  expect(await selected()).toEqual([
    [1, true],
    [2, false],
    [3, true],
  ]);

  await page.goto(`/tasks/detail?id=${t.id}`);
  const boxA = page.getByLabel('Download pack/a.bin');
  const boxB = page.getByLabel('Download pack/docs/b.txt');
  const boxC = page.getByLabel('Download pack/c.bin');
  await boxA.waitFor();
  expect([await boxA.isChecked(), await boxB.isChecked(), await boxC.isChecked()]).toEqual([
    true,
    false,
    true,
  ]);
  await page.getByText('2 of 3 files selected · 586 KiB').waitFor();

  await boxB.check();
  await boxA.uncheck();
  await page.getByText('2 of 3 files selected · 391 KiB').waitFor();
  await button(page, 'Apply selection').click();
  await toast(page, 'File selection applied').waitFor();
  expect(await selected()).toEqual([
    [1, false],
    [2, true],
    [3, true],
  ]);
  const inAria2 = await h.controller.aria2.tellStatus((await api.get<Task>(`/api/tasks/${t.id}`)).gid!, [
    'files',
  ]);
  expect(inAria2.files.map((f) => f.selected)).toEqual([false, true, true]);
  // After a reload the page shows the server's selection.
  await page.reload();
  await boxB.waitFor();
  expect([await boxA.isChecked(), await boxB.isChecked(), await boxC.isChecked()]).toEqual([
    false,
    true,
    true,
  ]);
});

it('the add dialog of a multi-file .torrent shows its file tree, and only the files chosen there download', async () => {
  const { page, user } = await userPage('chooser');
  const made = makeMultiFileTorrent({
    name: 'bundle',
    files: [
      { path: 'a.bin', content: patternBytes(0, 200_000) },
      { path: 'docs/b.txt', content: patternBytes(200_000, 260_000) },
      { path: 'docs/c.txt', content: patternBytes(260_000, 300_000) },
      { path: 'd.bin', content: patternBytes(300_000, 500_000) },
    ],
    webSeedUrl: h.files.url('/bundleseed/'),
  });
  for (const f of made.files) h.files.addFile(`/bundleseed/${f.seedPath}`, f.content);
  await page.goto('/tasks');
  await page.getByText('No downloads yet.').waitFor();
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: 'bundle.torrent', mimeType: 'application/x-bittorrent', buffer: made.torrent });

  const dialog = page.getByRole('dialog', { name: 'Choose files: bundle.torrent' });
  await dialog.waitFor();
  await dialog.getByText('4 of 4 files selected · 488 KiB').waitFor();
  const docs = dialog.getByLabel('Download folder bundle/docs', { exact: true });
  const fileC = dialog.getByLabel('Download bundle/docs/c.txt', { exact: true });
  // The folder unchecks its files; one of them checked again leaves the folder mixed.
  await docs.uncheck();
  expect(await fileC.isChecked()).toBe(false);
  await dialog.getByText('2 of 4 files selected · 391 KiB').waitFor();
  await dialog.getByLabel('Download bundle/d.bin', { exact: true }).uncheck();
  await fileC.check();
  expect(await docs.evaluate((el) => (el as HTMLInputElement).indeterminate)).toBe(true);
  await dialog.getByText('2 of 4 files selected · 234 KiB').waitFor();
  // Nothing is sent before the choice is made.
  expect(h.watch(page).requests('POST', /\/api\/tasks\/torrent$/)).toHaveLength(0);
  await button(dialog, 'Add download').click();
  await toast(page, 'Added bundle').waitFor();

  const api = h.api(user);
  const [t] = (await api.get<{ items: Task[] }>('/api/tasks')).items;
  expect(t?.uri).toBe('[torrent]');
  const files = await api.get<{ index: number; path: string; selected: boolean }[]>(
    `/api/tasks/${t!.id}/files`,
  );
  expect(files.map((f) => [f.index, f.selected])).toEqual([
    [1, true],
    [2, false],
    [3, true],
    [4, false],
  ]);
  // aria2 has the same choice.
  const started = await waitFor(
    async () => (await api.get<Task>(`/api/tasks/${t!.id}`)).gid,
    15_000,
    'a gid',
  );
  const inAria2 = await h.controller.aria2.tellStatus(started, ['files']);
  expect(inAria2.files.map((f) => f.selected)).toEqual([true, false, true, false]);
});

it('a single-file .torrent is added without a dialog', async () => {
  const { page, user } = await userPage('single');
  const made = makeTorrent({ name: 'one.iso', content: patternBytes(0, 40_000) });
  await page.goto('/tasks');
  await page.getByText('No downloads yet.').waitFor();
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: 'one.torrent', mimeType: 'application/x-bittorrent', buffer: made.torrent });
  await toast(page, 'Added one.iso').waitFor();
  expect(await page.getByRole('dialog').count()).toBe(0);
  expect((await h.api(user).get<{ items: Task[] }>('/api/tasks')).items).toHaveLength(1);
});
