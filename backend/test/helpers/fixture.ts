/**
 * The shared set-up of the integration tests: a real controller (embedded aria2c, fresh SQLite file)
 * and a local file server, started before the file's tests and torn down after them, with the named
 * users created and signed in, in order. The file binds the names it uses in `ready`:
 *
 *   let c: TestController;
 *   let server: FileServer;
 *   let alice: ApiClient;
 *   useController({ users: ['alice'] }, (fx) => {
 *     ({ c, server } = fx);
 *     alice = fx.api('alice');
 *   });
 */
import { afterAll, beforeAll } from 'vitest';
import { startTestController, type TestController } from './controller.js';
import { type FileServer, startFileServer } from './file-server.js';
import { type ApiClient, as } from './tasks-api.js';

export interface ControllerFixture {
  c: TestController;
  server: FileServer;
  /** The first admin, signed in. */
  admin: ApiClient;
  /** The users of `users`, by name: their id and session cookie. */
  users: Record<string, { id: number; cookie: string }>;
  /** Calls as one of `users`. */
  api(name: string): ApiClient;
}

export interface FixtureOptions {
  /** Environment variables of the controller (see startTestController). */
  env?: Record<string, string>;
  controller?: Parameters<typeof startTestController>[1];
  /** Users to create and sign in, in this order (their ids follow it); a quota or admin flag as asked. */
  users?: readonly (string | { name: string; quota?: number; is_admin?: boolean })[];
}

export function useController(
  options: FixtureOptions = {},
  ready?: (fx: ControllerFixture) => void | Promise<void>,
): ControllerFixture {
  const fx: ControllerFixture = {
    c: undefined as unknown as TestController,
    server: undefined as unknown as FileServer,
    admin: undefined as unknown as ApiClient,
    users: {},
    api(name) {
      const user = fx.users[name];
      if (!user) throw new Error(`the fixture has no user ${name}`);
      return as(fx.c, user.cookie);
    },
  };
  beforeAll(async () => {
    // The file server first: a controller that fails to start leaves it for afterAll to close.
    fx.server = await startFileServer();
    fx.c = await startTestController(options.env, options.controller);
    fx.admin = as(fx.c, await fx.c.adminCookie());
    for (const user of options.users ?? []) {
      const { name, ...rest } = typeof user === 'string' ? { name: user } : user;
      fx.users[name] = await fx.c.createUser(name, rest);
    }
    await ready?.(fx);
  });
  afterAll(async () => {
    await fx.server?.close();
    await fx.c?.destroy();
  });
  return fx;
}
