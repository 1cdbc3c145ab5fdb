import { constants, type Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { InvalidInputError, NotFoundError } from '../domain/errors.js';
import { parseUserPath } from '../domain/paths.js';
import { type NodeFolders, type NodeRegistry, toMountPath } from '../gateway/registry.js';
import type { NodeName } from '../gateway/types.js';
import { findUserNode } from '../repositories/users.js';

export const pathNotFound = () => new NotFoundError('Path not found');

/** The folder of running downloads inside each user's folder. */
const INCOMPLETE = '.incomplete';
/**
 * Under `.incomplete/`, the running folders of downloads bound for a subfolder: `to/<subfolder>/<gid>`.
 * A gid is 16 hex digits, so `to` never meets a download's own folder.
 */
const BOUND_FOR = 'to';
/** A subfolder's path at most (its downloads' running folders and files must still fit PATH_MAX). */
const MAX_SUBFOLDER_BYTES = 1024;

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

  /**
   * The folder a new download runs in: its own under `.incomplete/`, and for one bound for a subfolder
   * of the user's folder (segments from checkSubfolder), under `.incomplete/to/<subfolder>/`, where the
   * finished download's move reads it back (destinationOf).
   */
  taskDir(node: NodeName, userId: number, gid: string, subfolder: readonly string[] = []): string {
    const incomplete = this.daemonIncompleteDir(node, userId);
    if (subfolder.length === 0) return path.join(incomplete, gid);
    return path.join(incomplete, BOUND_FOR, ...subfolder, gid);
  }

  /**
   * The subfolder (segments, [] for the user's folder itself) a download running in `daemonDir` (a row's
   * folder, as its node's daemon names it) is bound for.
   */
  destinationOf(node: NodeName, userId: number, daemonDir: string): string[] {
    const rel = path.relative(this.daemonIncompleteDir(node, userId), path.dirname(daemonDir));
    const parts = rel.split(path.sep);
    if (parts[0] !== BOUND_FOR || parts.length < 2) return [];
    return parts.slice(1);
  }

  /**
   * Checks a subfolder of the user's folder that a download is to land in (`relative` as the API takes
   * paths; it need not exist yet): not under `.incomplete/`, and what exists of it is a folder that,
   * symlinks resolved, stays inside the user's folder. Returns its segments; a 422 naming `field`.
   */
  async checkSubfolder(userId: number, relative: string, field: string): Promise<string[]> {
    const segments = parseUserPath(field, relative);
    const bad = (why: string) => new InvalidInputError(`Invalid ${field}: ${why}`);
    if (segments.length === 0) return segments;
    if (Buffer.byteLength(relative, 'utf8') > MAX_SUBFOLDER_BYTES) throw bad('it is longer than 1 KiB');
    if (segments[0] === INCOMPLETE) throw bad('running downloads have that folder to themselves');
    const base = await this.realUserDir(userId);
    let at = base;
    for (const segment of segments) {
      const next = path.join(at, segment);
      const st = await fs.lstat(next).catch(() => null);
      if (!st) break;
      const real = await fs.realpath(next).catch(() => null);
      if (!real || !isInside(base, real)) throw bad('it leads outside your folder');
      if (!(await isDirectory(real))) throw bad(`${segment} is a file, not a folder`);
      at = real;
    }
    return segments;
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
   * Moves a finished download from `.incomplete/` into the user's folder (or the subfolder it is bound
   * for, created when missing), adding `_N` on a name clash. A subfolder that now leads outside the
   * user's folder (a symlink put there since the add) is not followed: the download lands in the folder
   * itself. Returns the artifact path relative to the user's folder.
   */
  async moveFinished(row: { node: NodeName; owner_id: number; dir: string }, entry: string): Promise<string> {
    const dir = this.toMount(row.node, row.dir);
    const from = path.join(dir, entry);
    const userDir = path.join(this.folders(row.node).mount, String(row.owner_id));
    await fs.mkdir(userDir, { recursive: true });
    const into = await this.destinationFolder(
      row.owner_id,
      this.destinationOf(row.node, row.owner_id, row.dir),
    );
    const ext = (await isDirectory(from)) ? '' : path.extname(entry);
    const stem = ext ? entry.slice(0, -ext.length) : entry;
    for (let n = 0; n < 10_000; n++) {
      const name = n === 0 ? entry : `${stem}_${n}${ext}`;
      const to = path.join(userDir, ...into, name);
      try {
        // link + unlink would be atomic for files only; a no-clobber check then rename is enough here
        // because one controller owns the folder.
        await fs.access(to);
      } catch {
        await fs.rename(from, to);
        await this.removeIfEmpty(dir);
        return [...into, name].join('/');
      }
    }
    throw new Error('no free name for the finished download');
  }

  /** The subfolder a finished download moves into, created; [] when it would lead outside the folder. */
  private async destinationFolder(userId: number, segments: readonly string[]): Promise<readonly string[]> {
    if (segments.length === 0) return segments;
    const base = await this.realUserDir(userId);
    const target = path.join(base, ...segments);
    const made = await fs.mkdir(target, { recursive: true }).then(
      () => true,
      () => false,
    );
    const real = made ? await fs.realpath(target).catch(() => null) : null;
    if (!real || !isInside(base, real)) return [];
    return real === base ? [] : path.relative(base, real).split(path.sep);
  }

  /**
   * Removes a task's own folder under `.incomplete/` once nothing is left in it, and the emptied
   * folders above it under `.incomplete/to/` (those of a download bound for a subfolder).
   */
  async removeIfEmpty(dir: string): Promise<void> {
    let at = dir;
    while (
      await fs.rmdir(at).then(
        () => true,
        () => false,
      )
    ) {
      at = path.dirname(at);
      if (!isBoundFor(at)) return;
    }
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

/** True when `p` is `.incomplete/to` of some user's folder, or lies under it. */
function isBoundFor(p: string): boolean {
  const parts = p.split(path.sep);
  for (let i = parts.length - 2; i >= 0; i--)
    if (parts[i] === INCOMPLETE && parts[i + 1] === BOUND_FOR) return true;
  return false;
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
