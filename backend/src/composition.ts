import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import { Aria2Client } from './aria2/client.js';
import { EmbeddedAria2 } from './aria2/daemon.js';
import { Aria2Gateway } from './aria2/gateway.js';
import type { Config, Settings } from './config/index.js';
import { type Db, openDatabase } from './db/index.js';
import { MAX_NOTIFY_BYTES, type NotifyChannel, openNotifyChannel } from './db/notify.js';
import { type Dial, EgressGuard, type Resolve } from './egress/guard.js';
import { NodeEgress, proxyOptions } from './egress/node-proxies.js';
import { EgressProxy } from './egress/proxy.js';
import { type NodeEntry, NodeRegistry } from './gateway/registry.js';
import { type DaemonOptions, LOCAL_NODE, type NodeName } from './gateway/types.js';
import { AutoRetryJob } from './jobs/auto-retry.js';
import { SyncEngine, SyncEngines } from './jobs/sync.js';
import { SocketHub } from './realtime/hub.js';
import { countUsersByNode } from './repositories/users.js';
import type { Admission } from './services/admission.js';
import { AuthService } from './services/auth.js';
import { AutoRetryService } from './services/auto-retry.js';
import type { ServiceContext } from './services/context.js';
import { ControllerEvents, rowsByIds } from './services/events.js';
import { FilesService } from './services/files.js';
import { repointDownloads } from './services/handover.js';
import { ignored } from './services/ignored.js';
import { Lease, newInstanceId, syncLeaseName } from './services/leases.js';
import { type RetryFaults, RetryService } from './services/retry.js';
import { SettingsService } from './services/settings.js';
import { databaseShareSecret, SharesService } from './services/shares.js';
import { StatsService } from './services/stats.js';
import { type StatFs, Storage } from './services/storage.js';
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
  /** Only tests set this: what the nodes' disks have free (the choice of a new user's node). */
  statfs?: StatFs;
}

/**
 * Everything a running controller is made of; main.ts and the integration tests both start one. This
 * module is the composition root: the one place that builds the parts and hands each its collaborators.
 */
export interface Controller {
  config: Config;
  db: Db;
  /** The first node's client (the only one without ARIA2_NODES). */
  aria2: Aria2Client;
  /** Every node's client, by node id. */
  aria2Clients: ReadonlyMap<NodeName, Aria2Client>;
  /** The download daemons by node (without ARIA2_NODES one, `local`, wrapping `aria2`). */
  nodes: NodeRegistry;
  daemon: EmbeddedAria2 | null;
  context: ServiceContext;
  app: FastifyInstance;
  /** Every node's sync engine; `start(node)` and `stop(node)` drive one node. */
  sync: SyncEngines;
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
  if (!config.nodes) fs.mkdirSync(config.downloadDir, { recursive: true });
  for (const n of config.nodes ?? []) fs.mkdirSync(n.mount, { recursive: true });
  const db = await openDatabase(config.database);

