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
    // The compiled controller the process tests spawn; one throwaway PostgreSQL cluster per run (each
    // test that needs one gets its own database on it).
    globalSetup: ['backend/test/helpers/build.ts', 'backend/test/helpers/postgres.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each run their own aria2c and SQLite; two cores, so two files at a time.
    maxWorkers: 2,
    fileParallelism: true,
    // A worker runs its files one after another in one module graph instead of importing the
    // controller's modules again for each file (about 4 s a file on this machine, more than many of
    // the files' own tests). Every file starts its own controllers and databases and stops them.
    isolate: false,
  },
});
