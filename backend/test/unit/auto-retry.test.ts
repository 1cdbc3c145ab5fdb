import { describe, expect, it } from 'vitest';
import { isPassingFailure, retriesAllowed, retryDelaySeconds } from '../../src/domain/auto-retry.js';

const settings = { auto_retry_attempts: 3, auto_retry_delay_s: 30, auto_retry_max_delay_s: 3600 };

describe('which failures pass', () => {
  it('network errors, timeouts, resets, 503 and code-22 answers of 5xx or 429 pass', () => {
    for (const code of ['1', '2', '5', '6', '19', '29']) expect(isPassingFailure(code, 'x'), code).toBe(true);
    for (const status of [500, 502, 504, 429])
      expect(
        isPassingFailure('22', `The response status is not successful. status=${status}`),
        String(status),
      ).toBe(true);
  });
  it('404, 401/403, checksum, disk, the controller’s own reasons and other answers last', () => {
    for (const code of ['3', '4', '9', '13', '24', '32', '8', '26'])
      expect(isPassingFailure(code, 'x'), code).toBe(false);
    for (const status of [403, 400, 410])
      expect(isPassingFailure('22', `status=${status}`), String(status)).toBe(false);
    expect(isPassingFailure('22', 'no status here')).toBe(false);
    expect(isPassingFailure(null, 'File size 20.00 GB exceeds limit 10.00 GB')).toBe(false);
  });
});

describe('when and how often', () => {
  it('doubles the delay with each attempt, up to the longest delay', () => {
    expect([1, 2, 3, 4].map((a) => retryDelaySeconds(a, settings))).toEqual([30, 60, 120, 240]);
    expect(retryDelaySeconds(10, settings)).toBe(3600);
    expect(retryDelaySeconds(1000, settings)).toBe(3600);
  });
  it('a task’s own number wins over the setting, 0 included', () => {
    expect(retriesAllowed(null, settings)).toBe(3);
    expect(retriesAllowed(0, settings)).toBe(0);
    expect(retriesAllowed(7, settings)).toBe(7);
  });
});
