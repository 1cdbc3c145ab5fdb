/**
 * API tokens on the Profile page: create one by name, its secret shown once (copyable, and gone after
 * a reload), the secret working as `Authorization: Bearer` on the API, revoke through the confirm
 * dialog (the next call is 401), and where aria2 clients point (this origin's `/jsonrpc`).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import { button, toast } from './support.js';

interface ApiToken {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
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

/** `GET /api/tasks` over the real socket with the token as its only credential. */
async function tasksWith(token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${h.origin}/api/tasks`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

it('creates a token whose secret is shown once, works as a Bearer token, and stops working once revoked', async () => {
  const { page, user } = await h.userPage('scripter', { width: 390, height: 844 });
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.origin });
  await page.goto('/profile');
  await page.getByRole('heading', { name: 'API tokens' }).waitFor();
  await page.getByText('No tokens yet.', { exact: true }).waitFor();

  await page.getByLabel('Token name').fill('backup script');
  await button(page, 'Create token').click();
  const shown = page.getByRole('status', { name: 'New token' });
  await shown.getByText('Copy this token now: it is shown only once.').waitFor();
  const secret = (await shown.getByTestId('new-token').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^a2c_[A-Za-z0-9_-]{43}$/);

  // Readable and easy to take whole: monospace, selected in one go, wrapped inside the card at phone width.
  const look = await shown.getByTestId('new-token').evaluate((el) => {
    const style = getComputedStyle(el);
    return {
      font: style.fontFamily,
      select: style.userSelect,
      overflows: el.scrollWidth > el.clientWidth,
      insideCard:
        el.getBoundingClientRect().right <= (el.closest('.card')?.getBoundingClientRect().right ?? 0),
    };
  });
  expect(look).toMatchObject({ select: 'all', overflows: false, insideCard: true });
  expect(look.font).toMatch(/monospace/);

  await button(shown, 'Copy token').click();
  await toast(page, 'Token copied.').waitFor();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

  // Listed by name; the list and the API never show the secret again.
  const listed = await h.api(user).get<ApiToken[]>('/api/tokens');
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ name: 'backup script', last_used_at: null });
  expect(JSON.stringify(listed)).not.toContain(secret);
  const line = page.locator(`[data-token-id="${listed[0]!.id}"]`);
  await line.getByText('backup script', { exact: true }).waitFor();
  await line.getByText('Never', { exact: true }).waitFor();

  // The secret authenticates the API as its owner.
  h.files.addFile('/tok/a.bin', { size: 1024 });
  const mine = await h.api(user).post<{ id: number }>('/api/tasks', { uri: h.files.url('/tok/a.bin') });
  const first = await tasksWith(secret);
  expect(first.status).toBe(200);
  expect((first.body as { items: { id: number }[] }).items.map((t) => t.id)).toContain(mine.id);

  await page.reload();
  await line.getByText('backup script', { exact: true }).waitFor();
  expect(await page.getByRole('status', { name: 'New token' }).count()).toBe(0);
  expect(await page.content()).not.toContain(secret);
  // Its use is on the list now.
  await line.getByText('Never', { exact: true }).waitFor({ state: 'detached' });

  // Cancel keeps it; Revoke in the dialog ends it at once.
  await line.getByRole('button', { name: 'Revoke backup script' }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke this token?' });
  await confirm.getByText('Anything using "backup script" stops working at once.').waitFor();
  await button(confirm, 'Cancel').click();
  await confirm.waitFor({ state: 'hidden' });
  expect((await tasksWith(secret)).status).toBe(200);

  await line.getByRole('button', { name: 'Revoke backup script' }).click();
  await button(confirm, 'Revoke').click();
  await toast(page, 'Token revoked.').waitFor();
  await line.waitFor({ state: 'detached' });
  await page.getByText('No tokens yet.', { exact: true }).waitFor();
  expect(await h.api(user).get<ApiToken[]>('/api/tokens')).toEqual([]);
  expect(await tasksWith(secret)).toEqual({ status: 401, body: { detail: 'Not authenticated' } });
});

it('tells aria2 clients to use this origin’s /jsonrpc', async () => {
  const { page } = await h.userPage('ariang');
  await page.goto('/profile');
  const help = page.getByRole('region', { name: 'Use with aria2 clients' });
  const host = new URL(h.origin).host;
  await help.getByText(`${h.origin}/jsonrpc`, { exact: true }).first().waitFor();
  await help.getByText(`ws://${host}/jsonrpc`, { exact: true }).waitFor();
  const port = new URL(h.origin).port;
  await help
    .getByText(`aria2p --host http://127.0.0.1 --port ${port} --secret <token>`, { exact: true })
    .waitFor();
});
