import type { Db } from '../../db/index.js';
import {
  listOthersHandOvers,
  markHandOvers,
  type StoredMark,
  unmarkHandOvers,
} from '../../repositories/hand-overs.js';
import { isGoneLocalInstance } from '../leases.js';

/**
 * How long a hand-over mark holds in the database: far longer than a hand-over takes, short enough
 * that a crashed instance's marks lapse soon.
 */
export const HAND_OVER_TTL_MS = 2 * 60 * 1000;

/**
 * Task ids being handed to aria2 (or taken out of it) right now: the sync engine and the admission
 * leave them alone, so a download that is half handed over is neither re-added nor let in twice.
 * One tracker is shared by every service of an instance that hands over or forgets downloads; where
 * several instances share the database (`shared`), the marks are also written to it, so the instance
 * that drives a node's sync leaves alone what another instance is handing over. The set holds this
 * instance's marks; `has` and `size` also count the other instances' marks as last read by `refresh`
 * (before every sync pass).
 */
export class HandOverTracker extends Set<number> {
  private others: ReadonlySet<number> = new Set();

  constructor(
    private readonly db: Db,
    /** This instance's id (the holder of its marks). */
    private readonly holder: string,
    /** Only tests give a clock: the marks' expiry is on the database's clock otherwise. */
    private readonly now: (() => number) | null = null,
    /**
     * Whether other instances may hand over on this database. A lone instance (SQLite: the admission
     * and the sync are locked across instances on PostgreSQL only) keeps its marks in memory and
     * saves a write and a delete per hand-over; the others' marks are still read.
     */
    private readonly shared = true,
  ) {
    super();
  }

  override has(id: number): boolean {
    return super.has(id) || this.others.has(id);
  }

  override get size(): number {
    let n = super.size;
    for (const id of this.others) if (!super.has(id)) n++;
    return n;
  }

  /**
   * Marks `ids` here and in the database before anything is handed over; `db` may be the transaction
   * that creates the rows, so no other instance ever sees them unmarked.
   */
  async mark(ids: readonly number[], db: Db = this.db): Promise<void> {
    for (const id of ids) this.add(id);
    if (this.shared) await markHandOvers(db, ids, this.holder, HAND_OVER_TTL_MS, this.now?.() ?? null);
  }

  /**
   * The database's mark for rows a statement inserts, written by that statement (one round trip fewer;
   * none when the marks are kept in memory only); `markedWith(ids)` right after it, in the same
   * transaction, so no other instance ever sees the rows unmarked.
   */
  markToStore(): StoredMark | null {
    return this.shared ? { holder: this.holder, ttlMs: HAND_OVER_TTL_MS, now: this.now?.() ?? null } : null;
  }

  /** Marks `ids` here, whose marks in the database a statement wrote already (`markToStore`). */
  markedWith(ids: readonly number[]): void {
    for (const id of ids) this.add(id);
  }

  /**
   * Unmarks `ids`; a failure to unmark in the database only delays the others (the mark lapses).
   * `stored: false`: the database's marks went already (`unmarkStored`).
   */
  async unmark(ids: readonly number[], { stored = true }: { stored?: boolean } = {}): Promise<void> {
    for (const id of ids) this.delete(id);
    if (this.shared && stored) await unmarkHandOvers(this.db, ids, this.holder).catch(() => undefined);
  }

  /**
   * Removes the database's marks of `ids` in `trx`, the transaction that records their outcome (one
   * round trip fewer); this instance's own marks stay until `unmark` after it commits.
   */
  async unmarkStored(ids: readonly number[], trx: Db): Promise<void> {
    if (this.shared) await unmarkHandOvers(trx, ids, this.holder);
  }

  /**
   * The database's marks of `ids` for a statement that removes them with the outcome it records
   * (none when the marks are kept in memory only); `unmark(ids, { stored: false })` after it.
   */
  storedMarks(ids: readonly number[]): { ids: readonly number[]; holder: string } | null {
    return this.shared ? { ids, holder: this.holder } : null;
  }

  /** Runs `fn` with `ids` marked, unmarking them afterwards whatever happens. */
  async around<T>(ids: readonly number[], fn: () => Promise<T>): Promise<T> {
    try {
      await this.mark(ids);
      return await fn();
    } finally {
      await this.unmark(ids);
    }
  }

  /** Reads which tasks the other instances are handing over now. */
  async refresh(): Promise<void> {
    this.others = new Set(await this.othersNow());
  }

  /** The tasks other live instances are handing over (a gone process's marks of this machine do not count). */
  async othersNow(): Promise<number[]> {
    const marks = await listOthersHandOvers(this.db, this.holder, this.now?.() ?? null);
    return marks.filter((m) => !isGoneLocalInstance(m.holder)).map((m) => m.task_id);
  }
}
