import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { Aria2Client } from './aria2/client.js';
import { EmbeddedAria2 } from './aria2/daemon.js';
import { Aria2Gateway } from './aria2/gateway.js';
import type { Config } from './config/index.js';
import { type Db, openDatabase } from './db/index.js';
import { type Dial, EgressGuard, type Resolve } from './egress/guard.js';
import { EgressProxy } from './egress/proxy.js';
import { NodeRegistry } from './gateway/registry.js';
import { LOCAL_NODE } from './gateway/types.js';
import { AutoRetryJob } from './jobs/auto-retry.js';
import { SyncEngine } from './jobs/sync.js';
import { SocketHub } from './realtime/hub.js';
import type { Admission } from './services/admission.js';
import { AuthService } from './services/auth.js';
import { AutoRetryService } from './services/auto-retry.js';
import type { ServiceContext } from './services/context.js';
import { ControllerEvents } from './services/events.js';
import { FilesService } from './services/files.js';
import { ignored } from './services/ignored.js';
import { Lease, newInstanceId } from './services/leases.js';
import { type RetryFaults, RetryService } from './services/retry.js';
import { SettingsService } from './services/settings.js';
import { SharesService } from './services/shares.js';
import { StatsService } from './services/stats.js';
import type { Storage } from './services/storage.js';
import { SyncService } from './services/sync.js';
import { TaskViewsService } from './services/task-views.js';
import type { HandOverTracker } from './services/tasks/tracker.js';
import { buildTaskServices, type TaskServices } from './services/tasks.js';
import { TokensService } from './services/tokens.js';
import { UsersService } from './services/users.js';

export interface ControllerOptions {
  /** Folder of the built UI; null for API only. */
  uiDir?: string | null;
  /** Extra aria2c options for the embedded daemon (tests turn DHT off). */
  aria2Args?: string[];
  /** Print the log (main.ts); tests keep it quiet. */
  logger?: pino.Logger;
  /** Only tests set these: made-up names and addresses for the network guard, mapped to loopback. */
  egress?: { resolve?: Resolve; dial?: Dial };
  /** Only tests set these: faults injected at named points (a crash in the middle of a retry). */
  faults?: { retry?: RetryFaults };
}

/**
 * Everything a running controller is made of; main.ts and the integration tests both start one. This
 * module is the composition root: the one place that builds the parts and hands each its collaborators.
 */
export interface Controller {
  config: Config;
  db: Db;
  aria2: Aria2Client;
  /** The download daemons by node (one, `local`, wrapping `aria2`). */
  nodes: NodeRegistry;
  daemon: EmbeddedAria2 | null;
  context: ServiceContext;
  app: FastifyInstance;
  sync: SyncEngine;
  hub: SocketHub;
  /** The loopback proxy aria2's HTTP, HTTPS and FTP connections go through. */
  egressProxy: EgressProxy;
  tasks: TaskServices;
  /** The users' folders. */
  storage: Storage;
  /** Task ids being handed to aria2 (or taken out of it) right now. */
  handingOver: HandOverTracker;
  /** Lets held downloads start, fairly between users. */
  admission: Admission;
  retry: RetryService;
  autoRetry: AutoRetryService;
  /** The scheduler of planned automatic retries. */
  autoRetryJob: AutoRetryJob;
  users: UsersService;
  auth: AuthService;
  /** This process's random id among the instances on the database. */
  instanceId: string;
  /** The leases this instance tries for (a node's sync, the auto-retry scheduler). */
  leases: Lease[];
  /** Stops the jobs, saves aria2's session, stops the embedded daemon and closes the database. */
  close(): Promise<void>;
}

