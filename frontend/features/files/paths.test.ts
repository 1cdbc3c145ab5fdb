import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../lib/files-api';
import { fileBulkTargets, fileRowActions } from './actions';
import {
  absoluteShareUrl,
  breadcrumbs,
  checkName,
  checkPath,
  describeEntries,
  expiryToIso,
  filesHref,
  folderFromQuery,
  joinPath,
  parentOf,
  parseMaxDownloads,
  pruneSelection,
  selectedEntries,
  sortEntries,
  splitListing,
  tidyFolder,
  totalSize,
} from './paths';

function entry(path: string, patch: Partial<FileEntry> = {}): FileEntry {
  return {
    name: path.slice(path.lastIndexOf('/') + 1),
    path,
    type: 'file',
    size: 100,
    modified_at: '2026-01-23T10:00:00Z',
    task_id: null,
    ...patch,
  };
}

describe('paths', () => {
  it('joins, splits and trails paths from the top folder', () => {
    expect(joinPath('', 'a')).toBe('a');
    expect(joinPath('a/b', 'c')).toBe('a/b/c');
    expect(parentOf('a/b/c')).toBe('a/b');
    expect(parentOf('a')).toBe('');
    expect(breadcrumbs('')).toEqual([{ label: 'Files', path: '' }]);
    expect(breadcrumbs('Movies/2024')).toEqual([
      { label: 'Files', path: '' },
      { label: 'Movies', path: 'Movies' },
      { label: '2024', path: 'Movies/2024' },
    ]);
    expect(filesHref('')).toBe('/files');
    expect(filesHref('a b/c&d')).toBe('/files?path=a%20b%2Fc%26d');
  });

  it('opens the top folder for a ?path= the server would refuse', () => {
    expect(folderFromQuery(null)).toBe('');
    expect(folderFromQuery('Movies/2024')).toBe('Movies/2024');
    for (const bad of ['../etc', '/abs', 'a//b', 'a/', 'a/./b', 'a\u0000b'])
      expect(folderFromQuery(bad)).toBe('');
  });

  it('refuses names and folder paths the server refuses, with a sentence', () => {
    expect(checkName('report.pdf')).toBeNull();
    expect(checkName('  ')).toBe('Enter a name.');
    expect(checkName('a/b')).toMatch(/“\/”/);
    expect(checkName('..')).toMatch(/“\.\.”/);
    expect(checkName('a\nb')).toMatch(/control/);
    expect(checkName('é'.repeat(128))).toMatch(/too long/);
    expect(checkPath('')).toBeNull();
    expect(checkPath('Movies/2024')).toBeNull();
    expect(checkPath('Movies//2024')).toMatch(/empty/);
    expect(checkPath('Movies/../x')).toMatch(/“\.\.”/);
    expect(tidyFolder(' /Movies/2024/ ')).toBe('Movies/2024');
  });

  it('shows .incomplete of the top folder under In progress, not as a folder row', () => {
    const listing = {
      path: '',
      entries: [entry('.incomplete', { type: 'dir' }), entry('Movies', { type: 'dir' }), entry('a.bin')],
      used_space: 300,
      quota: 0,
    };
    const split = splitListing(listing);
    expect(split.hasIncomplete).toBe(true);
    expect(split.entries.map((e) => e.path)).toEqual(['Movies', 'a.bin']);
    // A folder of the same name deeper down is an ordinary folder.
    const deeper = { ...listing, path: 'x', entries: [entry('x/.incomplete', { type: 'dir' })] };
    expect(splitListing(deeper)).toEqual({ entries: deeper.entries, hasIncomplete: false });
    expect(splitListing({ ...listing, entries: [entry('a.bin')] }).hasIncomplete).toBe(false);
  });

  it('sorts folders first, then by name', () => {
    const sorted = sortEntries([
      entry('b.bin'),
      entry('Z', { type: 'dir' }),
      entry('a.bin'),
      entry('A', { type: 'dir' }),
    ]);
    expect(sorted.map((e) => e.path)).toEqual(['A', 'Z', 'a.bin', 'b.bin']);
  });

  it('selects only what is listed and not written by a running download; sums what it frees', () => {
    const entries = [entry('a', { size: 10 }), entry('b', { size: 20 }), entry('c', { size: 5, task_id: 3 })];
    const selected = new Set(['a', 'c', 'gone']);
    expect(selectedEntries(entries, selected).map((e) => e.path)).toEqual(['a']);
    expect([...pruneSelection(selected, entries)]).toEqual(['a']);
    const kept = new Set(['a', 'b']);
    expect(pruneSelection(kept, entries)).toBe(kept);
    expect(totalSize(entries)).toBe(35);
    expect(describeEntries([entries[0]!])).toBe('“a”');
    expect(describeEntries(entries)).toBe('3 items');
  });

  it('turns the expiry choice into an API time, to the second, in UTC', () => {
    const now = new Date('2026-01-23T10:00:00.678Z');
    expect(expiryToIso('never', now)).toBeUndefined();
    expect(expiryToIso('1h', now)).toBe('2026-01-23T11:00:00Z');
    expect(expiryToIso('7d', now)).toBe('2026-01-30T10:00:00Z');
    expect(expiryToIso('30d', now)).toBe('2026-02-22T10:00:00Z');
  });

  it('reads maximum downloads: empty is no limit, else a whole number from 1', () => {
    expect(parseMaxDownloads('')).toEqual({});
    expect(parseMaxDownloads(' 5 ')).toEqual({ value: 5 });
    for (const bad of ['0', '-1', '1.5', 'ten']) expect(parseMaxDownloads(bad).error).toMatch(/whole number/);
  });

  it('makes a share’s link absolute on this origin', () => {
    expect(absoluteShareUrl('/s/abc', 'http://127.0.0.1:8000')).toBe('http://127.0.0.1:8000/s/abc');
  });
});

describe('the file action registry', () => {
  it('offers every action on a file or folder, none on what a running download writes', () => {
    expect(fileRowActions(entry('a.bin')).map((a) => a.label)).toEqual([
      'Download',
      'Rename',
      'Share',
      'Delete',
    ]);
    expect(fileRowActions(entry('Movies', { type: 'dir' })).map((a) => a.id)).toEqual([
      'download',
      'move',
      'share',
      'delete',
    ]);
    expect(fileRowActions(entry('.incomplete/x.iso', { task_id: 4 }))).toEqual([]);
    const mixed = [entry('a'), entry('.incomplete/b', { task_id: 9 })];
    expect(fileBulkTargets('delete', mixed).map((e) => e.path)).toEqual(['a']);
    expect(fileBulkTargets('move', mixed).map((e) => e.path)).toEqual(['a']);
  });
});
