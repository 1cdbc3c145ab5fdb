import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../db/index.js';
import { leaseHolder, releaseLease, takeLease } from '../repositories/leases.js';
import type { Logger } from './logger.js';

/** A lease lapses this long after its last renewal: another instance takes over within it plus a renewal. */
export const LEASE_TTL_MS = 10_000;
/** How often the holder renews and the others try to take it. */
export const LEASE_RENEW_MS = 3_000;

/**
 * A random id for this controller process, the holder of its leases and hand-over marks:
 * `<host>/<pid>/<random>`. The host and pid let a controller restarted on the same machine see that the
 * holder it replaces is gone and take its leases at once instead of waiting for them to lapse.
 */
export function newInstanceId(): string {
  return `${os.hostname()}/${process.pid}/${randomBytes(12).toString('base64url')}`;
}

/** The name of the lease whose holder drives a node's sync. */
export const syncLeaseName = (node: string): string => `sync:${node}`;

/** Whether an instance id names a process of this machine that no longer runs. */
export function isGoneLocalInstance(id: string): boolean {
  const [host, pidText, random] = id.split('/');
  const pid = Number(pidText);
  if (host !== os.hostname() || !random || !Number.isInteger(pid) || pid <= 0) return false;
  // Our own pid with another random part: this process replaced it (a container's pid 1 restarted).
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LeaseHooks {
  /** This instance now holds the lease: start driving. */
  gained(): Promise<void> | void;
  /** This instance no longer holds it (taken, lapsed, or closing): stop driving. */
  lost(): Promise<void> | void;
}

export interface LeaseOptions {
  ttlMs?: number;
  renewMs?: number;
  /**
   * Only tests give a clock for the expiry; otherwise it is the database's, so instances whose clocks
   * disagree still agree on when a lease lapses.
   */
  now?: () => number;
}

/** A clock that only goes forward, for how long this process may drive since its last renewal. */
const elapsedMs = () => performance.now();

/**
 * Holds one named lease in the database whenever it can: one instance at a time drives what the lease
 * names (a node's sync). The holder renews it every few seconds; the others try to take it as often,
 * and one of them gets it once it lapses. A holder that cannot reach the database stops driving before
 * its lease could lapse, so two instances never drive at once. Gained and lost run one at a time.
 */
export class Lease {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;
  private heldUntil = 0;
  /** Whether this instance holds the lease (and drives) now. */
  held = false;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly now: (() => number) | null;

  constructor(
    private readonly db: Db,
    readonly name: string,
    private readonly holder: string,
    private readonly hooks: LeaseHooks,
    private readonly logger: Logger,
    options: LeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.renewMs = options.renewMs ?? LEASE_RENEW_MS;
    this.now = options.now ?? null;
  }

  /** Starts trying for the lease; resolves after the first try (held or not). */
  start(): Promise<void> {
    this.stopped = false;
    return this.tick();
  }

  /** Stops driving and gives the lease up, so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    if (!this.held) return;
    await this.lose();
    await releaseLease(this.db, this.name, this.holder).catch((err) =>
      this.logger.warn(
        { lease: this.name, err: String(err) },
        'could not release a lease; it lapses by itself',
      ),
    );
  }

  private tick(): Promise<void> {
    this.running = this.running.then(async () => {
      if (this.stopped) return;
      const at = this.now?.() ?? null;
      const askedAt = elapsedMs();
      let ours: boolean | null = null;
      try {
        ours = await takeLease(this.db, this.name, this.holder, at, this.ttlMs);
        if (!ours) {
          const current = await leaseHolder(this.db, this.name, at);
          if (current && current !== this.holder && isGoneLocalInstance(current)) {
            ours = await takeLease(this.db, this.name, this.holder, at, this.ttlMs, current);
          }
        }
      } catch (err) {
        this.logger.warn({ lease: this.name, err: String(err) }, 'could not renew a lease');
      }
      if (ours) {
        // Counted from before the statement: the expiry it wrote is no earlier than that.
        this.heldUntil = askedAt + this.ttlMs;
        if (!this.held && !this.stopped) {
          this.held = true;
          this.logger.info({ lease: this.name }, 'took the lease: this instance drives it now');
          await this.run('gained');
        }
      } else if (this.held && (ours === false || elapsedMs() + this.renewMs >= this.heldUntil)) {
        // Taken by another, or the database is away so long that the lease may lapse before the next try.
        this.logger.warn({ lease: this.name }, 'lost the lease: another instance drives it now');
        await this.lose();
      }
      if (!this.stopped) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.tick();
        }, this.renewMs);
      }
    });
    return this.running;
  }

  private async lose(): Promise<void> {
    this.held = false;
    await this.run('lost');
  }

  private async run(hook: keyof LeaseHooks): Promise<void> {
    try {
      await this.hooks[hook]();
    } catch (err) {
      this.logger.warn({ lease: this.name, err: String(err) }, `a lease's ${hook} hook failed`);
    }
  }
}
