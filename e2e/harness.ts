/**
 * The browser-test harness: a real controller (SQLite, embedded aria2c, the built UI from
 * frontend/out) on a free loopback port, a local file server, and Debian's Chromium driven by
 * playwright-core.
 */
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import {
  ADMIN_PASSWORD,
  startTestController,
  type TestController,
} from '../backend/test/helpers/controller.js';
import { type FileServer, startFileServer } from '../backend/test/helpers/file-server.js';

export { patternBytes } from '../backend/test/helpers/file-server.js';
export { makeTorrent } from '../backend/test/helpers/torrent.js';
export { waitFor } from '../backend/test/helpers/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI_DIR = path.resolve(here, '../frontend/out');
/** Screenshots kept as test artifacts (the README shows them). */
export const SCREENSHOT_DIR = path.resolve(here, '../docs/screenshots');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface Harness {
  controller: TestController;
  files: FileServer;
  browser: Browser;
  /** http://127.0.0.1:<port> */
  origin: string;
  newPage(options?: { width?: number; height?: number }): Promise<Page>;
  signIn(page: Page, username: string, password: string): Promise<void>;
  signInAdmin(page: Page): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  if (!fs.existsSync(path.join(UI_DIR, 'index.html')))
    throw new Error('the UI is not built (npm run build:ui)');
  const controller = await startTestController(env, { uiDir: UI_DIR });
  await controller.app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(controller.app.server.address() as AddressInfo).port}`;
  const files = await startFileServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const signIn = async (page: Page, username: string, password: string) => {
    await page.goto(`${origin}/login`);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/tasks/);
  };
  return {
    controller,
    files,
    browser,
    origin,
    async newPage({ width = 1280, height = 800 } = {}) {
      const context = await browser.newContext({ viewport: { width, height }, baseURL: origin });
      return context.newPage();
    },
    signIn,
    signInAdmin: (page) => signIn(page, 'admin', ADMIN_PASSWORD),
    async close() {
      await browser.close().catch(() => undefined);
      await files.close();
      await controller.destroy();
    },
  };
}
