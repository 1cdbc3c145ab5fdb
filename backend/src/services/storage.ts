import { constants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { NotFoundError } from '../domain/errors.js';
import { parseUserPath } from '../domain/paths.js';
import { type NodeFolders, type NodeRegistry, toMountPath } from '../gateway/registry.js';
import type { NodeName } from '../gateway/types.js';
import { findUserNode } from '../repositories/users.js';

export const pathNotFound = () => new NotFoundError('Path not found');

/** The folder of running downloads inside each user's folder. */
const INCOMPLETE = '.incomplete';

/** A file opened for reading after its path was checked; the handle is what gets read. */
export interface OpenedFile {
  handle: FileHandle;
  stat: Stats;
}

/** What the storage reads: the nodes' folders and each user's node. */
export type StorageContext = { config: Pick<Config, 'downloadDir'>; db: Db; nodes: NodeRegistry };

/** Reads a file system's size and free space (injectable: tests control what a node's disk has free). */
export type StatFs = (dir: string) => Promise<{ blocks: number; bsize: number; bavail: number }>;

/**
 * The user folders on disk. Each user lives on one node: their folder is `<dir>/<user id>/` as the
 * node's daemon sees it and `<mount>/<user id>/` as the controller opens it (the same folder). Inside,
 * `.incomplete/` holds running downloads; a finished one moves up into the user's folder. Every path
 * taken from outside is resolved and must stay inside the owner's folder, symlinks included.
 */
export class Storage {
  /** A user's node never changes once created, so what was read once stays true. */
  private readonly userNodes = new Map<number, NodeName>();

  constructor(
    private readonly ctx: StorageContext,
    private readonly statfs: StatFs = (dir) => fs.statfs(dir),
  ) {}

  /** A node's folders; a registry built without them (one node) uses DOWNLOAD_DIR for both. */
  folders(node: NodeName): NodeFolders {
    const dir = this.ctx.config.downloadDir;
    return this.ctx.nodes.folders(node) ?? { dir, mount: dir };
  }

  /** The node a user lives on (a user not found: the first node, where nothing of theirs is). */
  async nodeOf(userId: number): Promise<NodeName> {
    const known = this.userNodes.get(userId);
    if (known) return known;
    const node = (await findUserNode(this.ctx.db, userId)) ?? this.ctx.nodes.first.node;
    this.userNodes.set(userId, node);
    return node;
  }

  /** The user's folder as their node's daemon sees it: what the daemon is told and reports. */
  daemonUserDir(node: NodeName, userId: number): string {
    return path.join(this.folders(node).dir, String(userId));
  }

  /** The folder of a user's running downloads, as their node's daemon sees it. */
  daemonIncompleteDir(node: NodeName, userId: number): string {
    return path.join(this.daemonUserDir(node, userId), INCOMPLETE);
  }

  /** A path the node's daemon reported, as the controller opens it. */
  toMount(node: NodeName, daemonPath: string): string {
    return toMountPath(this.folders(node), daemonPath);
  }

  /** The user's folder as the controller opens it. */
  async userDir(userId: number): Promise<string> {
    return path.join(this.folders(await this.nodeOf(userId)).mount, String(userId));
  }

  /** Whether a real path inside the user's real folder `base` is (under) the running downloads' folder. */
  static isIncomplete(base: string, real: string): boolean {
    return isInside(path.join(base, INCOMPLETE), real);
  }

  /** The real path of the user's folder, created when missing (a new user has none yet). */
  async realUserDir(userId: number): Promise<string> {
    const dir = await this.userDir(userId);
    await fs.mkdir(dir, { recursive: true });
    return fs.realpath(dir);
  }

  /**
   * The real path of an API path (checked by parseUserPath, a 422 naming `field`) inside the user's
   * folder, symlinks resolved; 404 `Path not found` when it does not exist or resolves outside.
   */
  async resolveUserPath(userId: number, relative: string, field = 'path'): Promise<string> {
    const segments = parseUserPath(field, relative);
    const base = await this.realUserDir(userId);
    if (segments.length === 0) return base;
    const real = await fs.realpath(path.join(base, ...segments)).catch(() => null);
    if (!real || !isInside(base, real)) throw pathNotFound();
    return real;
  }

  /** The API path (`/`-separated, relative to the user's folder) of a real path inside it. */
  async toUserPath(userId: number, real: string): Promise<string> {
    return path
      .relative(await this.realUserDir(userId), real)
      .split(path.sep)
      .join('/');
  }

  /**
   * Opens a real path for reading, then asks the kernel where the handle points (/proc/self/fd): a
   * path swapped for a symlink between the check and the open is caught, and what is read is the
   * handle, never the path again. 404 when it is gone, outside the folder or not a regular file.
   */
  async openInside(userId: number, real: string): Promise<OpenedFile> {
    const base = await this.realUserDir(userId);
    const handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
    if (!handle) throw pathNotFound();
    try {
      const at = await fs
        .readlink(`/proc/self/fd/${handle.fd}`)
        .catch(() => fs.realpath(real).catch(() => ''));
      const stat = await handle.stat();
      if (!isInside(base, at) || !stat.isFile()) throw pathNotFound();
      return { handle, stat };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** The real path of `relative` inside the user's folder, or a 404 when it leaves it or does not exist. */
  async resolveInside(userId: number, relative: string): Promise<string> {
    const base = await fs.realpath(await this.userDir(userId)).catch(() => null);
    if (!base) throw new NotFoundError('File not found');
    const candidate = path.resolve(base, relative);
    const real = await fs.realpath(candidate).catch(() => null);
    if (!real || (real !== base && !real.startsWith(base + path.sep)) || real === base) {
      throw new NotFoundError('File not found');
    }
    return real;
  }

  /**
   * The top-level entries a download wrote in its folder: a single file, or a torrent's folder.
   * `files` are aria2's absolute paths; the names come from the paths relative to `dir`.
   */
  static topEntries(dir: string, files: readonly { path: string }[], fallbackName: string | null): string[] {
    const tops = new Set<string>();
    for (const f of files) {
      if (!f.path) continue;
      const rel = path.relative(dir, f.path);
      if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      tops.add(rel.split(path.sep)[0]!);
    }
    if (tops.size === 0 && fallbackName && isPlainName(fallbackName)) tops.add(fallbackName);
    return [...tops];
  }

  /**
   * Moves a finished download from `.incomplete/` (the row's folder, as the daemon named it) into the
   * user's folder, adding `_N` on a name clash. Returns the artifact path relative to the user's folder.
   */
  async moveFinished(row: { node: NodeName; owner_id: number; dir: string }, entry: string): Promise<string> {
    const dir = this.toMount(row.node, row.dir);
    const from = path.join(dir, entry);
    const userDir = path.join(this.folders(row.node).mount, String(row.owner_id));
    await fs.mkdir(userDir, { recursive: true });
    const ext = (await isDirectory(from)) ? '' : path.extname(entry);
    const stem = ext ? entry.slice(0, -ext.length) : entry;
    for (let n = 0; n < 10_000; n++) {
      const name = n === 0 ? entry : `${stem}_${n}${ext}`;
      const to = path.join(userDir, name);
      try {
        // link + unlink would be atomic for files only; a no-clobber check then rename is enough here
        // because one controller owns the folder.
        await fs.access(to);
      } catch {
        await fs.rename(from, to);
        await this.removeIfEmpty(dir);
        return name;
      }
    }
    throw new Error('no free name for the finished download');
  }

  /** Removes a task's own folder under `.incomplete/` once nothing is left in it. */
  async removeIfEmpty(dir: string): Promise<void> {
    await fs.rmdir(dir).catch(() => undefined);
  }

  /**
   * Removes a download's entries (and aria2's control files) from `daemonDir` (a row's folder, as the
   * node's daemon names it); returns the bytes freed.
   */
  async removeEntries(node: NodeName, daemonDir: string, entries: readonly string[]): Promise<number> {
    const dir = this.toMount(node, daemonDir);
    let freed = 0;
    for (const entry of entries) {
      if (!isPlainName(entry)) continue;
      for (const name of [entry, `${entry}.aria2`]) {
        const target = path.join(dir, name);
        freed += await sizeOf(target);
        await fs.rm(target, { recursive: true, force: true });
      }
    }
    await this.removeIfEmpty(dir);
    return freed;
  }

  /** Removes a finished artifact (file or folder) from the user's folder; returns the bytes freed. */
  async removeArtifact(userId: number, artifactPath: string): Promise<number> {
    let real: string;
    try {
      real = await this.resolveInside(userId, artifactPath);
    } catch {
      return 0;
    }
    const freed = await sizeOf(real);
    await fs.rm(real, { recursive: true, force: true });
    return freed;
  }

  /** Removes a user's whole folder (a deleted account's files), running downloads' parts included. */
  async removeUserFolder(userId: number): Promise<void> {
    await fs.rm(await this.userDir(userId), { recursive: true, force: true });
  }

  /** The disk of a node's download folder (its mount, as the controller sees it). */
  async freeDiskOf(node: NodeName): Promise<{ total: number; free: number }> {
    const mount = this.folders(node).mount;
    await fs.mkdir(mount, { recursive: true });
    const s = await this.statfs(mount);
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
  }

  /** The disk of the user's node. */
  async freeDisk(userId: number): Promise<{ total: number; free: number }> {
    return this.freeDiskOf(await this.nodeOf(userId));
  }
}

/** True when `real` is `base` or lies under it (both real, absolute paths). */
export function isInside(base: string, real: string): boolean {
  return real === base || real.startsWith(base + path.sep);
}

export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await fs.lstat(p).catch(() => null))?.isDirectory() ?? false;
}

/** Bytes under a path (a file or a whole folder); symlinks count as themselves, never followed. */
export async function sizeOf(p: string): Promise<number> {
  const st = await fs.lstat(p).catch(() => null);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const child of await fs.readdir(p)) total += await sizeOf(path.join(p, child));
  return total;
}
