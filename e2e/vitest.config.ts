import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['e2e/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // Two files at a time, each with its own controller, aria2c and Chromium: a file spends much of its
    // time waiting on downloads and the page, so the two cores are shared well.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
