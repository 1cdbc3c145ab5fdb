import path from 'node:path';
import { type DaemonHealth, type DownloadGateway, GatewayError, type NodeName } from './types.js';

/**
 * Where a node's download folder is: `dir` as its daemon sees it (what the daemon is told), `mount` as
 * this controller sees it (what the controller opens). The same folder, so `mount` defaults to `dir`.
 */
export interface NodeFolders {
  dir: string;
  mount: string;
}

export interface NodeEntry {
  gateway: DownloadGateway;
  /** Without: the folders are the single-node set-up's download folder (the storage's default). */
  folders?: NodeFolders;
}

/**
 * The download daemons the controller drives, by node name. Services and jobs ask it for the gateway of
 * a task's (or a user's) node instead of holding one daemon.
 */
export class NodeRegistry {
  private readonly nodes = new Map<NodeName, NodeEntry>();

  constructor(entries: readonly (NodeEntry | DownloadGateway)[]) {
    for (const e of entries) {
      const entry: NodeEntry = 'gateway' in e ? e : { gateway: e };
      if (this.nodes.has(entry.gateway.node))
        throw new Error(`Two download daemons are named ${entry.gateway.node}`);
      this.nodes.set(entry.gateway.node, entry);
    }
    if (this.nodes.size === 0) throw new Error('No download daemon is configured');
  }

  /** The gateway of a node; a node that is not configured fails as an unavailable daemon. */
  gatewayFor(node: NodeName): DownloadGateway {
    const e = this.nodes.get(node);
    if (!e) throw new GatewayError(node, 'find node', 'unavailable', 'no such node is configured');
    return e.gateway;
  }

  /** The gateway of the node a task runs on. */
  forTask(row: { node: NodeName }): DownloadGateway {
    return this.gatewayFor(row.node);
  }

  has(node: NodeName): boolean {
    return this.nodes.has(node);
  }

  /**
   * The first configured node: the only one of a single-node set-up, where it is every user's node.
   * With several nodes nothing picks it by default; users name theirs.
   */
  get first(): DownloadGateway {
    return this.nodes.values().next().value!.gateway;
  }

  /** The node names, in configured order. */
  names(): NodeName[] {
    return [...this.nodes.keys()];
  }

  list(): DownloadGateway[] {
    return [...this.nodes.values()].map((e) => e.gateway);
  }

  /** A node's folders, or null when the registry was built without them (the storage then uses its default). */
  folders(node: NodeName): NodeFolders | null {
    return this.nodes.get(node)?.folders ?? null;
  }

  /** The health of every node, each named. */
  health(): (DaemonHealth & { node: NodeName })[] {
    return this.list().map((g) => ({ node: g.node, ...g.health() }));
  }
}

/** A path the node's daemon reported (under its `dir`) as the controller reaches it (under its `mount`). */
export function toMountPath(folders: NodeFolders, daemonPath: string): string {
  if (folders.dir === folders.mount) return daemonPath;
  const rel = path.relative(folders.dir, daemonPath);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return daemonPath;
  return path.join(folders.mount, rel);
}
