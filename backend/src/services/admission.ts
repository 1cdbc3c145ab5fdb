import { whileLocked } from '../db/dialect.js';
import { chooseAdmissions, type HeldDownload } from '../domain/admission.js';
import type { DownloadGateway } from '../gateway/types.js';
import type { AdmissionRow, TaskRow } from '../repositories/tasks.js';
import * as repo from '../repositories/tasks.js';
import type { ServiceContext } from './context.js';
import { ignored } from './ignored.js';

/** Changes arriving together (a batch, a pass of the sync engine) share one admission pass. */
const SOON_MS = 20;
/** A pass that had to leave rows alone (still being handed over) looks again after this long. */
const AGAIN_MS = 200;

/**
 * Fair admission to aria2's download slots. aria2 cannot limit per user and starts waiting downloads in
 * its queue order whoever they belong to, so every download is handed to aria2 paused and held (the
 * row shows `waiting`, `held_for` set); an admission pass unpauses as many as there are free slots
 * (`max_concurrent_downloads`, per daemon: each node has its own) and per-user room (`max_active_per_user`), round-robin over the users
 * who wait (domain/admission.ts). Held downloads survive restarts: aria2's session keeps them paused.
 *
 * A pass runs after adds, retries and resumes (awaited, so the answer shows the outcome), after any
 * task leaves the running set (completion, failure, pause, stop, deletion), after a settings change,
 * and after the sync engine's reconcile on every (re)connection.
 */
export class Admission {
  private chain: Promise<void> = Promise.resolve();
  private pending: Promise<ReadonlyMap<number, TaskRow>> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  /** Set while the pass emits its own updates, which need no further pass. */
  private emitting = false;
  private unsubscribe: (() => void) | null = null;
  /** Writes the next pass waits for before it reads the rows (see admitAndRead). */
  private readies: Promise<unknown>[] = [];
  /** Work under way that puts passes off (`deferWhile`), and whether one was asked for meanwhile. */
  private deferring = 0;
  private deferred = false;

  /** A slot may have been freed (a download stopped running) or a held row awaits its first decision. */
  private readonly onTaskUpdate = (row: TaskRow) => {
    if (this.emitting) return;
    if (['complete', 'error', 'removed', 'paused'].includes(row.status)) this.soon();
    else if (row.status === 'waiting' && row.held_for === 'queue') this.soon();
  };
  // A replaced task failed or was stopped, so it held no slot; its retry runs a pass of its own.
  private readonly onTaskRemoved = (_ownerId: number, _id: number, replacedBy?: number) => {
    if (replacedBy === undefined) this.soon();
  };

  constructor(
    private readonly ctx: ServiceContext,
    /** Rows being handed to aria2 right now: not theirs to decide yet. */
    private readonly handingOver: ReadonlySet<number>,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.ctx.events.on('task_update', this.onTaskUpdate);
    this.ctx.events.on('task_removed', this.onTaskRemoved);
    this.unsubscribe = this.ctx.settings.onChange(async (patch) => {
      if (patch.max_active_per_user !== undefined || patch.max_concurrent_downloads !== undefined) {
        await this.admit();
      }
    });
  }

  async stop(): Promise<void> {
    this.started = false;
    this.ctx.events.off('task_update', this.onTaskUpdate);
    this.ctx.events.off('task_removed', this.onTaskRemoved);
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.chain;
  }

  /**
   * Runs `work` with the passes that would start meanwhile put off until it ends, then one pass: a
   * retry by filter hands over thousands of held rows, and a pass per change (each reading every
   * waiting download of aria2) would cost more than the hand-over itself. Awaited passes still run.
   */
  async deferWhile<T>(work: () => Promise<T>): Promise<T> {
    this.deferring++;
    try {
      return await work();
    } finally {
      this.deferring--;
      if (this.deferring === 0 && this.deferred) {
        this.deferred = false;
        this.soon(0);
      }
    }
  }

