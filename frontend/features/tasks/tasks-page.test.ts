import { describe, expect, it } from 'vitest';
import type { Task } from '../../lib/types';
import { withoutSubmitted } from './AddTasks';
import { clashHints } from './TaskList';
import { countOf } from './TasksPage';

function task(id: number, patch: Partial<Task> = {}): Task {
  return {
    id,
    owner_id: 1,
    gid: null,
    uri: `http://127.0.0.1:9/${id}/report.bin`,
    status: 'complete',
    name: 'report.bin',
    total_length: 100,
    completed_length: 100,
    download_speed: 0,
    upload_speed: 0,
    error: null,
    created_at: '2026-01-23T10:00:00Z',
    updated_at: '2026-01-23T10:00:00Z',
    artifact_path: null,
    artifact_token: null,
    waiting_reason: null,
    attempt: 1,
    next_retry_at: null,
    position: null,
    phase: null,
    seeding: false,
    ...patch,
  };
}

describe('the add field after an add', () => {
  it('drops the links that were sent and keeps what was typed meanwhile', () => {
    const a = 'http://127.0.0.1:9/a.bin';
    const b = 'http://127.0.0.1:9/b.bin';
    expect(withoutSubmitted(a, [a])).toBe('');
    expect(withoutSubmitted(b, [a])).toBe(b);
    expect(withoutSubmitted(`${a}\n  ${b}\n${a}\n`, [a])).toBe(b);
  });
});

describe('names that clash', () => {
  it('tells the rows of one name apart by their saved names, and leaves a name of its own alone', () => {
    const hints = clashHints([
      task(1, { artifact_path: 'report.bin' }),
      task(2, { artifact_path: 'sub/report_1.bin' }),
      task(3, { name: 'other.bin' }),
    ]);
    expect(hints.get(1)).toBe('Saved as report.bin');
    expect(hints.get(2)).toBe('Saved as report_1.bin');
    expect(hints.has(3)).toBe(false);
  });

  it('a row not saved yet says which task it is', () => {
    const hints = clashHints([task(4, { status: 'active' }), task(5, { artifact_path: 'report.bin' })]);
    expect(hints.get(4)).toMatch(/^Task 4, added /);
  });
});

describe('status tab counts', () => {
  const counts = { queued: 1, active: 2, waiting: 3, paused: 4, complete: 5, error: 6, removed: 7 };
  it('counts every status for All, the four running ones for Current, one status otherwise', () => {
    expect(countOf(counts, 'all')).toBe(28);
    expect(countOf(counts, 'current')).toBe(10);
    expect(countOf(counts, 'complete')).toBe(5);
  });
});
