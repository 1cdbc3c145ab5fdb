import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Controller, type ControllerOptions, startController } from '../../src/composition.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import { testDatabaseEnv } from './postgres.js';
import { waitFor } from './wait.js';

export { waitFor } from './wait.js';

/** The SQLite file of a test's controller; for the tests that look into the file itself. */
export function sqliteFile(config: Config): string {
  if (config.database.kind !== 'sqlite') throw new Error('this controller runs on PostgreSQL, not SQLite');
  return config.database.file;
}

/** aria2c options that keep a test daemon offline and quick. */
export const TEST_ARIA2_ARGS = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--file-allocation=none',
  '--seed-time=0',
];

export interface TestController extends Controller {
  dataDir: string;
  /** Logs in and returns the cookie header value for app.inject. */
  login(username: string, password: string): Promise<string>;
  /** Creates a user through the service and returns a logged-in cookie. */
  createUser(
    username: string,
    options?: { is_admin?: boolean; quota?: number; node?: string },
  ): Promise<{ id: number; cookie: string }>;
  adminCookie(): Promise<string>;
  /** Removes the data folder too. */
  destroy(): Promise<void>;
}

export const ADMIN_PASSWORD = 'admin-password-1';
export const USER_PASSWORD = 'user-password-1';

/**
 * A real controller for integration tests: a fresh data folder, SQLite file (or, with
 * TEST_DATABASE=postgres, a fresh PostgreSQL database) and embedded aria2c.
 * `env` adds or overrides variables (e.g. ALLOW_PRIVATE_NETWORK=true to download from loopback);
 * `egress` gives the network guard a made-up resolver and dialer (a public name mapped to loopback).
 */
export async function startTestController(
  env: Record<string, string> = {},
  options: {
    dataDir?: string;
    uiDir?: string;
    egress?: ControllerOptions['egress'];
    faults?: ControllerOptions['faults'];
    statfs?: ControllerOptions['statfs'];
  } = {},
): Promise<TestController> {
  const dir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-test-'));
  const config: Config = loadConfig({
    DATA_DIR: dir,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD,
    ALLOW_PRIVATE_NETWORK: 'true',
    MIN_FREE_DISK: '0',
    LOG_LEVEL: 'silent',
    ...(await testDatabaseEnv(env)),
    ...env,
  });
  const controller = await startController(config, {
    aria2Args: TEST_ARIA2_ARGS,
    uiDir: options.uiDir ?? null,
    egress: options.egress,
    faults: options.faults,
    statfs: options.statfs,
  });
  await controller.app.ready();
  await waitFor(() => controller.nodes.list().every((g) => g.connected), 10_000, 'aria2 to connect');

  const login = async (username: string, password: string) => {
    const res = await controller.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
    });
    if (res.statusCode !== 200) throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
    const cookie = res.cookies.find((c) => c.name === 'aria2_session');
    if (!cookie) throw new Error('login set no aria2_session cookie');
    return `aria2_session=${cookie.value}`;
  };
  return Object.assign(controller, {
    dataDir: dir,
    login,
    adminCookie: () => login('admin', ADMIN_PASSWORD),
    async createUser(username: string, options: { is_admin?: boolean; quota?: number; node?: string } = {}) {
      const user = await controller.users.create({ username, password: USER_PASSWORD, ...options });
      return { id: user.id, cookie: await login(username, USER_PASSWORD) };
    },
    async destroy() {
      await controller.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}
