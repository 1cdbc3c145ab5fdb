/**
 * Retry beyond the basic flow, in the browser: stopped tasks retried in bulk, Stop asked first and
 * "Start again", a new link for an expired one, "Retry all failed" in one request with honest counts,
 * a torrent re-added from its stored file, the duplicate warning of an add, the server's own retry
 * (countdown, Retry now, Cancel), and the task page following a replacement.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, makeTorrent, patternBytes, startHarness, type TestUser, waitFor } from './harness.js';
import {
  button,
  failedTask,
  GiB,
  listTasks,
  row,
  SMALL_QUOTA,
  serve,
  type Task,
  taskExists,
  toast,
  waitForStatus,
} from './support.js';

const BATCH_PATH = /^\/api\/tasks\/retry$/;
const SLOW = { size: 1 << 20 };
/** About 16 s for 1 MiB: long enough to act on a running download. */
const THROTTLE = { throttle: 64 * 1024 };

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

/** A download that stays active for a while. */
async function runningTask(user: TestUser, filePath: string) {
  h.files.addFile(filePath, SLOW, THROTTLE);
  const task = await h.api(user).post<Task>('/api/tasks', { uri: h.files.url(filePath) });
  return waitForStatus(h, user, task.id, 'active');
}

it('Retry selected retries stopped HTTP downloads too, in one request', async () => {
  const { page, user } = await h.userPage('stopped-bulk');
  const a = await runningTask(user, '/stopped-bulk/a.bin');
  const b = await runningTask(user, '/stopped-bulk/b.bin');
  for (const t of [a, b]) await h.api(user).put(`/api/tasks/${t.id}/status`, { status: 'stop' });
  for (const t of [a, b]) await waitForStatus(h, user, t.id, 'removed');
  await page.goto('/tasks');
  for (const t of [a, b]) await page.locator(`[data-task-id="${t.id}"][data-status="removed"]`).waitFor();

  await page.getByLabel('Select all').check();
  await page.getByText('2 tasks, 2 selected').waitFor();
  await button(page, 'Retry selected').click();
  await toast(page, 'Successfully retried 2 tasks').waitFor();

  const requests = h.watch(page).requests('POST', BATCH_PATH);
  expect(requests).toHaveLength(1);
  expect((requests[0]!.postDataJSON() as { ids: number[] }).ids.sort()).toEqual([a.id, b.id].sort());
  for (const t of [a, b]) await row(page, t.id).waitFor({ state: 'detached' });
  const tasks = await listTasks(h, user);
  expect(tasks).toHaveLength(2);
  expect(tasks.map((t) => t.id)).not.toContain(a.id);
  expect(tasks.every((t) => t.status !== 'removed')).toBe(true);
});

it('Stop asks first; a stopped task offers Start again, and its page follows the new task', async () => {
  const { page, user } = await h.userPage('stopper');
  const task = await runningTask(user, '/stopper/slow.bin');
  await page.goto(`/tasks/detail?id=${task.id}`);
  await page.getByRole('heading', { name: 'slow.bin' }).waitFor();

  await button(page, 'Stop').click();
  const dialog = page.getByRole('dialog', { name: 'Stop “slow.bin”?' });
  await dialog.getByText(/Stopping ends the download/).waitFor();
  await button(dialog, 'Keep downloading').click();
  await dialog.waitFor({ state: 'hidden' });
  expect(h.watch(page).requests('PUT', /\/status$/)).toHaveLength(0);
  expect((await h.api(user).get<Task>(`/api/tasks/${task.id}`)).status).toBe('active');

  await button(page, 'Stop').click();
  await button(dialog, 'Stop download').click();
  await waitForStatus(h, user, task.id, 'removed');
  const again = button(page, 'Start again');
  await again.waitFor();
  expect(await button(page, 'Retry').count()).toBe(0);

  h.files.update('/stopper/slow.bin', { throttle: undefined });
  await again.click();
  await page.waitForURL((url) => url.searchParams.get('id') !== String(task.id));
  const newId = Number(new URL(page.url()).searchParams.get('id'));
  expect(newId).not.toBe(task.id);
  await waitForStatus(h, user, newId, 'complete');
  expect(await taskExists(h, user, task.id)).toBe(false);
});

