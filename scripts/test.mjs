// `npm test`: the same set-up as `npm start` (plus Chromium), then every test: typecheck, lint, unit and
// integration (Vitest), and the browser tests. Ends with one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureAria2, ensureChromium, ensureDependencies, ensureUiBuilt, root } from './setup.mjs';

try {
  ensureAria2();
  ensureChromium();
  ensureDependencies();
  ensureUiBuilt();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;

function step(name, command, args) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const r = spawnSync(command, args, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return r.status === 0;
}

function vitest(name, args) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vitest-report-')), 'report.json');
  const ok = step(name, bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...args,
  ]);
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    if (!ok && r.numFailedTests === 0) failed += 1; // a file that failed to load
  } else if (!ok) {
    failed += 1;
  }
  return ok;
}

/**
 * `npm audit --omit=dev`: high and critical advisories fail the run. Where the registry's audit
 * service cannot be reached (it refuses the request on some networks), this says so and goes on.
 */
function auditDependencies() {
  process.stdout.write('\n=== npm audit --omit=dev ===\n');
  const r = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
    cwd: root,
    encoding: 'utf8',
  });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    report = null;
  }
  const counts = report?.metadata?.vulnerabilities;
  if (!counts) {
    const why = report?.message ?? (r.stderr || 'no answer').trim().split('\n')[0];
    process.stdout.write(`the audit service could not be reached (${why}); dependencies not audited\n`);
    return;
  }
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  if (serious > 0) failed += 1;
  else passed += 1;
}

const checks = [
  [
    'typecheck',
    () =>
      ['backend', 'frontend', 'e2e', 'bench'].every((project) =>
        step(`typecheck ${project}`, bin('tsc'), ['-p', project, '--noEmit']),
      ),
  ],
  ['lint', () => step('lint', bin('biome'), ['check', '.'])],
];
for (const [name, check] of checks) {
  if (check()) passed += 1;
  else {
    failed += 1;
    process.stdout.write(`${name} failed\n`);
  }
}
auditDependencies();
vitest('unit and integration tests', []);
if (fs.existsSync(path.join(root, 'e2e', 'vitest.config.ts'))) {
  vitest('browser tests', ['--config', 'e2e/vitest.config.ts']);
}

process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
