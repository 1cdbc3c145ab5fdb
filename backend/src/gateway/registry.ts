import { type DaemonHealth, type DownloadGateway, GatewayError, LOCAL_NODE, type NodeName } from './types.js';

/**
 * The download daemons the controller drives, by node name. Services and jobs ask it for the gateway of
 * a task's node instead of holding one daemon; today there is one node, `local`.
 */
export class NodeRegistry {
  private readonly nodes = new Map<NodeName, DownloadGateway>();

  constructor(gateways: readonly DownloadGateway[]) {
    for (const g of gateways) {
      if (this.nodes.has(g.node)) throw new Error(`Two download daemons are named ${g.node}`);
      this.nodes.set(g.node, g);
    }
    if (!this.nodes.has(LOCAL_NODE)) throw new Error(`No download daemon is named ${LOCAL_NODE}`);
  }

  /** The gateway of a node; a node that is not configured fails as an unavailable daemon. */
  gatewayFor(node: NodeName): DownloadGateway {
    const g = this.nodes.get(node);
    if (!g) throw new GatewayError(node, 'find node', 'unavailable', 'no such node is configured');
    return g;
  }

  /** The gateway of the node a task runs on. */
  forTask(row: { node: NodeName }): DownloadGateway {
    return this.gatewayFor(row.node);
  }

  /** The node new tasks go to. */
  get local(): DownloadGateway {
    return this.nodes.get(LOCAL_NODE)!;
  }

  list(): DownloadGateway[] {
    return [...this.nodes.values()];
  }

  /** The health of every node, each named. */
  health(): (DaemonHealth & { node: NodeName })[] {
    return this.list().map((g) => ({ node: g.node, ...g.health() }));
  }
}
