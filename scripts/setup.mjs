// Set-up shared by `npm start` and `npm test`: installs what is missing, in plain Node (no dependencies),
// so it runs on a fresh machine before `npm ci`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const say = (line) => process.stdout.write(`[setup] ${line}\n`);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status})`);
}

let aptUpdated = false;
/** Installs Debian packages when running as root; otherwise says how. */
function aptInstall(packages, why) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !has('apt-get')) {
    throw new Error(`${why} is missing. Install it with: sudo apt-get install -y ${packages.join(' ')}`);
  }
  say(`installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    run('apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env });
}

export function ensureAria2() {
  if (process.env.ARIA2_RPC_URL && !process.argv.includes('--with-aria2')) return;
  if (!has('aria2c')) aptInstall(['aria2'], 'aria2 (the aria2c download daemon)');
}

/**
 * PostgreSQL's server programs, for the tests' throwaway cluster (the integration suite runs on both
 * databases). Debian puts them in /usr/lib/postgresql/<version>/bin.
 */
export function ensurePostgres() {
  const base = '/usr/lib/postgresql';
  const installed =
    fs.existsSync(base) &&
    fs.readdirSync(base).some((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')));
  if (!installed) aptInstall(['postgresql-15'], 'PostgreSQL 15 (for the tests on PostgreSQL)');
}

export function ensureChromium() {
  if (!fs.existsSync('/usr/bin/chromium')) aptInstall(['chromium'], 'Chromium (for the browser tests)');
  // The screenshots in Chinese need a font with its characters (Debian's Chromium brings none).
  // Only the pictures need it, not a test: without root the run goes on and says so.
  if (!hasChineseFont()) {
    try {
      aptInstall(['fonts-wqy-microhei'], 'A Chinese font (for the screenshots in Chinese)');
    } catch (err) {
      say(`${err.message}; the screenshots in Chinese will show empty boxes.`);
    }
  }
}

function hasChineseFont() {
  try {
    return execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

function newest(dir, skip = new Set(['node_modules', 'out', '.next'])) {
  let latest = 0;
  if (!fs.existsSync(dir)) return latest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const p = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p, skip) : fs.statSync(p).mtimeMs);
  }
  return latest;
}

/** npm dependencies: `npm ci` when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  const stale =
    !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs - 1000;
  let missingNative = false;
  try {
    execFileSync(process.execPath, ['-e', "require('better-sqlite3')(':memory:').close()"], {
      cwd: path.join(root, 'backend'),
      stdio: 'ignore',
    });
  } catch {
    missingNative = true;
  }
  if (stale || missingNative) {
    say('installing npm dependencies (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
}

/** The web UI: rebuilt when a source file is newer than the last build. */
export function ensureUiBuilt({ force = false } = {}) {
  const out = path.join(root, 'frontend', 'out', 'index.html');
  const built = fs.existsSync(out) ? fs.statSync(out).mtimeMs : 0;
  const sources = Math.max(
    newest(path.join(root, 'frontend')),
    newest(path.join(root, 'backend', 'src', 'contracts')),
  );
  if (force || built < sources) {
    say('building the web UI');
    run('npm', ['run', 'build', '-w', 'frontend'], { env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  }
}

/** The compiled controller that `npm start`, the process tests and the benchmarks run (not committed). */
export const backendMain = path.join(root, 'backend', 'dist', 'main.js');

/**
 * The controller as JavaScript: compiled with tsc when a source is newer than the last build. Node runs
 * it directly, without a TypeScript loader in the process (less memory, a faster start). Built into a
 * fresh folder and swapped in whole, so a removed source leaves no stale file behind.
 */
export function ensureBackendBuilt({ force = false } = {}) {
  const dist = path.join(root, 'backend', 'dist');
  const stamp = path.join(dist, '.built');
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const sources = Math.max(
    newest(path.join(root, 'backend', 'src')),
    fs.statSync(path.join(root, 'backend', 'tsconfig.build.json')).mtimeMs,
    fs.statSync(path.join(root, 'tsconfig.base.json')).mtimeMs,
  );
  if (!force && built >= sources) return;
  say('building the controller (tsc)');
  const next = `${dist}.${process.pid}`;
  fs.rmSync(next, { recursive: true, force: true });
  try {
    run(path.join(root, 'node_modules', '.bin', 'tsc'), [
      '-p',
      'backend/tsconfig.build.json',
      '--outDir',
      next,
    ]);
    fs.writeFileSync(path.join(next, '.built'), '');
    fs.rmSync(dist, { recursive: true, force: true });
    fs.renameSync(next, dist);
  } finally {
    fs.rmSync(next, { recursive: true, force: true });
  }
}
