import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { Aria2Client } from './aria2/client.js';
import { EmbeddedAria2 } from './aria2/daemon.js';
import type { Config } from './config/index.js';
import { type Db, openDatabase } from './db/index.js';
import { SyncEngine } from './jobs/sync.js';
import { SocketHub } from './realtime/hub.js';
import { AuthService } from './services/auth.js';
import type { ServiceContext } from './services/context.js';
import { ControllerEvents } from './services/events.js';
import { FilesService } from './services/files.js';
import { RetryService } from './services/retry.js';
import { SettingsService } from './services/settings.js';
import { SharesService } from './services/shares.js';
import { StatsService } from './services/stats.js';
import { TasksService } from './services/tasks.js';
import { UsersService } from './services/users.js';

export interface ControllerOptions {
  /** Folder of the built UI; null for API only. */
  uiDir?: string | null;
  /** Extra aria2c options for the embedded daemon (tests turn DHT off). */
  aria2Args?: string[];
  /** Print the log (main.ts); tests keep it quiet. */
  logger?: pino.Logger;
}

/** Everything a running controller is made of; main.ts and the integration tests both start one. */
export interface Controller {
  config: Config;
  db: Db;
  aria2: Aria2Client;
  daemon: EmbeddedAria2 | null;
  context: ServiceContext;
  app: FastifyInstance;
  sync: SyncEngine;
  hub: SocketHub;
  tasks: TasksService;
  retry: RetryService;
  users: UsersService;
  auth: AuthService;
  /** Stops the jobs, saves aria2's session, stops the embedded daemon and closes the database. */
  close(): Promise<void>;
}

export async function startController(config: Config, options: ControllerOptions = {}): Promise<Controller> {
  const logger = options.logger ?? pino({ level: 'silent' });
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(config.downloadDir, { recursive: true });
  const db = await openDatabase(config.databaseFile);

  let daemon: EmbeddedAria2 | null = null;
  let aria2Url = config.aria2RpcUrl;
  let aria2Secret = config.aria2RpcSecret;
  if (!aria2Url) {
    daemon = new EmbeddedAria2({
      stateDir: path.join(config.dataDir, 'aria2'),
      downloadDir: config.downloadDir,
      logger: logger.child({ part: 'aria2c' }),
      extraArgs: options.aria2Args,
    });
    try {
      await daemon.start();
    } catch (err) {
      await db.destroy();
      throw err;
    }
    aria2Url = daemon.url;
    aria2Secret = daemon.secret;
  }
  const aria2 = new Aria2Client({ url: aria2Url, secret: aria2Secret });
  const events = new ControllerEvents();
  const settings = new SettingsService(db, aria2);
  await settings.load(config.settingsSeed);
  const context: ServiceContext = { config, db, aria2, events, settings, logger };

  const tasks = new TasksService(context);
  const retry = new RetryService(context, tasks);
  const users = new UsersService(context, tasks);
  const auth = new AuthService(context);
  const files = new FilesService(context, tasks.storage);
  const shares = new SharesService(context, tasks.storage, files);
  const stats = new StatsService(context, tasks);
  await users.ensureFirstAdmin();

  const hub = new SocketHub(context, stats);
  const sync = new SyncEngine(context, tasks);
  const app = await buildApp({
    config,
    aria2,
    hub,
    services: { auth, users, tasks, retry, files, shares, stats, settings },
    uiDir: options.uiDir ?? null,
    logger: options.logger ? { level: config.logLevel } : false,
  });

  // A retry interrupted by a crash is finished or undone before anything else touches tasks.
  await retry.repairInterrupted();
  aria2.on('connected', () => {
    settings.applyToAria2().catch((err) => logger.warn({ err: String(err) }, 'could not apply aria2 limits'));
  });
  sync.start();
  // The first connection is not awaited: the controller serves (degraded) while aria2 is away.
  void aria2.start();

  let closed = false;
  return {
    config,
    db,
    aria2,
    daemon,
    context,
    app,
    sync,
    hub,
    tasks,
    retry,
    users,
    auth,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await sync.stop();
      hub.close();
      if (aria2.connected) await aria2.saveSession().catch(() => undefined);
      await aria2.close();
      if (daemon) await daemon.stop();
      await db.destroy();
    },
  };
}
