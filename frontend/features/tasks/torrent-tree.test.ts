import { describe, expect, it } from 'vitest';
import type { TorrentFileEntry } from '../../lib/torrent-file';
import {
  buildFileTree,
  chosenLength,
  type FolderNode,
  folderState,
  selectFilesOf,
  setChosen,
  type TreeNode,
} from './torrent-tree';

const FILES: TorrentFileEntry[] = [
  { index: 1, path: 'a.bin', length: 100 },
  { index: 2, path: 'docs/b.txt', length: 20 },
  { index: 3, path: 'docs/deep/c.txt', length: 3 },
  { index: 4, path: 'docs/d.txt', length: 4 },
  { index: 5, path: 'e.bin', length: 500 },
];

/** The tree as nested names, for comparing. */
function shape(nodes: readonly TreeNode[]): unknown[] {
  return nodes.map((n) => (n.kind === 'file' ? `${n.index}:${n.name}` : { [n.name]: shape(n.children) }));
}

const folder = (nodes: readonly TreeNode[], name: string) =>
  nodes.find((n): n is FolderNode => n.kind === 'folder' && n.name === name)!;

describe('buildFileTree', () => {
  it('groups the files by folder, in the order of the torrent', () => {
    const tree = buildFileTree(FILES);
    expect(shape(tree)).toEqual([
      '1:a.bin',
      { docs: ['2:b.txt', { deep: ['3:c.txt'] }, '4:d.txt'] },
      '5:e.bin',
    ]);
    const docs = folder(tree, 'docs');
    expect(docs.path).toBe('docs');
    expect(docs.indexes).toEqual([2, 3, 4]);
    expect(docs.length).toBe(27);
    expect(folder(docs.children, 'deep')).toMatchObject({ path: 'docs/deep', indexes: [3], length: 3 });
  });
});

describe('the choice of files', () => {
  const docs = folder(buildFileTree(FILES), 'docs');
  const all = new Set(FILES.map((f) => f.index));

  it('a folder unchecks and checks all its files, and says when only some are chosen', () => {
    const without = setChosen(all, docs.indexes, false);
    expect([...without].sort()).toEqual([1, 5]);
    expect(folderState(docs, without)).toBe('none');
    const one = setChosen(without, [3], true);
    expect(folderState(docs, one)).toBe('some');
    expect(folderState(folder(docs.children, 'deep'), one)).toBe('all');
    expect(folderState(docs, setChosen(one, docs.indexes, true))).toBe('all');
    // The input set is never changed.
    expect(all.size).toBe(5);
  });

  it('counts the bytes chosen and sends the indexes, or nothing when all are chosen', () => {
    const chosen = setChosen(all, docs.indexes, false);
    expect(chosenLength(FILES, chosen)).toBe(600);
    expect(selectFilesOf(FILES, chosen)).toEqual([1, 5]);
    expect(selectFilesOf(FILES, new Set([5, 2]))).toEqual([2, 5]);
    expect(chosenLength(FILES, all)).toBe(627);
    expect(selectFilesOf(FILES, all)).toBeUndefined();
  });
});
