import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { DownloadOptionsSource } from '../egress/node-proxies.js';
import type { NodeRegistry } from '../gateway/registry.js';
import type { DaemonOptions, NodeName } from '../gateway/types.js';
import type { ControllerEvents } from './events.js';
import type { Logger } from './logger.js';
import type { SettingsService } from './settings.js';

export type { Logger } from './logger.js';

/** What every service may use. Built once by the composition root; tests build it with real parts too. */
export interface ServiceContext {
  config: Config;
  db: Db;
  /** This controller process's random id: it holds leases and hand-over marks under it. */
  instanceId: string;
  /** The download daemons by node: the gateway of a task's node (`nodes.forTask(row)`). */
  nodes: NodeRegistry;
  events: ControllerEvents;
  settings: SettingsService;
  logger: Logger;
  /**
   * Added to every download handed to a node's aria2: the egress proxy for an external aria2 on
   * loopback (by node; or read per hand-over, egress/node-proxies.ts).
   */
  downloadOptions?: Readonly<Record<NodeName, DaemonOptions>> | DownloadOptionsSource;
}

/** The user a request acts for; services take it first. */
export interface Actor {
  id: number;
  username: string;
  is_admin: boolean;
  quota: number;
}
