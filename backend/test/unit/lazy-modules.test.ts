import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The packages a fresh Node process has loaded after importing the compiled controller's start-up
 * modules (backend/dist, built by the tests' global set-up) and opening an SQLite database: what every
 * controller on its SQLite file carries in memory from its start.
 */
function packagesLoadedAtStart(): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(path.join(REPO_ROOT, 'backend/dist/composition.js'))});
    const { openDatabase } = await import(${JSON.stringify(path.join(REPO_ROOT, 'backend/dist/db/index.js'))});
    const db = await openDatabase(':memory:');
    await db.destroy();
    const names = new Set();
    for (const file of Object.keys(createRequire(import.meta.url).cache)) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file);
      if (m) names.add(m[1]);
    }
    process.stdout.write(JSON.stringify([...names]));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.join(REPO_ROOT, 'backend'),
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('what the controller loads at start on SQLite', () => {
  it('neither the PostgreSQL driver nor the zip library, but its own database driver', () => {
    const loaded = packagesLoadedAtStart();
    // The check sees CommonJS packages at all: the SQLite driver and Fastify are always there.
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).toContain('fastify');
    expect(loaded).not.toContain('pg');
    expect(loaded).not.toContain('pg-pool');
    expect(loaded).not.toContain('yazl');
  });
});
