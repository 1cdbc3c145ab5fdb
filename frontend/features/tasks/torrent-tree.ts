/**
 * The file tree of a torrent's add dialog, and the choice made in it: pure functions over aria2's
 * file indexes. A folder is checked when all its files are, mixed when some are; checking it checks
 * them all.
 */
import type { TorrentFileEntry } from '../../lib/torrent-file';

export interface FileLeaf {
  kind: 'file';
  name: string;
  /** The full path inside the torrent ('/'-joined). */
  path: string;
  index: number;
  length: number;
}

export interface FolderNode {
  kind: 'folder';
  name: string;
  path: string;
  children: TreeNode[];
  /** Every file index under it, in order. */
  indexes: number[];
  length: number;
}

export type TreeNode = FileLeaf | FolderNode;

/** The folders and files of the paths, in the torrent's own order (a folder where its first file is). */
export function buildFileTree(files: readonly TorrentFileEntry[]): TreeNode[] {
  const root: FolderNode = { kind: 'folder', name: '', path: '', children: [], indexes: [], length: 0 };
  const folders = new Map<string, FolderNode>([['', root]]);
  for (const file of files) {
    const parts = file.path.split('/');
    let parent = root;
    parent.indexes.push(file.index);
    parent.length += file.length;
    for (let depth = 0; depth < parts.length - 1; depth += 1) {
      const path = parts.slice(0, depth + 1).join('/');
      let folder = folders.get(path);
      if (!folder) {
        folder = { kind: 'folder', name: parts[depth]!, path, children: [], indexes: [], length: 0 };
        folders.set(path, folder);
        parent.children.push(folder);
      }
      folder.indexes.push(file.index);
      folder.length += file.length;
      parent = folder;
    }
    parent.children.push({
      kind: 'file',
      name: parts[parts.length - 1]!,
      path: file.path,
      index: file.index,
      length: file.length,
    });
  }
  return root.children;
}

/** Whether all, some or none of a folder's files are chosen. */
export function folderState(folder: FolderNode, chosen: ReadonlySet<number>): 'all' | 'some' | 'none' {
  let count = 0;
  for (const i of folder.indexes) if (chosen.has(i)) count += 1;
  if (count === 0) return 'none';
  return count === folder.indexes.length ? 'all' : 'some';
}

/** The choice with these files checked or unchecked (a new set). */
export function setChosen(chosen: ReadonlySet<number>, indexes: readonly number[], on: boolean): Set<number> {
  const next = new Set(chosen);
  for (const i of indexes) {
    if (on) next.add(i);
    else next.delete(i);
  }
  return next;
}

/** The bytes of the chosen files. */
export function chosenLength(files: readonly TorrentFileEntry[], chosen: ReadonlySet<number>): number {
  return files.reduce((n, f) => n + (chosen.has(f.index) ? f.length : 0), 0);
}

/**
 * What the add sends as `select_files`: the chosen indexes in order, or undefined when every file is
 * chosen (the whole torrent, as without a choice).
 */
export function selectFilesOf(
  files: readonly TorrentFileEntry[],
  chosen: ReadonlySet<number>,
): number[] | undefined {
  const picked = files.filter((f) => chosen.has(f.index)).map((f) => f.index);
  return picked.length === files.length ? undefined : picked;
}
