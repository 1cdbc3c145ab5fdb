import { describe, expect, it } from 'vitest';
import {
  bytesToGb,
  formatBytes,
  formatDuration,
  formatPercent,
  formatSpeed,
  gbToBytes,
  progressOf,
  sameUnitValue,
  timeLeft,
  toUnitDraft,
  unitDraftToBytes,
  waitingText,
} from './format';

describe('formatters', () => {
  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.00 KiB');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GiB');
    expect(formatBytes(200 * 1024 ** 4)).toBe('200 TiB');
    expect(formatBytes(-1)).toBe('—');
  });

  it('formats speeds', () => {
    expect(formatSpeed(0)).toBe('0 B/s');
    expect(formatSpeed(2 * 1024 * 1024)).toBe('2.00 MiB/s');
  });

  it('computes time left from the speed', () => {
    expect(timeLeft({ total_length: 1000, completed_length: 500, download_speed: 100 })).toBe(5);
    expect(timeLeft({ total_length: 1000, completed_length: 500, download_speed: 0 })).toBeNull();
    expect(timeLeft({ total_length: 0, completed_length: 0, download_speed: 100 })).toBeNull();
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3h 02m');
    expect(formatDuration(26 * 3600)).toBe('1d 2h');
    expect(formatDuration(null)).toBe('—');
  });

  it('computes progress', () => {
    expect(progressOf({ total_length: 200, completed_length: 50, download_speed: 0 })).toBe(0.25);
    expect(progressOf({ total_length: 0, completed_length: 50, download_speed: 0 })).toBe(0);
    expect(progressOf({ total_length: 0, completed_length: 0, download_speed: 0, status: 'complete' })).toBe(
      1,
    );
    expect(formatPercent(0.256)).toBe('26%');
    expect(formatPercent(0.05)).toBe('5.0%');
    expect(formatPercent(1)).toBe('100%');
  });

  it('converts GB (1024³) both ways', () => {
    expect(gbToBytes(1)).toBe(1024 ** 3);
    expect(bytesToGb(100 * 1024 ** 3)).toBe(100);
    expect(bytesToGb(gbToBytes(2.5))).toBe(2.5);
  });
});

describe('waitingText', () => {
  it('says why a waiting download waits, and nothing for one that does not', () => {
    const t = (status: string, waiting_reason: 'queue' | 'user_limit' | 'slots' | null) => ({
      status,
      waiting_reason,
    });
    const counts = { user_limit: { running: 3, limit: 3 }, slots: { running: 5, limit: 5 } };
    expect(waitingText(t('waiting', 'user_limit'), counts)).toBe(
      'Waiting: you have 3 of 3 downloads running (your limit)',
    );
    expect(waitingText(t('waiting', 'user_limit'))).toBe(
      'Waiting: you have as many downloads running as your limit allows',
    );
    expect(waitingText(t('waiting', 'slots'), counts)).toBe('Waiting for a free slot, 5 of 5 in use');
    expect(waitingText(t('waiting', 'slots'))).toBe('Waiting for a free slot: every slot is in use');
    expect(waitingText(t('waiting', 'queue'))).toBe('Waiting in the download queue: it starts next');
    expect(waitingText(t('active', null))).toBeNull();
    expect(waitingText(t('paused', null))).toBeNull();
  });
});

describe('number-and-unit inputs', () => {
  const MiB = 1024 ** 2;
  const GiB = 1024 ** 3;

  it('shows a stored size in the largest unit that keeps it exact, never rounding it away', () => {
    expect(toUnitDraft(20.5 * MiB, 'size')).toEqual({ amount: '20.5', unit: 'MiB', unlimited: false });
    expect(toUnitDraft(5 * GiB, 'size')).toEqual({ amount: '5', unit: 'GiB', unlimited: false });
    expect(toUnitDraft(1.25 * GiB, 'size')).toEqual({ amount: '1.25', unit: 'GiB', unlimited: false });
    expect(toUnitDraft(2 * 1024 * GiB, 'size')).toEqual({ amount: '2', unit: 'TiB', unlimited: false });
    // 1.001 GiB needs more than two decimals in GiB: MiB shows it exactly.
    expect(toUnitDraft(1025 * MiB + 0.5 * MiB, 'size').unit).toBe('MiB');
    // No unit shows 1500 bytes in two decimals: KiB in full.
    expect(toUnitDraft(1500, 'size')).toEqual({ amount: '1.46484375', unit: 'KiB', unlimited: false });
    expect(unitDraftToBytes(toUnitDraft(1500, 'size'), 'size')).toBe(1500);
  });

  it('shows speeds in KiB/s or MiB/s; 0 is "unlimited" where offered, an empty value stays empty', () => {
    expect(toUnitDraft(40 * 1024, 'speed')).toEqual({ amount: '40', unit: 'KiB/s', unlimited: false });
    expect(toUnitDraft(3 * MiB, 'speed')).toEqual({ amount: '3', unit: 'MiB/s', unlimited: false });
    expect(toUnitDraft(0, 'speed', true)).toEqual({ amount: '', unit: 'MiB/s', unlimited: true });
    expect(toUnitDraft(0, 'size')).toEqual({ amount: '0', unit: 'GiB', unlimited: false });
    expect(toUnitDraft(null, 'size')).toEqual({ amount: '', unit: 'GiB', unlimited: false });
  });

  it('turns what is typed into bytes in the picked unit', () => {
    expect(unitDraftToBytes({ amount: '20.5', unit: 'MiB', unlimited: false }, 'size')).toBe(20.5 * MiB);
    expect(unitDraftToBytes({ amount: '1.5', unit: 'TiB', unlimited: false }, 'size')).toBe(1.5 * 1024 * GiB);
    expect(unitDraftToBytes({ amount: '40', unit: 'KiB/s', unlimited: false }, 'speed')).toBe(40960);
    expect(unitDraftToBytes({ amount: '7', unit: 'GiB', unlimited: true }, 'size')).toBe(0);
    expect(unitDraftToBytes({ amount: ' ', unit: 'GiB', unlimited: false }, 'size')).toBe('empty');
    expect(unitDraftToBytes({ amount: '-1', unit: 'GiB', unlimited: false }, 'size')).toBe('invalid');
    expect(unitDraftToBytes({ amount: 'abc', unit: 'GiB', unlimited: false }, 'size')).toBe('invalid');
    expect(unitDraftToBytes({ amount: '1e30', unit: 'TiB', unlimited: false }, 'size')).toBe('invalid');
  });

  it('a unit switch that keeps the value is no change; a new amount is', () => {
    const stored = toUnitDraft(2 * GiB, 'size');
    expect(sameUnitValue(stored, { amount: '2048', unit: 'MiB', unlimited: false }, 'size')).toBe(true);
    expect(sameUnitValue(stored, { amount: '2', unit: 'MiB', unlimited: false }, 'size')).toBe(false);
  });
});
