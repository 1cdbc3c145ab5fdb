import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';

/**
 * A throwaway PostgreSQL cluster for the tests: vitest's globalSetup (`setup`/`teardown` below) starts
 * one per run (initdb + pg_ctl from Debian's postgresql-15, as the `postgres` user when running as
 * root, on a free loopback port, fsync off) and stops and removes it at the end. Its admin URL reaches
 * the test workers through vitest's provide/inject (or TEST_POSTGRES_ADMIN_URL outside vitest); each
 * test or controller asks `freshDatabaseUrl()` for a database of its own. It never skips: a cluster
 * that cannot start fails the run.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

/** Where Debian puts the server's programs (not on PATH): the newest version installed. */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); `npm test` installs postgresql-15',
    );
  }
  return path.join(base, versions[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface TestCluster {
  adminUrl: string;
  stop(): void;
}

/** Starts a cluster in a new temporary folder; `stop()` stops it and removes the folder. */
export async function startTestCluster(): Promise<TestCluster> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, `${password}\n`);
  if (asRoot) {
    // initdb refuses to run as root: the cluster belongs to `postgres`, in a folder it owns.
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  }
  // The server's programs run in the folder, which the `postgres` user can enter (the worktree it may not).
  const run = (program: string, args: string[]) => {
    const [command, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', path.join(bin, program), ...args]]
      : [path.join(bin, program), args];
    const r = spawnSync(command, argv, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `PostgreSQL test cluster: ${program} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim()}`,
      );
    }
  };
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = [
    '-c listen_addresses=127.0.0.1',
    `-c port=${port}`,
    "-c unix_socket_directories=''",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=400',
    '-c shared_buffers=64MB',
  ].join(' ');
  run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  let stopped = false;
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---- vitest globalSetup -------------------------------------------------------------------------------

let cluster: TestCluster | null = null;

export async function setup(project: {
  provide(key: 'postgresAdminUrl', value: string): void;
}): Promise<void> {
  // A cluster given from outside (TEST_POSTGRES_ADMIN_URL) is used as it is.
  if (process.env.TEST_POSTGRES_ADMIN_URL) {
    project.provide('postgresAdminUrl', process.env.TEST_POSTGRES_ADMIN_URL);
    return;
  }
  cluster = await startTestCluster();
  project.provide('postgresAdminUrl', cluster.adminUrl);
}

export function teardown(): void {
  cluster?.stop();
  cluster = null;
}

// ---- in the tests -------------------------------------------------------------------------------------

/** The cluster's admin URL: from vitest's globalSetup, or TEST_POSTGRES_ADMIN_URL outside vitest. */
export function postgresAdminUrl(): string {
  const fromEnv = process.env.TEST_POSTGRES_ADMIN_URL;
  if (fromEnv) return fromEnv;
  const url = inject('postgresAdminUrl');
  if (!url) throw new Error('no PostgreSQL test cluster: vitest.config.ts starts one in its globalSetup');
  return url;
}

let counter = 0;

/** A new, empty database on the test cluster, for one test or controller; its URL. */
export async function freshDatabaseUrl(): Promise<string> {
  const admin = new URL(postgresAdminUrl());
  const name = `t_${process.pid}_${Date.now().toString(36)}_${++counter}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.href });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  admin.pathname = `/${name}`;
  return admin.href;
}

/** Whether this run's fixtures use PostgreSQL (`TEST_DATABASE=postgres`) instead of an SQLite file. */
export function testsUsePostgres(): boolean {
  return process.env.TEST_DATABASE === 'postgres';
}

/**
 * DATABASE_URL for a test's controller or service context: with TEST_DATABASE=postgres a fresh database on the test
 * cluster, unless `env` names one itself; otherwise nothing (the SQLite file under DATA_DIR).
 */
export async function testDatabaseEnv(
  env: Record<string, string | undefined>,
): Promise<Record<string, string>> {
  if (env.DATABASE_URL !== undefined || !testsUsePostgres()) return {};
  return { DATABASE_URL: await freshDatabaseUrl() };
}
