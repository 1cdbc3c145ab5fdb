import type { DownloadEvent } from '../gateway/types.js';
import type { Admission } from '../services/admission.js';
import type { ServiceContext } from '../services/context.js';
import type { SyncService, TaskRow } from '../services/sync.js';
import type { HandOverTracker } from '../services/tasks/tracker.js';

export { MISPLACED_ERROR } from '../services/sync.js';

/** How often progress is refreshed while anything runs. */
const POLL_INTERVAL_MS = 1000;
/** Notifications arriving together are folded into one targeted pass. */
const NOTIFY_DEBOUNCE_MS = 20;

/**
 * The sync engine's schedule (its passes are in services/sync.ts):
 * - a full reconcile on every (re)connection to the daemon;
 * - notifications are hints: the gids they name get a targeted pass, those arriving together share one;
 * - while anything is active or waiting, a progress pass a second; nothing is polled while nothing runs.
 * Passes never overlap: each waits for the one before.
 */
export class SyncEngine {
  private pollTimer: NodeJS.Timeout | null = null;
  private notifyTimer: NodeJS.Timeout | null = null;
  private readonly dirty = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  private readonly onConnected = () => this.enqueue(() => this.passes.reconcile());
  private readonly onDownload = (e: DownloadEvent) => this.markDirty(e.gid);
  private readonly onTaskUpdate = (row: TaskRow) => {
    if ((row.status === 'active' || row.status === 'waiting') && !this.passes.busy) {
      this.passes.busy = true;
      this.schedulePoll();
    }
  };

  constructor(
    private readonly ctx: ServiceContext,
    private readonly passes: SyncService,
    /** Runs while the engine runs: it follows the same events. */
    private readonly admission: Pick<Admission, 'start' | 'stop'>,
    /** Re-read before every pass: what other instances are handing over right now. */
    private readonly handingOver: Pick<HandOverTracker, 'refresh'>,
  ) {}

  private get gateway() {
    return this.ctx.nodes.local;
  }

  start(): void {
    this.stopped = false;
    this.gateway.on('connected', this.onConnected);
    this.gateway.on('download', this.onDownload);
    this.ctx.events.on('task_update', this.onTaskUpdate);
    this.admission.start();
    if (this.gateway.connected) this.onConnected();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gateway.off('connected', this.onConnected);
    this.gateway.off('download', this.onDownload);
    this.ctx.events.off('task_update', this.onTaskUpdate);
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    this.pollTimer = null;
    this.notifyTimer = null;
    await this.running;
    await this.admission.stop();
  }

  /** Schedules a targeted pass for a gid (notifications arriving together share one pass). */
  private markDirty(gid: string): void {
    if (this.stopped) return;
    this.dirty.add(gid);
    if (!this.notifyTimer) {
      this.notifyTimer = setTimeout(() => {
        this.notifyTimer = null;
        this.enqueue(() => {
          const gids = [...this.dirty];
          this.dirty.clear();
          return this.passes.refresh(gids);
        });
      }, NOTIFY_DEBOUNCE_MS);
    }
  }

  /**
   * Queues a pass after the one under way. A pass may name gids to look at again (rows that were being
   * handed over meanwhile); afterwards the poll runs if anything runs.
   */
  private enqueue(pass: () => Promise<readonly string[]>): Promise<void> {
    this.running = this.running.then(async () => {
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
    return this.running;
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
