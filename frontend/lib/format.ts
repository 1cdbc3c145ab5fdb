/**
 * Formatters for sizes, speeds, durations and times, in the reader's language (numbers and dates by
 * Intl). Sizes keep binary units (KiB, MiB, GiB) in every language.
 */
import { intlLocale, t } from './i18n';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
export const GIB = 1024 ** 3;

/** A number with a fixed count of decimals, in the reader's locale (no grouping: `1023 B`). */
function fixed(value: number, digits: number): string {
  return new Intl.NumberFormat(intlLocale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
    useGrouping: false,
  }).format(value);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${fixed(Math.round(bytes), 0)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${fixed(value, digits)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || bytesPerSecond < 0) return `${fixed(0, 0)} B/s`;
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds as `2d 3h`, `1h 02m`, `3m 05s`, `45s` (`2天3小时`, `3分05秒` in Chinese). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return t('format.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('format.minutesSeconds', { m, s: two(s % 60) });
  const h = Math.floor(m / 60);
  if (h < 24) return t('format.hoursMinutes', { h, m: two(m % 60) });
  const d = Math.floor(h / 24);
  if (d < 100) return t('format.daysHours', { d, h: h % 24 });
  return t('format.days', { d });
}

interface Progressing {
  total_length: number;
  completed_length: number;
  download_speed: number;
}

/** 0..1; 0 while the size is unknown. */
export function progressOf(task: Progressing & { status?: string }): number {
  if (task.status === 'complete') return 1;
  if (!task.total_length || task.total_length <= 0) return 0;
  return Math.min(1, Math.max(0, task.completed_length / task.total_length));
}

/** Seconds left at the current speed, or null when it cannot be known. */
export function timeLeft(task: Progressing): number | null {
  const remaining = task.total_length - task.completed_length;
  if (task.total_length <= 0 || remaining <= 0 || task.download_speed <= 0) return null;
  return remaining / task.download_speed;
}

export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  if (pct >= 100) return '100%';
  if (pct > 0 && pct < 0.1) return '<0.1%';
  return `${fixed(pct, pct < 10 ? 1 : 0)}%`;
}

/** An ISO time as the reader's local date and time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(intlLocale(), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Bytes as a number of GiB (1024³, as the API counts them), rounded to two decimals. */
export function bytesToGb(bytes: number): number {
  return Math.round((bytes / GIB) * 100) / 100;
}

export function gbToBytes(gb: number): number {
  return Math.round(gb * GIB);
}

/** What a number-and-unit input holds: sizes (bytes) or speeds (bytes per second). */
export type UnitKind = 'size' | 'speed';

/** The units a picker offers, smallest first; the same binary units in every language. */
export const UNIT_CHOICES: Readonly<Record<UnitKind, readonly { symbol: string; factor: number }[]>> = {
  size: [
    { symbol: 'KiB', factor: 1024 },
    { symbol: 'MiB', factor: 1024 ** 2 },
    { symbol: 'GiB', factor: 1024 ** 3 },
    { symbol: 'TiB', factor: 1024 ** 4 },
  ],
  speed: [
    { symbol: 'KiB/s', factor: 1024 },
    { symbol: 'MiB/s', factor: 1024 ** 2 },
  ],
};

/** The unit a new, empty or zero value starts in. */
const DEFAULT_UNIT: Record<UnitKind, string> = { size: 'GiB', speed: 'MiB/s' };

/** A number-and-unit input's state: the amount as typed, the picked unit, and "unlimited" (0) when offered. */
export interface UnitDraft {
  amount: string;
  unit: string;
  unlimited: boolean;
}

function factorOf(kind: UnitKind, unit: string): number {
  return (UNIT_CHOICES[kind].find((u) => u.symbol === unit) ?? UNIT_CHOICES[kind][0]!).factor;
}

/**
 * A stored value in the largest unit it fills at least once that shows it exactly with at most two
 * decimals (20.5 MiB stays 20.5 MiB, not 0.02 GiB); a value no unit shows so briefly is written out
 * in full in the smallest unit, so nothing is rounded away. `null` is empty; 0 is "unlimited" when
 * `zeroIsUnlimited`.
 */
export function toUnitDraft(bytes: number | null, kind: UnitKind, zeroIsUnlimited = false): UnitDraft {
  if (bytes === null) return { amount: '', unit: DEFAULT_UNIT[kind], unlimited: false };
  if (bytes === 0)
    return { amount: zeroIsUnlimited ? '' : '0', unit: DEFAULT_UNIT[kind], unlimited: zeroIsUnlimited };
  const units = UNIT_CHOICES[kind];
  for (let i = units.length - 1; i >= 0; i--) {
    const { symbol, factor } = units[i]!;
    const amount = bytes / factor;
    const brief = Math.round(amount * 100) / 100;
    if (amount >= 1 && Math.round(brief * factor) === bytes)
      return { amount: String(brief), unit: symbol, unlimited: false };
  }
  const smallest = units[0]!;
  return { amount: String(bytes / smallest.factor), unit: smallest.symbol, unlimited: false };
}

/**
 * The bytes a draft means: `'empty'` when nothing is typed, `'invalid'` for a negative or unreadable
 * amount, 0 for "unlimited".
 */
export function unitDraftToBytes(draft: UnitDraft, kind: UnitKind): number | 'empty' | 'invalid' {
  if (draft.unlimited) return 0;
  const text = draft.amount.trim();
  if (text === '') return 'empty';
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) return 'invalid';
  const bytes = Math.round(n * factorOf(kind, draft.unit));
  return Number.isSafeInteger(bytes) ? bytes : 'invalid';
}

/** Whether two drafts mean the same value (a unit switch alone changes nothing). */
export function sameUnitValue(a: UnitDraft, b: UnitDraft, kind: UnitKind): boolean {
  return unitDraftToBytes(a, kind) === unitDraftToBytes(b, kind);
}

/** A quota for people: `Unlimited` for 0. */
export function formatQuota(bytes: number): string {
  return bytes === 0 ? t('format.unlimited') : formatBytes(bytes);
}

/** What the waiting reasons count (`waiting_counts` of /api/stats). */
export interface WaitingCounts {
  user_limit: { running: number; limit: number };
  slots: { running: number; limit: number };
}

/**
 * Why a waiting download waits, in words; null when it does not wait. With the counts of /api/stats
 * the limit is concrete ("3 of 3 in use"). Every sentence of it lives here.
 */
export function waitingText(
  task: { status: string; waiting_reason: 'queue' | 'user_limit' | 'slots' | null },
  counts?: WaitingCounts | null,
): string | null {
  if (task.status !== 'waiting' || !task.waiting_reason) return null;
  switch (task.waiting_reason) {
    case 'user_limit': {
      const c = counts?.user_limit;
      return c && c.limit > 0
        ? t('waiting.userLimitOf', { running: c.running, limit: c.limit })
        : t('waiting.userLimit');
    }
    case 'slots': {
      const c = counts?.slots;
      return c ? t('waiting.slotsOf', { running: c.running, limit: c.limit }) : t('waiting.slots');
    }
    default:
      return t('waiting.queue');
  }
}
