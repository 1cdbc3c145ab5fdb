import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The UI's alias of the rules it shares with the server (as in frontend/tsconfig.json).
  resolve: {
    alias: { '@rules': fileURLToPath(new URL('./backend/src/domain/task-rules.ts', import.meta.url)) },
  },
  test: {
    include: ['backend/test/**/*.test.ts', 'frontend/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'frontend/out/**', 'frontend/.next/**'],
    // One throwaway PostgreSQL cluster per run; each test that needs one gets its own database on it.
    globalSetup: ['backend/test/helpers/postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each run their own aria2c and SQLite; two cores, so two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