export async function startController(config: Config, options: ControllerOptions = {}): Promise<Controller> {
  const logger = options.logger ?? pino({ level: 'silent' });
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(config.downloadDir, { recursive: true });
  const db = await openDatabase(config.database);

  // The settings are loaded before aria2 starts: downloads it restores from its session connect at
  // once, through the guard, which reads the live setting.
  let nodesRef: NodeRegistry | null = null;
  const settings = new SettingsService(
    db,
    {
      changeGlobalOptions: (options) =>
        nodesRef
          ? nodesRef.local.changeGlobalOptions(options)
          : Promise.reject(new Error('aria2 is not started yet')),
    },
    logger,
  );
  await settings.load(config.settingsSeed);
  const guard = new EgressGuard({
    allowPrivate: () => settings.get().allow_private_network,
    ...options.egress,
  });
  const egressProxy = new EgressProxy(guard, logger.child({ part: 'egress' }));
  await egressProxy.start();
  // tunnel: plain HTTP and FTP (its passive data connections too) arrive as CONNECT like HTTPS.
  const proxyOptions = {
    'all-proxy': egressProxy.url,
    'all-proxy-user': egressProxy.user,
    'all-proxy-passwd': egressProxy.password,
    'proxy-method': 'tunnel',
  };
  let downloadOptions: Record<string, string> | undefined;

  let daemon: EmbeddedAria2 | null = null;
  let aria2Url = config.aria2RpcUrl;
  let aria2Secret = config.aria2RpcSecret;
  if (!aria2Url) {
    daemon = new EmbeddedAria2({
      stateDir: path.join(config.dataDir, 'aria2'),
      downloadDir: config.downloadDir,
      logger: logger.child({ part: 'aria2c' }),
      extraArgs: options.aria2Args,
      // The proxy's password would show in a process list on the command line.
      confOptions: proxyOptions,
      perRunOptions: Object.keys(proxyOptions),
    });
    try {
      await daemon.start();
    } catch (err) {
      await egressProxy.stop();
      await db.destroy();
      throw err;
    }
    aria2Url = daemon.url;
    aria2Secret = daemon.secret;
  } else if (isLoopbackUrl(aria2Url)) {
    // An external aria2 on this machine can reach the proxy: every download gets it as its own option.
    downloadOptions = proxyOptions;
  } else {
    logger.warn(
      { aria2: new URL(aria2Url).host },
      'aria2 is not on loopback: its connections do not go through the egress proxy (see SECURITY.md)',
    );
  }
  // The embedded daemon's request-size limit is known; an external one is taken to have aria2's default.
  const aria2 = new Aria2Client({
    url: aria2Url,
    secret: aria2Secret,
    ...(daemon ? { maxRequestBytes: daemon.maxRequestBytes } : {}),
  });
  const nodes = new NodeRegistry([new Aria2Gateway(LOCAL_NODE, aria2)]);
  const events = new ControllerEvents();
  nodesRef = nodes;
  const instanceId = newInstanceId();
  const context: ServiceContext = {
    config,
    db,
    instanceId,
    nodes,
    events,
    settings,
    logger,
    downloadOptions,
  };

  // The task services and the collaborators they share with the retry, the sync engine and the stats.
  const tasks = buildTaskServices(context, guard);
  const { storage, handingOver, admission, sources, limits, speeds, handOver } = tasks;
  const retry = new RetryService(context, { handingOver, admission, sources, limits }, options.faults?.retry);
  const autoRetry = new AutoRetryService(context, tasks, retry);
  const users = new UsersService(context, tasks.remove);
  const auth = new AuthService(context);
  const files = new FilesService(context, storage);
  const shares = new SharesService(context, storage, files);
  const stats = new StatsService(context, limits, storage);
  const tokens = new TokensService(context);
  await users.ensureFirstAdmin();

  const hub = new SocketHub(context, stats, auth);
  const sync = new SyncEngine(
    context,
    new SyncService(context, { handingOver, admission, handOver, storage, speeds }),
    admission,
    handingOver,
  );
  const app = await buildApp({
    config,
    hub,
    events,
    services: {
      auth,
      users,
      tasks,
      retry,
      autoRetry,
      files,
      shares,
      stats,
      settings,
      tokens,
      views: new TaskViewsService(context, storage),
    },
    uiDir: options.uiDir ?? null,
    logger: options.logger ? { level: config.logLevel } : false,
  });

  // A retry interrupted by a crash is finished or undone before anything else touches tasks.
  await retry.repairInterrupted();
  nodes.local.on('connected', () => {
    settings.applyToAria2().catch((err) => logger.warn({ err: String(err) }, 'could not apply aria2 limits'));
  });
  // Plans are in the database: the scheduler picks up where the last run stopped.
  const autoRetryJob = new AutoRetryJob(autoRetry, events, logger.child({ part: 'auto-retry' }));
  // Several instances may share the database: the one holding a node's lease drives its sync and
  // admission, the one holding the scheduler's lease the automatic retries (docs/architecture.md).
  const leaseLogger = logger.child({ part: 'leases', instance: instanceId });
  const leases = [
    new Lease(
      db,
      `sync:${LOCAL_NODE}`,
      instanceId,
      { gained: () => sync.start(), lost: () => sync.stop() },
      leaseLogger,
    ),
    new Lease(
      db,
      'auto-retry',
      instanceId,
      { gained: () => autoRetryJob.start(), lost: () => autoRetryJob.stop() },
      leaseLogger,
    ),
  ];
  await Promise.all(leases.map((l) => l.start()));
  settings.onChange(async (patch) => {
    if (Object.keys(patch).some((k) => k.startsWith('auto_retry'))) autoRetryJob.soon();
  });
  // The first connection is not awaited: the controller serves (degraded) while aria2 is away.
  void nodes.local.start();

  let closed = false;
  return {
    config,
    db,
    aria2,
    nodes,
    daemon,
    context,
    app,
    sync,
    hub,
    egressProxy,
    tasks,
    storage,
    handingOver,
    admission,
    retry,
    autoRetry,
    autoRetryJob,
    users,
    auth,
    instanceId,
    leases,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      // Released, so another instance takes over at once.
      await Promise.all(leases.map((l) => l.stop()));
      hub.close();
      if (nodes.local.connected) {
        await nodes.local.saveSession().catch(ignored(logger, 'could not save the session of aria2'));
      }
      await nodes.local.close();
      if (daemon) await daemon.stop();
      await egressProxy.stop();
      await db.destroy();
    },
  };
}

/** Whether an aria2 RPC URL points at this machine (so aria2 can reach the loopback proxy). */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
