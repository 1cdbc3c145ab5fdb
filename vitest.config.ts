import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['backend/test/**/*.test.ts', 'frontend/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'frontend/out/**', 'frontend/.next/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each run their own aria2c and SQLite; two cores, so two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