it('Retry with a new link… replaces a task whose link expired; a refused link is shown in the dialog', async () => {
  const { page, user } = await h.userPage('relink');
  const failed = await failedTask(h, user, '/relink/expired.bin');
  serve(h, '/relink/mirror.bin');
  h.watch(page).expectFailure({
    method: 'POST',
    path: new RegExp(`^/api/tasks/${failed.id}/retry$`),
    status: 422,
  });
  await page.goto(`/tasks/detail?id=${failed.id}`);
  await button(page, 'Retry with a new link…').click();
  const dialog = page.getByRole('dialog', { name: 'Retry with a new link' });
  const field = dialog.getByLabel('New link');

  await field.fill('file:///etc/passwd');
  await button(dialog, 'Retry').click();
  await dialog
    .getByRole('alert')
    .filter({ hasText: /scheme/ })
    .waitFor();
  expect(await taskExists(h, user, failed.id)).toBe(true);

  await field.fill(h.files.url('/relink/mirror.bin'));
  await button(dialog, 'Retry').click();
  await page.waitForURL((url) => url.searchParams.get('id') !== String(failed.id));
  const newId = Number(new URL(page.url()).searchParams.get('id'));
  const done = await waitForStatus(h, user, newId, 'complete');
  expect(done.uri).toBe(h.files.url('/relink/mirror.bin'));
  expect(await taskExists(h, user, failed.id)).toBe(false);
  const sent = h.watch(page).requests('POST', new RegExp(`^/api/tasks/${failed.id}/retry$`));
  expect(sent.map((r) => r.postDataJSON())).toEqual([
    { uri: 'file:///etc/passwd' },
    { uri: h.files.url('/relink/mirror.bin') },
  ]);
});

it('Retry all failed on Tasks is one request with the filter and says what could not be retried', async () => {
  const { page, user } = await h.userPage('retry-all', { quota: SMALL_QUOTA });
  const fine = [await failedTask(h, user, '/retry-all/a.bin'), await failedTask(h, user, '/retry-all/b.bin')];
  const huge = await failedTask(h, user, '/retry-all/huge.iso');
  serve(h, '/retry-all/a.bin');
  serve(h, '/retry-all/b.bin');
  serve(h, '/retry-all/huge.iso', 2 * GiB);
  await page.goto('/tasks');
  for (const t of [...fine, huge]) await row(page, t.id).getByText('Failed', { exact: true }).waitFor();

  await button(page, 'Retry all failed').click();
  await toast(page, 'Retried 2 tasks: 1 could not be retried').waitFor();
  const requests = h.watch(page).requests('POST', BATCH_PATH);
  expect(requests).toHaveLength(1);
  expect(requests[0]!.postDataJSON()).toEqual({ filter: { status: 'error', view: 'all' } });
  for (const t of fine) await row(page, t.id).waitFor({ state: 'detached' });
  await row(page, huge.id).getByText('Failed', { exact: true }).waitFor();
  const tasks = await listTasks(h, user);
  expect(tasks).toHaveLength(3);
  expect(tasks.map((t) => t.id)).toContain(huge.id);
});

it('Retry all failed on History sends the history view and the search', async () => {
  const { page, user } = await h.userPage('history-all');
  const match = await failedTask(h, user, '/history-all/match-me.bin');
  const other = await failedTask(h, user, '/history-all/other.bin');
  serve(h, '/history-all/match-me.bin');
  await page.goto('/history');
  await page.getByLabel('Search').fill('match-me');
  await row(page, other.id).waitFor({ state: 'detached' });
  await button(page, 'Retry all failed').click();
  await toast(page, 'Retried 1 task').waitFor();
  const requests = h.watch(page).requests('POST', BATCH_PATH);
  expect(requests.map((r) => r.postDataJSON())).toEqual([
    { filter: { status: 'error', view: 'history', q: 'match-me' } },
  ]);
  expect(await taskExists(h, user, match.id)).toBe(false);
  expect((await waitForStatus(h, user, other.id, 'error')).id).toBe(other.id);
});

