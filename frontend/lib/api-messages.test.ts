import { afterEach, describe, expect, it } from 'vitest';
import { translateDetail } from './api-messages';
import { formatBytes, formatDateTime, formatDuration, formatSpeed } from './format';
import { i18n } from './i18n';

afterEach(async () => {
  await i18n.changeLanguage('en');
});

describe('server sentences in the reader language', () => {
  it('English readers see the sentence as sent, its GB (1024³ bytes) written GiB with the same number', () => {
    expect(translateDetail('Task not found')).toBe('Task not found');
    expect(translateDetail('File size 3.00 GB exceeds limit 2.00 GB')).toBe(
      'File size 3.00 GiB exceeds limit 2.00 GiB',
    );
    expect(translateDetail('Insufficient disk space, remaining 0.50 GB')).toBe(
      'Insufficient disk space, remaining 0.50 GiB',
    );
    expect(translateDetail('File size 0.03 GB exceeds your available space 0.02 GB')).toBe(
      'File size 0.03 GiB exceeds your available space 0.02 GiB',
    );
  });

  it('Chinese readers see a known sentence translated, its numbers kept', async () => {
    await i18n.changeLanguage('zh');
    expect(translateDetail('Task not found')).toBe('找不到任务');
    expect(translateDetail('File size 3.00 GB exceeds limit 2.00 GB')).toBe(
      '文件大小 3.00 GiB 超过上限 2.00 GiB',
    );
    expect(translateDetail('File size 0.03 GB exceeds your available space 0.02 GB')).toBe(
      '文件大小 0.03 GiB 超过你的可用空间 0.02 GiB',
    );
    expect(translateDetail('You have too many downloads in progress (limit 5)')).toBe(
      '你进行中的下载过多（上限 5 个）',
    );
    expect(translateDetail('aria2 refused: Resource not found')).toBe('aria2 拒绝了请求：Resource not found');
  });

  it('an unknown sentence is shown as sent, in any language', async () => {
    await i18n.changeLanguage('zh');
    expect(translateDetail('Something new went wrong')).toBe('Something new went wrong');
    expect(translateDetail('Task not found, really')).toBe('Task not found, really');
  });
});

describe('formats in the reader language', () => {
  it('keeps binary units and writes durations and dates in Chinese', async () => {
    await i18n.changeLanguage('zh');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatSpeed(2 * 1024 * 1024)).toBe('2.00 MiB/s');
    expect(formatDuration(65)).toBe('1分05秒');
    expect(formatDuration(26 * 3600)).toBe('1天2小时');
    expect(formatDateTime('2026-03-04T12:00:00Z')).toMatch(/2026年3月4日/);
  });

  it('writes dates in English for English readers', () => {
    expect(formatDateTime('2026-03-04T12:00:00Z')).toMatch(/Mar 4, 2026/);
  });
});
