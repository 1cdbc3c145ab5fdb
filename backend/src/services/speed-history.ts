/** One second of a running task: when (ISO time), and its download and upload speeds. */
export interface SpeedSample {
  t: string;
  down: number;
  up: number;
}

/** Samples kept per task: five minutes at one a second. */
export const SPEED_HISTORY_SAMPLES = 300;

/**
 * One task's samples in a ring: its times (one string per pass, shared by every task of that pass) and
 * its speeds in one typed array, so recording a second allocates nothing. A thousand running tasks kept
 * five minutes of sample objects each, 300,000 long-lived objects that every full garbage collection
 * walked and every pass added to.
 */
interface Ring {
  times: string[];
  /** Download and upload speed of sample i at 2i and 2i + 1. */
  speeds: Float64Array;
  /** Where the oldest sample is, and how many there are. */
  start: number;
  size: number;
}

/**
 * A short in-memory history of each running task's speed, so the task page's chart starts with the
 * last few minutes. Bounded per task; a task that stops running loses its history (nothing to chart).
 */
export class SpeedHistory {
  private readonly byTask = new Map<number, Ring>();

  record(id: number, down: number, up: number, t: string): void {
    let ring = this.byTask.get(id);
    if (!ring) {
      ring = { times: [], speeds: new Float64Array(2 * SPEED_HISTORY_SAMPLES), start: 0, size: 0 };
      this.byTask.set(id, ring);
    }
    let at: number;
    const last = (ring.start + ring.size - 1) % SPEED_HISTORY_SAMPLES;
    // One sample a second: a second pass within the same second replaces the last one.
    if (ring.size > 0 && ring.times[last] === t) at = last;
    else if (ring.size < SPEED_HISTORY_SAMPLES) at = (ring.start + ring.size++) % SPEED_HISTORY_SAMPLES;
    else {
      at = ring.start;
      ring.start = (ring.start + 1) % SPEED_HISTORY_SAMPLES;
    }
    ring.times[at] = t;
    ring.speeds[2 * at] = down;
    ring.speeds[2 * at + 1] = up;
  }

  get(id: number): SpeedSample[] {
    const ring = this.byTask.get(id);
    if (!ring) return [];
    const out: SpeedSample[] = [];
    for (let i = 0; i < ring.size; i++) {
      const at = (ring.start + i) % SPEED_HISTORY_SAMPLES;
      out.push({ t: ring.times[at]!, down: ring.speeds[2 * at]!, up: ring.speeds[2 * at + 1]! });
    }
    return out;
  }

  drop(id: number): void {
    this.byTask.delete(id);
  }
}
