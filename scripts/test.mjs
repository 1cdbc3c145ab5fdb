// `npm test`: the same set-up as `npm start` (plus Chromium), then every test: typecheck, lint, unit and
// integration (Vitest), the integration tests again on PostgreSQL, and the browser tests. Ends with the
// names of the tests that failed, how long each step took, and one line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureAria2,
  ensureBackendBuilt,
  ensureChromium,
  ensureDependencies,
  ensurePostgres,
  ensureUiBuilt,
  root,
} from './setup.mjs';

const setupStarted = Date.now();
try {
  ensureAria2();
  ensureChromium();
  ensurePostgres();
  ensureDependencies();
  ensureUiBuilt();
  ensureBackendBuilt();
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;
/** What failed, by step, repeated at the end: a long run's tail is often all that is read of it. */
const failures = [];
const timings = [`set-up: ${Math.round((Date.now() - setupStarted) / 1000)} s`];

function step(name, command, args, env = {}) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const started = Date.now();
  const r = spawnSync(command, args, {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  timings.push(`${name}: ${Math.round((Date.now() - started) / 1000)} s`);
  if (r.status !== 0) failures.push(`${name}: failed`);
  return r.status === 0;
}

/** The failed tests of a Vitest JSON report, as "file > test". */
function failedTests(report) {
  return report.testResults.flatMap((file) => {
    const where = path.relative(root, file.name);
    const tests = file.assertionResults.filter((t) => t.status === 'failed');
    if (tests.length === 0 && file.status === 'failed') return [`${where}: ${file.message || 'failed'}`];
    return tests.map((t) => `${where} > ${t.fullName}${firstLines(t.failureMessages)}`);
  });
}

/** The start of a test's first failure message, so that the summary alone says why it failed. */
function firstLines(messages = []) {
  if (messages.length === 0) return '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what is stripped
  const plain = messages[0].replace(/\u001b\[[0-9;]*m/g, '');
  const lines = plain
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, 4);
  return lines.map((l) => `\n      ${l.trim().slice(0, 300)}`).join('');
}

function vitest(name, args, env = {}) {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vitest-report-')), 'report.json');
  const ok = step(
    name,
    bin('vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
    env,
  );
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    for (const test of failedTests(r)) failures.push(`${name}: ${test}`);
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
// The integration tests again, with every fixture on a fresh PostgreSQL database of a throwaway cluster
// (backend/test/helpers/postgres.ts): the files that open a database through a fixture. Unit, browser
// and backend/test/scale/ tests are not repeated (the last always run on PostgreSQL).
const FIXTURES = /\b(startTestController|unitContext|useController)\b/;
const onPostgresFiles = ['aria2', 'egress', 'jobs', 'quality', 'routes', 'rpc', 'services'].flatMap((d) => {
  const dir = path.join(root, 'backend', 'test', d);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts') && FIXTURES.test(fs.readFileSync(path.join(dir, f), 'utf8')))
    .map((f) => `backend/test/${d}/${f}`);
});
vitest('integration tests on PostgreSQL', onPostgresFiles, { TEST_DATABASE: 'postgres' });
if (fs.existsSync(path.join(root, 'e2e', 'vitest.config.ts'))) {
  vitest('browser tests', ['--config', 'e2e/vitest.config.ts']);
}

process.stdout.write(`\n=== summary ===\n${timings.join('\n')}\n`);
if (failures.length > 0) process.stdout.write(`\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
