/** Shared pieces of the benchmarks: timing, medians, and the results table. */

export interface Figure {
  key: string;
  what: string;
  unit: string;
  target: string;
  /** Every run's value; the reported figure is their median. */
  runs: number[];
}

/** The value below which `p` percent of `values` lie (the nearest rank). */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function printTable(figures: Figure[]): void {
  const rows = figures.map((f) => [
    f.key,
    `${round(median(f.runs))} ${f.unit}`,
    `${round(Math.min(...f.runs))}`,
    `${round(Math.max(...f.runs))}`,
    f.target,
    f.what,
  ]);
  const header = ['key', 'median', 'min', 'max', 'target', 'what'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

export function resultsObject(figures: Figure[]): Record<string, number> {
  return Object.fromEntries(figures.map((f) => [f.key, round(median(f.runs))]));
}
