import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { cspViolations, type Harness, startHarness } from './harness.js';

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

it('no page raises a Content-Security-Policy violation, and each one runs its scripts', async () => {
  const page = await h.newPage();
  await page.goto(`${h.origin}/login`);
  expect(await cspViolations(page)).toEqual([]);
  // Signing in needs the page's scripts: the form posts through the API client, then navigates.
  await h.signInAdmin(page);
  for (const path of ['/tasks', '/history', '/users', '/settings', '/profile']) {
    const response = await page.goto(`${h.origin}${path}`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp, path).toMatch(/script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+;/);
    expect(csp, path).not.toMatch(/script-src[^;]*unsafe-inline/);
    // The page hydrated: its navigation is a client-side rendered link list.
    await page.getByRole('link', { name: 'History' }).first().waitFor();
    await page.waitForLoadState('networkidle');
    expect(await cspViolations(page), path).toEqual([]);
  }
});

it('a blocked inline script would be seen: the check itself works', async () => {
  const page = await h.newPage();
  await page.goto(`${h.origin}/login`);
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__ran = true';
    document.body.append(s);
  });
  await expect.poll(() => cspViolations(page)).toHaveLength(1);
  expect(await page.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).toBeUndefined();
  // The violation is also a problem of the page; it is taken off the list so afterEach stays clean.
  const problems = h.watch(page).problems as string[];
  expect(problems.some((p) => p.startsWith('console error: CSP violation'))).toBe(true);
  problems.length = 0;
});
