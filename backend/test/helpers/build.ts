/**
 * Vitest global set-up: compiles the controller once before any test file runs, so the process tests
 * run what `npm start` runs (backend/dist/main.js) and the workers never build it side by side.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function setup(): void {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-backend.mjs')], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
}
