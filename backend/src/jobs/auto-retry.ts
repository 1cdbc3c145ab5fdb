import type { AutoRetryService } from '../services/auto-retry.js';
import type { Logger } from '../services/context.js';
import type { ControllerEvents, TaskRow } from '../services/events.js';

/** The longest sleep between looks at the plans (a plan made by another instance is seen by then). */
const MAX_SLEEP_MS = 30_000;

/**
 * The auto-retry scheduler: plans failures as they are stored (and at start, for any a crash left
 * unplanned), and wakes when the earliest plan is due. Plans live in the database, so a restart of the
 * controller or of aria2 loses none.
 */
export class AutoRetryJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private readonly onUpdate = (row: TaskRow) => {
    if (this.service.mayNeedPlan(row)) this.soon();
  };

  constructor(
    private readonly service: AutoRetryService,
    private readonly events: ControllerEvents,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.events.on('task_update', this.onUpdate);
    this.soon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.events.off('task_update', this.onUpdate);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** A pass as soon as possible (coalesced: one runs at a time, one more follows if asked meanwhile). */
  soon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass().finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.soon();
        } else void this.sleep();
      });
    }, 0);
  }

  /** Runs one pass now and waits for it (tests, and after a settings change). */
  async runNow(): Promise<void> {
    await this.running;
    await this.pass();
  }

  private async pass(): Promise<void> {
    try {
      await this.service.planPending();
      await this.service.runDue();
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'auto-retry pass failed; trying again later');
    }
  }

  private async sleep(): Promise<void> {
    if (this.stopped) return;
    let wait = MAX_SLEEP_MS;
    try {
      const next = await this.service.nextPlanAt();
      if (next) wait = Math.min(MAX_SLEEP_MS, Math.max(0, Date.parse(next) - Date.now()) + 50);
    } catch {
      // The database is away: look again later.
    }
    if (this.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.soon();
    }, wait);
  }
}