it('a torrent task offers its stored .torrent: Download .torrent, and Re-upload replaces the task', async () => {
  const { page, user } = await h.userPage('reupload');
  const content = patternBytes(0, 40_000);
  // A slow web seed: the torrent stays active until it is stopped.
  h.files.addFile('/reupload/seed/movie.mkv', content, { throttle: 1024 });
  const t = makeTorrent({ name: 'movie.mkv', content, webSeedUrl: h.files.url('/reupload/seed/') });
  const added = await h.api(user).post<Task>('/api/tasks/torrent', { torrent: t.base64 });
  await waitForStatus(h, user, added.id, 'active');
  await h.api(user).put(`/api/tasks/${added.id}/status`, { status: 'stop' });
  await waitForStatus(h, user, added.id, 'removed');

  await page.goto(`/tasks/detail?id=${added.id}`);
  const link = page.getByRole('link', { name: 'Download .torrent' });
  expect(await link.getAttribute('href')).toBe(`/api/tasks/${added.id}/torrent`);
  const stored = await page.request.get(`/api/tasks/${added.id}/torrent`);
  expect(stored.status()).toBe(200);
  expect(Buffer.from(await stored.body()).equals(t.torrent)).toBe(true);

  h.files.update('/reupload/seed/movie.mkv', { throttle: undefined });
  await button(page, 'Start again').click();
  const dialog = page.getByRole('dialog', { name: 'Retry a torrent' });
  await dialog.getByText('Torrent tasks cannot be retried. Please re-upload the torrent file.').waitFor();
  await button(dialog, 'Re-upload the stored .torrent').click();
  await page.waitForURL((url) => url.searchParams.get('id') !== String(added.id));
  const newId = Number(new URL(page.url()).searchParams.get('id'));
  await waitForStatus(h, user, newId, 'complete');
  expect(await taskExists(h, user, added.id)).toBe(false);
  expect(h.watch(page).requests('POST', /\/retry$/)).toHaveLength(0);
  expect(h.watch(page).requests('POST', new RegExp(`^/api/tasks/${added.id}/reupload$`))).toHaveLength(1);
});

it('the add form warns about a duplicate, links to it, and adds it anyway when asked', async () => {
  const { page, user } = await h.userPage('dupes');
  const first = await runningTask(user, '/dupes/same.bin');
  h.watch(page).expectFailure({ method: 'POST', path: /^\/api\/tasks$/, status: 409 });
  await page.goto('/tasks');
  await row(page, first.id).waitFor();

  await page.getByLabel('Download URL').fill(h.files.url('/dupes/same.bin'));
  await button(page, 'Add').click();
  const notice = page.getByRole('alert').filter({ hasText: 'This download is already in your list' });
  await notice.waitFor();
  expect(await notice.getByRole('link', { name: 'Show that download' }).getAttribute('href')).toBe(
    `/tasks/detail?id=${first.id}`,
  );
  expect(await listTasks(h, user)).toHaveLength(1);

  await button(notice, 'Add anyway').click();
  await notice.waitFor({ state: 'detached' });
  await waitFor(
    async () => ((await listTasks(h, user)).length === 2 ? true : null),
    10_000,
    'the second add',
  );
  const posts = h.watch(page).requests('POST', /^\/api\/tasks$/);
  expect(posts.map((r) => (r.postDataJSON() as { allow_duplicate?: boolean }).allow_duplicate)).toEqual([
    undefined,
    true,
  ]);
});