  /** A pass shortly (several changes in a row share it). */
  soon(delayMs = SOON_MS): void {
    if (this.deferring > 0) {
      this.deferred = true;
      return;
    }
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A deferral that began after this pass was asked for puts it off too.
      if (this.deferring > 0) this.deferred = true;
      else void this.admit();
    }, delayMs);
  }

  /**
   * Runs a pass after the one under way and resolves when it is done, with the rows it changed (so a
   * caller need not read them again); callers arriving while it waits share it. Passes never overlap.
   * Never rejects: a failed pass is logged (and changed nothing it knows of) and the next one repairs.
   */
  admit(ready?: Promise<unknown>): Promise<ReadonlyMap<number, TaskRow>> {
    if (ready) this.readies.push(ready);
    if (this.pending) return this.pending;
    const next = this.chain.then(async () => {
      this.pending = null;
      const readies = this.readies;
      this.readies = [];
      try {
        return await this.pass(readies);
      } catch (err) {
        this.ctx.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'admission pass failed',
        );
        return new Map<number, TaskRow>();
      }
    });
    this.pending = next;
    this.chain = next.then(() => undefined);
    return next;
  }

  /**
   * Runs a pass and gives `rows` back as they stand after it, for an answer that shows the outcome.
   * `ready`: the rows' own write still under way (their hand-over is in aria2 already); the pass asks
   * aria2 for its lists meanwhile and reads the rows once it is done.
   * A row the pass did not change may have been decided by the pass just before it (one that started
   * while the rows were being handed over): a row still without a reason is read again.
   */
  async admitAndRead(rows: readonly TaskRow[], ready?: Promise<unknown>): Promise<TaskRow[]> {
    const changed = await this.admit(ready);
    const after = rows.map((r) => changed.get(r.id) ?? r);
    const undecided = after.filter((r) => r.status === 'waiting' && r.held_for === 'queue').map((r) => r.id);
    if (undecided.length === 0) return after;
    const read = new Map((await repo.getTasksAnyOwner(this.ctx.db, undecided)).map((r) => [r.id, r]));
    return after.map((r) => read.get(r.id) ?? r);
  }

  /**
   * After aria2 (re)started: a download the rows say runs or waits but aria2 holds paused is one the
   * controller held or was about to hold (aria2 saved its session before the admission let it start).
   * It is held again, not taken for a pause of its owner (an owner's pause is in the row first).
   */
  async holdRestored(pairs: { row: TaskRow; status: { status: string } }[]): Promise<void> {
    const restored = pairs.filter(
      ({ row, status }) =>
        status.status === 'paused' &&
        row.held_for === null &&
        (row.status === 'active' || row.status === 'waiting' || row.status === 'queued'),
    );
    if (restored.length === 0) return;
    await repo.holdRows(
      this.ctx.db,
      restored.map((p) => p.row.id),
    );
    for (const p of restored) p.row.held_for = 'queue';
  }

  /** Each daemon has its own slots: one pass per node, a node that is away left alone. */
  private async pass(readies: readonly Promise<unknown>[] = []): Promise<Map<number, TaskRow>> {
    // Writes the pass must see before it reads the rows (they never fail it: a failed one changed nothing).
    const ready = Promise.all(readies.map((r) => r.catch(() => undefined)));
    // A node's slots are counted then filled: one pass at a time across the instances, or two could
    // both fill the same free slot.
    const results = await Promise.allSettled(
      this.ctx.nodes
        .list()
        .map((g) => whileLocked(this.ctx.db, `admission:${g.node}`, () => this.passOn(g, ready))),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const changed = new Map<number, TaskRow>();
    for (const r of results)
      if (r.status === 'fulfilled') for (const row of r.value) changed.set(row.id, row);
    return changed;
  }

  private async passOn(gateway: DownloadGateway, ready: Promise<unknown>): Promise<TaskRow[]> {
    if (!gateway.connected) return [];
    const snap = await gateway.snapshot({ active: 'state', waiting: 'state' });
    await ready;
    if (!snap.active || !snap.waiting) return [];
    const settings = this.ctx.settings.get();
    type Entry = { gid: string; status?: string; following?: string; seeder?: boolean };
    const active: Entry[] = snap.active;
    const queue: Entry[] = snap.waiting;

    const rows = await repo.listAdmissionRows(this.ctx.db, gateway.node);
    const byGid = new Map<string, AdmissionRow>();
    for (const r of rows) {
      if (r.origin_gid) byGid.set(r.origin_gid, r);
      if (r.gid) byGid.set(r.gid, r);
    }

    // What takes a slot: aria2's active downloads and the unpaused waiting ones it starts next.
    let busy = 0;
    const running = new Map<number, number>();
    const stale: AdmissionRow[] = [];
    const take = (e: Entry) => {
      // A seeding torrent is done for its owner and takes no slot (qBittorrent and Transmission count
      // seeding apart from downloading too; aria2 runs with --bt-detach-seed-only).
      if (e.seeder) return;
      busy++;
      // A torrent's real download follows its metadata download before the row learns its gid.
      const r = byGid.get(e.gid) ?? (e.following ? byGid.get(e.following) : undefined);
      if (!r) return;
      running.set(r.owner_id, (running.get(r.owner_id) ?? 0) + 1);
      // Held in the row but running in aria2 (a pass that stopped half-way): no longer held.
      if (r.held_for !== null && !this.handingOver.has(r.id)) stale.push(r);
    };
    for (const e of active) take(e);
    const held: HeldDownload<AdmissionRow>[] = [];
    let leftAlone = false;
    for (const w of queue) {
      if (w.status !== 'paused') {
        take(w);
        continue;
      }
      const r = byGid.get(w.gid);
      if (!r || r.gid !== w.gid || r.held_for === null) continue;
      if (this.handingOver.has(r.id)) leftAlone = true;
      else if (r.status === 'waiting') held.push({ owner: r.owner_id, key: r });
    }
    // Its hand-over is still being recorded: a pass decides once it is.
    if (leftAlone) this.soon(AGAIN_MS);

    const choice = chooseAdmissions({
      freeSlots: settings.max_concurrent_downloads - busy,
      perUserLimit: settings.max_active_per_user,
      running,
      held,
    });

    const changed: TaskRow[] = [];
    if (choice.admit.length > 0) {
      const unpaused = await gateway.resume(choice.admit.map((r) => r.gid!));
      const repause: string[] = [];
      // Gone or changed meanwhile when aria2 did not unpause it: the sync engine sees to it.
      const letIn = choice.admit.filter((_, i) => unpaused[i]?.ok);
      const released = new Set(
        (
          await repo.updateHeldMany(
            this.ctx.db,
            letIn.map((r) => [r.id, null] as const),
          )
        ).map((r) => {
          changed.push(r);
          return r.id;
        }),
      );
      for (const r of letIn) {
        if (released.has(r.id)) continue;
        // The owner paused (or stopped) it while it was being let in: their word stands.
        const now = await repo.getTask(this.ctx.db, r.owner_id, r.id);
        if (now?.status === 'paused' && now.gid) repause.push(now.gid);
      }
      if (repause.length > 0) {
        await gateway.pause(repause).catch(ignored(this.ctx.logger, 'could not pause downloads again'));
      }
    }
    // The reasons that changed and the stale holds, in one statement per chunk.
    const reasons: (readonly [number, string | null])[] = [];
    for (const [r, reason] of choice.waiting) if (r.held_for !== reason) reasons.push([r.id, reason]);
    for (const r of stale) reasons.push([r.id, null]);
    if (reasons.length > 0) changed.push(...(await repo.updateHeldMany(this.ctx.db, reasons)));

    this.emitting = true;
    try {
      for (const r of changed) this.ctx.events.emit('task_update', r);
    } finally {
      this.emitting = false;
    }
    return changed;
  }
}
