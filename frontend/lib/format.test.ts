import { describe, expect, it } from 'vitest';
import {
  bytesToGb,
  formatBytes,
  formatDuration,
  formatPercent,
  formatSpeed,
  gbToBytes,
  progressOf,
  timeLeft,
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
