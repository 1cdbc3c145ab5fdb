/** One second of a running task: when (ISO time), and its download and upload speeds. */
export interface SpeedSample {
  t: string;
  down: number;
  up: number;
}

/** Samples kept per task: five minutes at one a second. */
export const SPEED_HISTORY_SAMPLES = 300;

/**
 * A short in-memory history of each running task's speed, so the task page's chart starts with the
 * last few minutes. Bounded per task; a task that stops running loses its history (nothing to chart).
 */
export class SpeedHistory {
  private readonly byTask = new Map<number, SpeedSample[]>();

  record(id: number, down: number, up: number, t: string): void {
    let list = this.byTask.get(id);
    if (!list) {
      list = [];
      this.byTask.set(id, list);
    }
    // One sample a second: a second pass within the same second replaces the last one.
    if (list.length > 0 && list[list.length - 1]!.t === t) list[list.length - 1] = { t, down, up };
    else list.push({ t, down, up });
    if (list.length > SPEED_HISTORY_SAMPLES) list.splice(0, list.length - SPEED_HISTORY_SAMPLES);
  }

  get(id: number): SpeedSample[] {
    return [...(this.byTask.get(id) ?? [])];
  }

  drop(id: number): void {
    this.byTask.delete(id);
  }
}
