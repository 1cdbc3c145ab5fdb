import type { Db } from '../db/index.js';
import type { DaemonOptions, NodeName } from '../gateway/types.js';
import {
  type ProxyEntry,
  proxyOfLeaseHolder,
  registerProxy,
  removeProxy,
  removeUnusedProxies,
} from '../repositories/egress-proxies.js';
import type { EgressProxy } from './proxy.js';

/** Where a download handed to a node's aria2 gets its proxy options, at the moment it is handed over. */
export interface DownloadOptionsSource {
  optionsFor(node: NodeName): Promise<DaemonOptions | undefined>;
}

/** aria2's options for a proxy; tunnel: plain HTTP and FTP (its passive data connections too) arrive as CONNECT like HTTPS. */
export function proxyOptions(proxy: ProxyEntry): Record<string, string> {
  return {
    'all-proxy': proxy.url,
    'all-proxy-user': proxy.username,
    'all-proxy-passwd': proxy.password,
    'proxy-method': 'tunnel',
  };
}

/**
 * The egress proxies of several instances, per node: every download of a node goes through the proxy
 * of the instance that drives the node (holds its lease), whichever instance hands it over, so an
 * instance that dies takes no download's connections with it unless it drove that node; the instance
 * that takes the node over then points the node's downloads at its own proxy
 * (`services/handover.ts`, `repointDownloads`). Each instance's proxy, with its credentials, is in the
 * database for the others to hand over with. Nodes not on loopback cannot reach a loopback proxy and
 * get none (SECURITY.md, "Network").
 */
export class NodeEgress implements DownloadOptionsSource {
  /** This instance's own proxy, as aria2 options. */
  readonly own: DaemonOptions;

  constructor(
    private readonly db: Db,
    private readonly instanceId: string,
    private readonly proxy: EgressProxy,
    /** The nodes whose aria2 is on loopback and uses the proxies. */
    private readonly proxied: ReadonlySet<NodeName>,
    private readonly leaseOf: (node: NodeName) => string,
  ) {
    this.own = proxyOptions(this.entry());
  }

  private entry(): ProxyEntry {
    return { url: this.proxy.url, username: this.proxy.user, password: this.proxy.password };
  }

  /** Whether a node's downloads go through a proxy. */
  proxies(node: NodeName): boolean {
    return this.proxied.has(node);
  }

  /** Records this instance's proxy (at start, and whenever it takes a lease: the others read it then). */
  async register(): Promise<void> {
    await registerProxy(this.db, this.instanceId, this.entry());
  }

  /** At start: records this proxy and forgets those of instances that are gone. */
  async start(): Promise<void> {
    await removeUnusedProxies(this.db, this.instanceId);
    await this.register();
  }

  async stop(): Promise<void> {
    await removeProxy(this.db, this.instanceId);
  }

  /**
   * The proxy options for a download handed to `node` now: the driving instance's proxy, or this one's
   * while nobody drives it (the one that takes it over points the downloads at its own).
   */
  async optionsFor(node: NodeName): Promise<DaemonOptions | undefined> {
    if (!this.proxied.has(node)) return undefined;
    // A database that does not answer leaves this instance's proxy: guarded all the same.
    const driver = await proxyOfLeaseHolder(this.db, this.leaseOf(node)).catch(() => null);
    return driver ? proxyOptions(driver) : this.own;
  }
}