it('Add many warns about links already in the list and adds them anyway from the warning', async () => {
  const { page, user } = await h.userPage('dupes-many');
  const first = await runningTask(user, '/dupes-many/same.bin');
  serve(h, '/dupes-many/new.bin');
  await page.goto('/tasks');
  await row(page, first.id).waitFor();

  await page.getByText('Add many (one link per line)').click();
  await page
    .getByLabel('Links, one per line')
    .fill(`${h.files.url('/dupes-many/same.bin')}\n${h.files.url('/dupes-many/new.bin')}`);
  await button(page, 'Add all').click();
  await toast(page, 'Added 1 download').waitFor();
  const warning = page.locator('[data-sonner-toast]', { hasText: '1 link is already in your list' });
  await warning.waitFor();
  expect(await listTasks(h, user)).toHaveLength(2);

  await warning.getByRole('button', { name: 'Add anyway' }).click();
  await waitFor(
    async () => ((await listTasks(h, user)).length === 3 ? true : null),
    10_000,
    'the third task',
  );
  const posts = h.watch(page).requests('POST', /^\/api\/tasks\/batch$/);
  expect(posts.map((r) => r.postDataJSON())).toEqual([
    { uris: [h.files.url('/dupes-many/same.bin'), h.files.url('/dupes-many/new.bin')] },
    { uris: [h.files.url('/dupes-many/same.bin')], allow_duplicate: true },
  ]);
});

it('a task the server will retry counts down with Retry now and Cancel', async () => {
  const { page, user } = await h.userPage('auto');
  h.files.addFile('/auto/busy.bin', { size: 64 * 1024 }, { status: 503 });
  h.files.addFile('/auto/later.bin', { size: 64 * 1024 }, { status: 503 });
  const api = h.api(user);
  const planned = async (filePath: string) => {
    const t = await api.post<Task>('/api/tasks', { uri: h.files.url(filePath), auto_retry: 2 });
    return waitFor(
      async () => {
        const now = await api.get<Task & { next_retry_at?: string | null }>(`/api/tasks/${t.id}`);
        return now.next_retry_at ? now : null;
      },
      30_000,
      `a planned retry of ${filePath}`,
    );
  };
  const busy = await planned('/auto/busy.bin');
  const later = await planned('/auto/later.bin');
  await page.goto('/tasks');
  const busyRow = row(page, busy.id);
  await busyRow.getByText(/^Retrying in \d+ s \(attempt 2( of \d+)?\)$/).waitFor();

  await button(busyRow, 'Cancel').click();
  await busyRow.getByText(/^Retrying in/).waitFor({ state: 'detached' });
  expect(h.watch(page).requests('DELETE', new RegExp(`^/api/tasks/${busy.id}/auto-retry$`))).toHaveLength(1);
  expect((await api.get<{ next_retry_at: string | null }>(`/api/tasks/${busy.id}`)).next_retry_at).toBeNull();
  await button(busyRow, 'Retry').waitFor();

  h.files.update('/auto/later.bin', { status: undefined });
  const laterRow = row(page, later.id);
  await button(laterRow, 'Retry now').click();
  await laterRow.waitFor({ state: 'detached' });
  expect(h.watch(page).requests('POST', new RegExp(`^/api/tasks/${later.id}/retry$`))).toHaveLength(1);
  expect(await taskExists(h, user, later.id)).toBe(false);
});

it('an open task page follows the task that replaced it (a retry from elsewhere)', async () => {
  const { page, user } = await h.userPage('follow');
  const failed = await failedTask(h, user, '/follow/file.bin');
  await page.goto(`/tasks/detail?id=${failed.id}`);
  await page.getByRole('heading', { name: 'file.bin' }).waitFor();
  serve(h, '/follow/file.bin');
  // Another tab, or a script: the page learns it only from the socket.
  const created = await h.api(user).post<Task>(`/api/tasks/${failed.id}/retry`);
  await page.waitForURL((url) => url.searchParams.get('id') === String(created.id));
  await page.locator(`[data-task-id="${created.id}"]`).waitFor();
  expect(h.watch(page).requests('POST', /\/retry$/)).toHaveLength(0);
});