  // The settings are loaded before aria2 starts: downloads it restores from its session connect at
  // once, through the guard, which reads the live setting.
  let nodesRef: NodeRegistry | null = null;
  const settings = new SettingsService(
    db,
    {
      changeGlobalOptions: (options) =>
        nodesRef ? everyNode(nodesRef, options) : Promise.reject(new Error('aria2 is not started yet')),
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
  const proxyConf = proxyOptions({
    url: egressProxy.url,
    username: egressProxy.user,
    password: egressProxy.password,
  });
  /** Nodes whose aria2 is on loopback: their downloads go through the egress proxies. */
  const proxied = new Set<NodeName>();
  const clients = new Map<NodeName, Aria2Client>();
  const entries: NodeEntry[] = [];

  let daemon: EmbeddedAria2 | null = null;
  /** A daemon of another machine cannot reach the loopback proxy: its downloads go out directly. */
  const proxyFor = (node: NodeName, url: string) => {
    if (isLoopbackUrl(url)) proxied.add(node);
    else
      logger.warn(
        { node, aria2: new URL(url).host },
        'aria2 is not on loopback: its connections do not go through the egress proxy (see SECURITY.md)',
      );
  };
  if (config.nodes) {
    for (const n of config.nodes) {
      proxyFor(n.id, n.rpcUrl);
      const client = new Aria2Client({ url: n.rpcUrl, secret: n.secret });
      clients.set(n.id, client);
      entries.push({ gateway: new Aria2Gateway(n.id, client), folders: { dir: n.dir, mount: n.mount } });
    }
  } else {
    let aria2Url = config.aria2RpcUrl;
    let aria2Secret = config.aria2RpcSecret;
    if (!aria2Url) {
      daemon = new EmbeddedAria2({
        stateDir: path.join(config.dataDir, 'aria2'),
        downloadDir: config.downloadDir,
        logger: logger.child({ part: 'aria2c' }),
        extraArgs: options.aria2Args,
        // The proxy's password would show in a process list on the command line.
        confOptions: proxyConf,
        perRunOptions: Object.keys(proxyConf),
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
    } else {
      proxyFor(LOCAL_NODE, aria2Url);
    }
    // The embedded daemon's request-size limit is known; an external one is taken to have aria2's default.
    const client = new Aria2Client({
      url: aria2Url,
      secret: aria2Secret,
      ...(daemon ? { maxRequestBytes: daemon.maxRequestBytes } : {}),
    });
    clients.set(LOCAL_NODE, client);
    const dir = config.downloadDir;
    entries.push({ gateway: new Aria2Gateway(LOCAL_NODE, client), folders: { dir, mount: dir } });
  }
  const aria2 = clients.values().next().value!;
  const nodes = new NodeRegistry(entries);
  const events = new ControllerEvents();
  nodesRef = nodes;
  const instanceId = newInstanceId();
  // The embedded daemon has this instance's proxy in its start options; other daemons on loopback get
  // the proxy of the instance that drives their node with each download.
  const egress = new NodeEgress(db, instanceId, egressProxy, proxied, syncLeaseName);
  await egress.start();
  const context: ServiceContext = {
    config,
    db,
    instanceId,
    nodes,
    events,
    settings,
    logger,
    downloadOptions: egress,
  };

  // The task services and the collaborators they share with the retry, the sync engine and the stats.
  const tasks = buildTaskServices(context, guard, new Storage(context, options.statfs));
  const { storage, handingOver, admission, sources, limits, speeds, handOver } = tasks;
  const retry = new RetryService(context, { handingOver, admission, sources, limits }, options.faults?.retry);
  const autoRetry = new AutoRetryService(context, tasks, retry);
  const users = new UsersService(context, tasks.remove, storage);
  const auth = new AuthService(context);
  const files = new FilesService(context, storage);
  // Several instances share one database only on PostgreSQL: there the secret is the database's.
  const shares = new SharesService(
    context,
    storage,
    files,
    config.database.kind === 'postgres' ? { secret: await databaseShareSecret(db, config.dataDir) } : {},
  );
  const stats = new StatsService(context, storage);
  const tokens = new TokensService(context);
  await users.ensureFirstAdmin();

  const hub = new SocketHub(context, stats, auth);
  const syncDeps = { handingOver, admission, handOver, storage, speeds };
  const sync = new SyncEngines(
    nodes
      .names()
      .map((node) => new SyncEngine(context, new SyncService(context, syncDeps, node), handingOver)),
    admission,
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
  // aria2's global limits are applied to a node by the instance that drives it: on every connection
  // and when it takes the node over (an instance whose settings lag could otherwise push old ones).
  const applyLimits = (node: NodeName) => {
    const gateway = nodes.gatewayFor(node);
    if (!gateway.connected || !sync.drives(node)) return;
    settings
      .applyTo(gateway)
      .catch((err) => logger.warn({ node, err: String(err) }, 'could not apply aria2 limits'));
  };
  for (const gateway of nodes.list()) gateway.on('connected', () => applyLimits(gateway.node));
  // The node's downloads go through the proxy of the instance that drives it: pointed at this one's
  // when it takes the node over, and when the node's aria2 comes back (a restored session may name another).
  const repoint = async (node: NodeName) => {
    if (!egress.proxies(node) || !nodes.gatewayFor(node).connected) return;
    await repointDownloads(context, handingOver, node, egress.own).catch((err) =>
      logger.warn(
        { node, err: String(err) },
        "could not point the node's downloads at this instance's proxy",
      ),
    );
  };
  for (const gateway of nodes.list()) {
    gateway.on('connected', () => {
      if (sync.drives(gateway.node)) void repoint(gateway.node);
    });
  }
  const channel = await linkInstances(context, instanceId, (patch) => {
    if (LIMIT_KEYS.some((k) => k in patch)) for (const node of nodes.names()) applyLimits(node);
  });
  await warnAboutUnknownNodes(context);
  // Plans are in the database: the scheduler picks up where the last run stopped.
  const autoRetryJob = new AutoRetryJob(autoRetry, events, logger.child({ part: 'auto-retry' }));
  // Several instances may share the database: the one holding a node's lease drives its sync (and, while
  // it drives any node, the fair admission's own passes, which run one at a time across instances); the
  // one holding the scheduler's lease the automatic retries (docs/architecture.md, "Several instances").
  const leaseLogger = logger.child({ part: 'leases', instance: instanceId });
  const driven = new Set<NodeName>();
  const leases = [
    ...nodes.names().map(
      (node) =>
        new Lease(
          db,
          syncLeaseName(node),
          instanceId,
          {
            gained: async () => {
              if (egress.proxies(node)) {
                // Recorded again (a starting instance may have forgotten it), before anyone hands over to it.
                await egress
                  .register()
                  .catch((err) => logger.warn({ err: String(err) }, 'could not record the egress proxy'));
                await repoint(node);
              }
              driven.add(node);
              admission.start();
              sync.start(node);
              applyLimits(node);
            },
            lost: async () => {
              driven.delete(node);
              await sync.stop(node);
              if (driven.size === 0) await admission.stop();
            },
          },
          leaseLogger,
        ),
    ),
    new Lease(
      db,
      'scheduler',
      instanceId,
      { gained: () => autoRetryJob.start(), lost: () => autoRetryJob.stop() },
      leaseLogger,
    ),
  ];
  await Promise.all(leases.map((l) => l.start()));
  settings.onChange(async (patch) => {
    if (Object.keys(patch).some((k) => k.startsWith('auto_retry'))) autoRetryJob.soon();
  });
  // The first connections are not awaited: the controller serves (degraded) while a node is away.
  for (const gateway of nodes.list()) void gateway.start();

  let closed = false;
  return {
    config,
    db,
    aria2,
    aria2Clients: clients,
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
      await egress.stop().catch(ignored(logger, 'could not forget the egress proxy'));
      await events.disconnect();
      await channel?.close();
      hub.close();
      await Promise.all(
        nodes.list().map(async (gateway) => {
          if (gateway.connected) {
            await gateway.saveSession().catch(ignored(logger, 'could not save the session of aria2'));
          }
          await gateway.close();
        }),
      );
      if (daemon) await daemon.stop();
      await egressProxy.stop();
      await db.destroy();
    },
  };
}

/** Pushes global options to every node that answers; a node away gets them when it connects. */
async function everyNode(nodes: NodeRegistry, options: DaemonOptions): Promise<void> {
  const results = await Promise.allSettled(
    nodes
      .list()
      .filter((g) => g.connected)
      .map((g) => g.changeGlobalOptions(options)),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Users of a node that is not configured (ARIA2_NODES set on an existing database without a node
 * named `local`) get 503s for their downloads: said once at start, so the admin can name the node.
 */
async function warnAboutUnknownNodes(ctx: ServiceContext): Promise<void> {
  const unknown = [...(await countUsersByNode(ctx.db)).keys()].filter((n) => !ctx.nodes.has(n));
  if (unknown.length > 0) {
    ctx.logger.warn({ nodes: unknown }, 'some users live on nodes that are not configured (see ARIA2_NODES)');
  }
}

/** The settings that are aria2's global options. */
const LIMIT_KEYS = ['max_concurrent_downloads', 'max_overall_download_limit', 'seed_ratio', 'seed_time_min'];

/**
 * On PostgreSQL, links this instance's events to the other instances' (LISTEN/NOTIFY on one channel):
 * what happens on one reaches the sockets of every one. A settings change elsewhere is read again
 * here (`applied` pushes aria2's limits where this instance drives a node), and after the listening
 * connection comes back, as changes may have been missed meanwhile. On SQLite there is one instance.
 */
async function linkInstances(
  ctx: ServiceContext,
  instanceId: string,
  applied: (patch: Partial<Settings>) => void,
): Promise<NotifyChannel | null> {
  const { config, db, events, settings, logger } = ctx;
  if (config.database.kind !== 'postgres') return null;
  const reload = () =>
    settings
      .reload()
      .then(applied)
      .catch((err) => logger.warn({ err: String(err) }, 'could not read the settings again'));
  const channel = await openNotifyChannel(db, config.database.url, {
    message: (text) => events.receive(text),
    listening: () => void reload(),
    error: (err) => logger.warn({ err: String(err) }, 'lost the connection that hears the other instances'),
  });
  events.connect({
    origin: instanceId,
    maxBytes: MAX_NOTIFY_BYTES,
    send: (message) => channel.send(message),
    readRows: (ids) => rowsByIds(db, ids),
    failed: (err) => logger.warn({ err: String(err) }, 'an event to or from another instance was lost'),
  });
  settings.announce = (keys) => events.emit('settings_changed', { origin: instanceId, keys });
  events.on('settings_changed', (changed) => {
    if (changed.origin !== instanceId) void reload();
  });
  return channel;
}

/** Whether an aria2 RPC URL points at this machine (so aria2 can reach the loopback proxy). */
function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
