import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Gateway } from '../../src/aria2/gateway.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, openDatabase } from '../../src/db/index.js';
import { EgressGuard } from '../../src/egress/guard.js';
import { NodeRegistry } from '../../src/gateway/registry.js';
import type { Actor, Logger, ServiceContext } from '../../src/services/context.js';
import { ControllerEvents } from '../../src/services/events.js';
import { newInstanceId } from '../../src/services/leases.js';
import { SettingsService } from '../../src/services/settings.js';
import { buildTaskServices, type TaskCollaborators, type TaskServices } from '../../src/services/tasks.js';
import { UsersService } from '../../src/services/users.js';
import { startTestAria2, type TestAria2, type TestAria2Options } from './aria2.js';
import { testDatabaseEnv } from './postgres.js';
import { waitFor } from './wait.js';

/** Every log call, serialised, so a test can prove no secret was logged. */
export class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  private record(level: string, obj: object | string, msg?: string) {
    this.lines.push(JSON.stringify({ level, obj, msg }));
  }
  info(obj: object | string, msg?: string) {
    this.record('info', obj, msg);
  }
  warn(obj: object | string, msg?: string) {
    this.record('warn', obj, msg);
  }
  error(obj: object | string, msg?: string) {
    this.record('error', obj, msg);
  }
  debug(obj: object | string, msg?: string) {
    this.record('debug', obj, msg);
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface UnitContext {
  ctx: ServiceContext;
  db: Db;
  dir: string;
  logger: CapturingLogger;
  /** The real aria2c the `local` node's gateway is connected to, when one was asked for. */
  aria2: TestAria2 | null;
  /** Every task event the services emitted, in order (`ctx.events` is recorded from the start). */
  events: { updates: TaskEventRow[]; removed: { ownerId: number; taskId: number; replacedBy?: number }[] };
  /** Creates a user in the database and returns it as the Actor services take. */
  user(username: string, options?: { quota?: number; is_admin?: boolean }): Promise<Actor>;
  /** The task services and their collaborators, wired as the composition root wires them. */
  taskServices(): TaskServices & TaskCollaborators;
  close(): Promise<void>;
}

type TaskEventRow = Parameters<ControllerEvents['taskUpdate']>[0];

export interface UnitContextOptions {
  /** A real aria2c for the `local` node (see helpers/aria2.ts), started and connected before the tests. */
  aria2?: boolean | TestAria2Options;
}

/**
 * A real ServiceContext over a real SQLite file in a temporary folder (with TEST_DATABASE=postgres, a
 * fresh PostgreSQL database), built as the controller builds it. Without `aria2`, the daemon is a client that is never started (the account services do not call
 * it); with it, a real aria2c on a loopback port, connected. Services are then built on `ctx` directly:
 *
 *   const u = await unitContext({ ALLOW_PRIVATE_NETWORK: 'true' }, { aria2: true });
 *   const tasks = u.taskServices();
 *   const alice = await u.user('alice', { quota: 1000 });
 */
export async function unitContext(
  env: Record<string, string> = {},
  options: UnitContextOptions = {},
): Promise<UnitContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-controller-unit-'));
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', ...(await testDatabaseEnv(env)), ...env });
  fs.mkdirSync(config.downloadDir, { recursive: true });
  const db = await openDatabase(config.database);
  let daemon: TestAria2 | null = null;
  if (options.aria2) {
    try {
      daemon = await startTestAria2(options.aria2 === true ? {} : options.aria2);
    } catch (err) {
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const aria2 = daemon
    ? new Aria2Client({ url: daemon.url, secret: daemon.secret })
    : new Aria2Client({ url: 'ws://127.0.0.1:9/jsonrpc', secret: null });
  const nodes = new NodeRegistry([new Aria2Gateway('local', aria2)]);
  const logger = new CapturingLogger();
  const events = new ControllerEvents();
  const recorded: UnitContext['events'] = { updates: [], removed: [] };
  events.on('task_update', (row) => recorded.updates.push(row));
  events.on('task_removed', (ownerId, taskId, replacedBy) =>
    recorded.removed.push({ ownerId, taskId, ...(replacedBy === undefined ? {} : { replacedBy }) }),
  );
  const settings = new SettingsService(db, nodes.first, logger);
  await settings.load(config.settingsSeed);
  const ctx: ServiceContext = { config, db, instanceId: newInstanceId(), nodes, events, settings, logger };
  if (daemon) {
    void nodes.first.start();
    await waitFor(() => nodes.first.connected, 10_000, 'the test aria2c to connect');
  }
  const accounts = new UsersService(ctx, { forgetAllOf: async () => undefined });
  return {
    ctx,
    db,
    dir,
    logger,
    aria2: daemon,
    events: recorded,
    async user(username, opts = {}) {
      const created = await accounts.create({ username, password: 'user-password-1', ...opts });
      return { id: created.id, username, is_admin: created.is_admin, quota: created.quota };
    },
    taskServices() {
      const guard = new EgressGuard({ allowPrivate: () => settings.get().allow_private_network });
      return buildTaskServices(ctx, guard);
    },
    async close() {
      await aria2.close();
      await daemon?.stop();
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a service call threw (a DomainError carries `status` and `detail`); fails when it did not throw. */
export async function failure(p: Promise<unknown>): Promise<Error & { status: number; detail: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { status: number; detail: string };
  }
  throw new Error('expected a failure');
}
