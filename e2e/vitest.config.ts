import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['e2e/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // One Chromium at a time on a 2-core machine (two at once saved 40 s and made a layout test flaky).
    maxWorkers: 1,
    fileParallelism: false,
    // The files share one module graph (playwright-core and the controller's modules imported once);
    // each still starts its own controller and Chromium.
    isolate: false,
  },
});
