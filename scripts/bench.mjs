// `npm run bench`: the same set-up as `npm start` (the compiled controller included), then the benchmarks (bench/run.ts).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureAria2, ensureBackendBuilt, ensureDependencies, root } from './setup.mjs';

try {
  ensureAria2();
  ensureDependencies();
  ensureBackendBuilt();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'bench', 'run.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
process.exit(r.status ?? 1);
