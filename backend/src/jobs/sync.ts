import type { DownloadEvent, NodeName } from '../gateway/types.js';
import type { Admission } from '../services/admission.js';
import type { ServiceContext } from '../services/context.js';
import type { SyncService, TaskRow } from '../services/sync.js';
import type { HandOverTracker } from '../services/tasks/tracker.js';

export { MISPLACED_ERROR } from '../services/sync.js';

/** How often progress is refreshed while anything runs. */
const POLL_INTERVAL_MS = 1000;

/**
 * The sync engine of one node: its schedule (its passes are in services/sync.ts, one SyncService per
 * node as well):
 * - a full reconcile on every (re)connection to the daemon;
 * - notifications are hints: the gids they name get a targeted pass, those arriving together share one;
 * - while anything is active or waiting, a progress pass a second; nothing is polled while nothing runs.
 * Passes never overlap: each waits for the one before.
 */
export class SyncEngine {
  private pollTimer: NodeJS.Timeout | null = null;
  /**
   * The targeted pass asked for by this turn's notifications (those of one read of the daemon's socket
   * share it). No timer: a finished download's owner waits for it, and the daemon may stop answering
   * right after it notified (a save of its control files; BENCHMARKS.md, "Event latency and aria2's
   * saves"). Notifications that come while a pass runs fold into the next one anyway (passes never
   * overlap).
   */
  private pendingRefresh: NodeJS.Immediate | null = null;
  private readonly dirty = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = true;
  private readonly onConnected = () => this.enqueue(() => this.passes.reconcile());
  private readonly onDownload = (e: DownloadEvent) => this.markDirty(e.gid);
  private readonly onTaskUpdate = (row: TaskRow) => {
    if (row.node !== this.passes.node) return;
    if ((row.status === 'active' || row.status === 'waiting') && !this.passes.busy) {
      this.passes.busy = true;
      this.schedulePoll();
    }
  };

  constructor(
    private readonly ctx: ServiceContext,
    private readonly passes: SyncService,
    /** Re-read before every pass: what other instances are handing over right now. */
    private readonly handingOver: Pick<HandOverTracker, 'refresh'>,
  ) {}

  get node(): NodeName {
    return this.passes.node;
  }

  private get gateway() {
    return this.ctx.nodes.gatewayFor(this.passes.node);
  }

  /** Whether it drives its node now (between start and stop). */
  get running(): boolean {
    return !this.stopped;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.gateway.on('connected', this.onConnected);
    this.gateway.on('download', this.onDownload);
    this.ctx.events.on('task_update', this.onTaskUpdate);
    if (this.gateway.connected) this.onConnected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gateway.off('connected', this.onConnected);
    this.gateway.off('download', this.onDownload);
    this.ctx.events.off('task_update', this.onTaskUpdate);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.pendingRefresh) clearImmediate(this.pendingRefresh);
    this.pollTimer = null;
    this.pendingRefresh = null;
    await this.chain;
  }

  /** Schedules a targeted pass for a gid (notifications arriving together share one pass). */
  private markDirty(gid: string): void {
    if (this.stopped) return;
    this.dirty.add(gid);
    if (!this.pendingRefresh) {
      this.pendingRefresh = setImmediate(() => {
        this.pendingRefresh = null;
        this.enqueue(() => {
          const gids = [...this.dirty];
          this.dirty.clear();
          return this.passes.refresh(gids);
        });
      });
    }
  }

  /**
   * Queues a pass after the one under way. A pass may name gids to look at again (rows that were being
   * handed over meanwhile); afterwards the poll runs if anything runs.
   */
  private enqueue(pass: () => Promise<readonly string[]>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.stopped || !this.gateway.connected) return;
      try {
        await this.handingOver.refresh();
        const again = await pass();
        for (const gid of again) this.markDirty(gid);
      } catch (err) {
        this.ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'sync pass failed');
      }
      if (this.passes.busy) this.schedulePoll();
    });
    return this.chain;
  }

  /** Runs a full reconcile now (tests and start-up use it to wait for a settled state). */
  reconcileNow(): Promise<void> {
    return this.enqueue(() => this.passes.reconcile());
  }

  /** Runs one progress pass now. */
  pollNow(): Promise<void> {
    return this.enqueue(() => this.passes.poll());
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.enqueue(() => this.passes.poll());
    }, POLL_INTERVAL_MS);
  }
}

/**
 * Every node's sync engine. Each node is driven on its own: `start(node)` and `stop(node)` are the seam
 * where one instance of several takes or gives up driving a node (`drives(node)` says whether it does).
 * `start()` and `stop()` without a node drive or release them all, with the fair admission, which
 * follows the same events.
 */
export class SyncEngines {
  private readonly engines = new Map<NodeName, SyncEngine>();

  constructor(
    engines: readonly SyncEngine[],
    private readonly admission: Pick<Admission, 'start' | 'stop'>,
  ) {
    for (const e of engines) this.engines.set(e.node, e);
  }

  /** The engine of a node (tests drive its passes). */
  of(node: NodeName): SyncEngine {
    const e = this.engines.get(node);
    if (!e) throw new Error(`No sync engine for node ${node}`);
    return e;
  }

  drives(node: NodeName): boolean {
    return this.engines.get(node)?.running ?? false;
  }

  /** Starts driving one node, or (without) the admission and every node. */
  start(node?: NodeName): void {
    if (node !== undefined) {
      this.of(node).start();
      return;
    }
    this.admission.start();
    for (const e of this.engines.values()) e.start();
  }

  /** Stops driving one node, or (without) every node and the admission. */
  async stop(node?: NodeName): Promise<void> {
    if (node !== undefined) return this.of(node).stop();
    await Promise.all([...this.engines.values()].map((e) => e.stop()));
    await this.admission.stop();
  }

  /** A full reconcile of every node driven here (tests and start-up wait for a settled state). */
  async reconcileNow(): Promise<void> {
    await Promise.all([...this.engines.values()].filter((e) => e.running).map((e) => e.reconcileNow()));
  }

  /** One progress pass of every node driven here. */
  async pollNow(): Promise<void> {
    await Promise.all([...this.engines.values()].filter((e) => e.running).map((e) => e.pollNow()));
  }
}
