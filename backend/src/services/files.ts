import type { Stats } from 'node:fs';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { DeleteResult, Entry } from '../contracts/files.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../domain/errors.js';
import { isWithin, parseUserPath, rebase } from '../domain/paths.js';
import { isCurrent, isSeeding } from '../domain/task-status.js';
import { deleteSharesUnder, rebaseShares } from '../repositories/shares.js';
import { addUsedSpace, usedSpace } from '../repositories/space.js';
import { getTaskByToken, listFolderTasks, updateTask } from '../repositories/tasks.js';
import type { Actor, ServiceContext } from './context.js';
import { isInside, type OpenedFile, pathNotFound, Storage } from './storage.js';
import { zipStream } from './zip.js';

/** What a download answers: a file opened by handle, or a folder (or a selection) as a zip stream. */
export type Download =
  | { kind: 'file'; name: string; file: OpenedFile }
  | { kind: 'zip'; name: string; stream: Readable };

export const IN_USE = 'In use by a running download';
export const NAME_TAKEN = 'A file with that name already exists';

/** How many folders' listings are kept (the least recently listed goes first). */
const LIST_CACHE_FOLDERS = 32;
/**
 * Linux stamps a change with a clock that ticks once a jiffy (at most 10 ms): a folder whose mtime is
 * younger than this may change again without its mtime moving, so its listing is not kept yet.
 */
const RACY_MS = 100;

type FolderTask = Awaited<ReturnType<typeof listFolderTasks>>[number];

const isoSecond = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a folder held when it was read: its plain files, sorted by name, and the names of the rest. */
interface FolderListing {
  mtimeMs: number;
  ctimeMs: number;
  files: Entry[];
  others: string[];
  /** `files` as JSON array items, made on the first listing that needs it. */
  filesJson: string | null;
}

const byName = (a: Entry, b: Entry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const entriesJson = (entries: readonly Entry[]) => entries.map((e) => JSON.stringify(e)).join(',');

/**
 * Reads a folder: one lstat per plain file (synchronous: on a busy machine 10,000 of them take a
 * fraction of what as many async stats queued on the thread pool do); the rest is left by name.
 */
function readFolder(real: string, st: Stats, prefix: string): FolderListing {
  const files: Entry[] = [];
  const others: string[] = [];
  for (const de of fsSync.readdirSync(real, { withFileTypes: true })) {
    const est = de.isFile() ? fsSync.lstatSync(path.join(real, de.name), { throwIfNoEntry: false }) : null;
    if (est?.isFile()) {
      files.push({
        name: de.name,
        path: prefix + de.name,
        type: 'file',
        size: est.size,
        modified_at: isoSecond(est.mtime),
        task_id: null,
      });
    } else if (!de.isFile() || est) others.push(de.name);
  }
  files.sort(byName);
  return { mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, files, others, filesJson: null };
}

/** Bytes under a real path, symlinks counted as themselves (never followed). */
function treeSize(
  abs: string,
  st: Stats | undefined = fsSync.lstatSync(abs, { throwIfNoEntry: false }),
): number {
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  let names: string[];
  try {
    names = fsSync.readdirSync(abs);
  } catch {
    return 0;
  }
  for (const n of names) total += treeSize(path.join(abs, n));
  return total;
}

/**
 * A user's folder as the Files API shows it: listing, downloads (a file by handle, a folder or a
 * selection as a zip stream), move, new folder and delete. Used space follows every change at once;
 * finished tasks and shares follow their files; nothing a current download writes can be moved or
 * deleted.
 */
export class FilesService {
  /** The plain files of recently listed folders, by real path, while the folder's mtime stays put. */
  private readonly listCache = new Map<string, FolderListing>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly storage: Storage,
  ) {}

  // ---- reading ------------------------------------------------------------------------------

  /** The user's tasks with their folders as real paths (the folder a download writes in). */
  private async folderTasks(userId: number, base: string): Promise<(FolderTask & { realDir: string })[]> {
    // Task folders are stored as the node's daemon names them.
    const userDir = this.storage.daemonUserDir(await this.storage.nodeOf(userId), userId);
    return (await listFolderTasks(this.ctx.db, userId)).map((t) => ({
      ...t,
      realDir: path.join(base, path.relative(userDir, t.dir)),
    }));
  }

  /** The current task writing at `abs` (its own folder or anything in it), or null. */
  private static writer(tasks: readonly { id: number; status: string; realDir: string }[], abs: string) {
    for (const t of tasks) if (isCurrent(t.status) && isInside(t.realDir, abs)) return t.id;
    return null;
  }

  private entry(base: string, abs: string, st: Stats, taskId: number | null): Entry {
    const rel = path.relative(base, abs).split(path.sep).join('/');
    const dir = st.isDirectory();
    return {
      name: path.basename(abs),
      path: rel,
      type: dir ? 'dir' : 'file',
      size: dir ? treeSize(abs, st) : st.size,
      modified_at: isoSecond(st.mtime),
      task_id: taskId,
    };
  }

  /** The listing of a folder as the JSON text of a `FileList`: what `GET /api/files` sends. */
  async listJson(actor: Actor, relative: string): Promise<string> {
    const real = await this.storage.resolveUserPath(actor.id, relative);
    const base = await this.storage.realUserDir(actor.id);
    const statedAt = Date.now();
    const st = await fs.stat(real);
    if (!st.isDirectory()) throw new InvalidInputError('Invalid path: it is a file, not a folder');
    const tasks = (await this.folderTasks(actor.id, base)).filter((t) => isCurrent(t.status));
    const relDir = path.relative(base, real).split(path.sep).join('/');
    const prefix = relDir === '' ? '' : `${relDir}/`;
    // Plain files of a folder whose own mtime has not moved are as they were: a download lands by a
    // rename, and every change the API makes adds, removes or renames an entry. What aria2 writes in
    // place (under .incomplete/, or wherever a current download writes) is never taken from the cache.
    const cacheable = !Storage.isIncomplete(base, real) && !tasks.some((t) => isInside(t.realDir, real));
    const cached = cacheable ? this.listCache.get(real) : undefined;
    const fresh = cached !== undefined && cached.mtimeMs === st.mtimeMs && cached.ctimeMs === st.ctimeMs;
    const listing = fresh ? cached : readFolder(real, st, prefix);
    if (!cacheable) {
      for (const e of listing.files) e.task_id = FilesService.writer(tasks, path.join(real, e.name));
    } else if (!fresh && statedAt - Math.max(st.mtimeMs, st.ctimeMs) >= RACY_MS) {
      // A folder changed within the file system's timestamp granularity could change again with the
      // same mtime: it is read again until its times are older than that.
      this.listCache.delete(real);
      this.listCache.set(real, listing);
      if (this.listCache.size > LIST_CACHE_FOLDERS)
        this.listCache.delete(this.listCache.keys().next().value!);
    }
    // Folders (their sizes change without the parent's mtime moving), links and what a download
    // writes are looked at again on every listing.
    const dirs: Entry[] = [];
    const files: Entry[] = [];
    for (const name of listing.others) {
      const e = await this.otherEntry(base, real, prefix, name, tasks);
      if (e) (e.type === 'dir' ? dirs : files).push(e);
    }
    dirs.sort(byName);
    let filesJson: string;
    if (files.length === 0) {
      // The sorted plain files are serialised once per change of the folder, not on every listing.
      listing.filesJson ??= entriesJson(listing.files);
      filesJson = listing.filesJson;
    } else {
      filesJson = entriesJson([...listing.files, ...files].sort(byName));
    }
    const dirsJson = entriesJson(dirs);
    const space = (await usedSpace(this.ctx.db, actor.id)) ?? { used: 0, quota: actor.quota };
    const all = dirsJson && filesJson ? `${dirsJson},${filesJson}` : dirsJson || filesJson;
    return `{"path":${JSON.stringify(relDir)},"entries":[${all}],"used_space":${space.used},"quota":${space.quota}}`;
  }

  /** An entry that is not a plain file: a folder, or a link shown as what it points to inside the folder. */
  private async otherEntry(
    base: string,
    real: string,
    prefix: string,
    name: string,
    tasks: readonly (FolderTask & { realDir: string })[],
  ): Promise<Entry | null> {
    const abs = path.join(real, name);
    let est = fsSync.lstatSync(abs, { throwIfNoEntry: false });
    if (!est) return null;
    if (est.isSymbolicLink()) {
      const target = await fs.realpath(abs).catch(() => null);
      if (!target || !isInside(base, target)) return null;
      est = fsSync.statSync(target, { throwIfNoEntry: false });
      if (!est) return null;
    }
    if (!est.isFile() && !est.isDirectory()) return null;
    const dir = est.isDirectory();
    return {
      name,
      path: prefix + name,
      type: dir ? 'dir' : 'file',
      size: dir ? treeSize(abs, est) : est.size,
      modified_at: isoSecond(est.mtime),
      task_id: FilesService.writer(tasks, abs),
    };
  }

  /** A real path opened for download: a file by handle, a folder as a zip stream named after it. */
  async openReal(userId: number, real: string): Promise<Download> {
    const st = await fs.stat(real).catch(() => null);
    if (!st) throw pathNotFound();
    const base = await this.storage.realUserDir(userId);
    const name = real === base ? 'files' : path.basename(real);
    if (st.isDirectory()) {
      return {
        kind: 'zip',
        name: `${name}.zip`,
        stream: await zipStream(this.storage, userId, [{ real, name }]),
      };
    }
    return { kind: 'file', name, file: await this.storage.openInside(userId, real) };
  }

  async content(actor: Actor, relative: string): Promise<Download> {
    return this.openReal(actor.id, await this.storage.resolveUserPath(actor.id, relative));
  }

  /** A zip of a selection; each item under its own name (a clash gets ` (2)`, ` (3)`, …). */
  async archive(actor: Actor, relatives: readonly string[]): Promise<Download> {
    const reals = [];
    for (const r of relatives) reals.push(await this.storage.resolveUserPath(actor.id, r));
    const base = await this.storage.realUserDir(actor.id);
    const seen = new Set<string>();
    const items = [];
    for (const real of new Set(reals)) {
      const plain = real === base ? 'files' : path.basename(real);
      const ext = path.extname(plain);
      const stem = ext ? plain.slice(0, -ext.length) : plain;
      let name = plain;
      for (let n = 2; seen.has(name); n++) name = `${stem} (${n})${ext}`;
      seen.add(name);
      items.push({ real, name });
    }
    return { kind: 'zip', name: 'files.zip', stream: await zipStream(this.storage, actor.id, items) };
  }

  /** A finished task's artifact (the owner's session is required): the same download as the Files API's. */
  async artifact(actor: Actor, token: string): Promise<Download> {
    const row = /^[A-Za-z0-9_-]{16,128}$/.test(token)
      ? await getTaskByToken(this.ctx.db, actor.id, token)
      : undefined;
    // A seeding torrent is done for its owner: its files are read where aria2 seeds them from.
    const artifactPath = row && (row.status === 'complete' || isSeeding(row)) ? row.artifact_path : null;
    if (!artifactPath) throw new NotFoundError('File not found');
    const real = await this.storage.resolveInside(actor.id, artifactPath);
    return this.openReal(actor.id, real);
  }

  // ---- changing -----------------------------------------------------------------------------

  /**
   * An entry itself (a symlink is the link, not what it points to), its parent resolved with symlinks
   * inside the folder. `""` is refused: the folder itself is not moved or deleted.
   */
  private async resolveEntry(userId: number, relative: string, field: string): Promise<string> {
    const segments = parseUserPath(field, relative);
    if (segments.length === 0) throw new InvalidInputError(`Invalid ${field}: it names your folder itself`);
    const parent = await this.storage.resolveUserPath(userId, segments.slice(0, -1).join('/'), field);
    const abs = path.join(parent, segments.at(-1)!);
    if (!(await fs.lstat(abs).catch(() => null))) throw pathNotFound();
    return abs;
  }

  /** Where a new entry would go: its parent must exist (404) and be a folder; the name must be free (409). */
  private async resolveNew(userId: number, relative: string, field: string): Promise<string> {
    const segments = parseUserPath(field, relative);
    if (segments.length === 0) throw new InvalidInputError(`Invalid ${field}: it names your folder itself`);
    const parent = await this.storage.resolveUserPath(userId, segments.slice(0, -1).join('/'), field);
    if (!(await fs.stat(parent)).isDirectory()) throw pathNotFound();
    const abs = path.join(parent, segments.at(-1)!);
    if (await fs.lstat(abs).catch(() => null)) throw new ConflictError(NAME_TAKEN);
    return abs;
  }

  private static refuseInUse(tasks: readonly (FolderTask & { realDir: string })[], abs: string): void {
    for (const t of tasks) {
      if (isCurrent(t.status) && (isInside(abs, t.realDir) || isInside(t.realDir, abs))) {
        throw new ConflictError(IN_USE);
      }
    }
  }

  async move(actor: Actor, from: string, to: string): Promise<Entry> {
    const base = await this.storage.realUserDir(actor.id);
    const src = await this.resolveEntry(actor.id, from, 'from');
    const dest = await this.resolveNew(actor.id, to, 'to');
    if (isInside(src, dest)) throw new InvalidInputError('Invalid to: a folder cannot move into itself');
    const tasks = await this.folderTasks(actor.id, base);
    FilesService.refuseInUse(tasks, src);
    if (FilesService.writer(tasks, dest) !== null) throw new ConflictError(IN_USE);
    await fs.rename(src, dest);

    const relFrom = path.relative(base, src).split(path.sep).join('/');
    const relTo = path.relative(base, dest).split(path.sep).join('/');
    await this.ctx.db.transaction().execute(async (trx) => {
      let adopted = 0;
      for (const t of tasks) {
        if (t.artifact_path && isWithin(t.artifact_path, relFrom)) {
          await updateTask(trx, t.id, { artifact_path: rebase(t.artifact_path, relFrom, relTo) });
        } else if (t.status !== 'complete' && (isInside(src, t.realDir) || isInside(t.realDir, src))) {
          adopted += await this.adoptPartial(trx, t);
        }
      }
      await rebaseShares(trx, actor.id, relFrom, relTo);
      await addUsedSpace(trx, actor.id, adopted);
    });
    const st = await fs.lstat(dest);
    return this.entry(base, dest, st, null);
  }

  async createFolder(actor: Actor, relative: string): Promise<Entry> {
    const base = await this.storage.realUserDir(actor.id);
    const abs = await this.resolveNew(actor.id, relative, 'path');
    try {
      await fs.mkdir(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(NAME_TAKEN);
      throw err;
    }
    return this.entry(base, abs, await fs.stat(abs), null);
  }

  /** Deletes every path (all are checked first, so a refused one deletes nothing); frees quota at once. */
  async delete(actor: Actor, relatives: readonly string[]): Promise<DeleteResult> {
    const base = await this.storage.realUserDir(actor.id);
    const targets: string[] = [];
    for (const [i, r] of relatives.entries()) {
      targets.push(await this.resolveEntry(actor.id, r, relatives.length > 1 ? `path[${i}]` : 'path'));
    }
    const tasks = await this.folderTasks(actor.id, base);
    for (const abs of targets) FilesService.refuseInUse(tasks, abs);
    // A path inside another one of the list goes with it.
    const unique = [...new Set(targets)].filter((a, _i, all) => !all.some((o) => o !== a && isInside(o, a)));

    let freed = 0;
    const rels: string[] = [];
    for (const abs of unique) {
      freed += treeSize(abs);
      await fs.rm(abs, { recursive: true, force: true });
      rels.push(path.relative(base, abs).split(path.sep).join('/'));
    }
    await this.ctx.db.transaction().execute(async (trx) => {
      let adopted = 0;
      for (const t of tasks) {
        const gone = (p: string) => rels.some((r) => isWithin(p, r));
        if (t.artifact_path && gone(t.artifact_path)) {
          // The row stays in the history; only its file is gone.
          await updateTask(trx, t.id, { artifact_path: null, artifact_token: null, counted_bytes: 0 });
        } else if (
          t.status !== 'complete' &&
          unique.some((abs) => isInside(abs, t.realDir) || isInside(t.realDir, abs))
        ) {
          adopted += await this.adoptPartial(trx, t);
        }
      }
      for (const r of rels) await deleteSharesUnder(trx, actor.id, r);
      await addUsedSpace(trx, actor.id, adopted - freed);
    });
    return { deleted: unique.length, freed };
  }

  /**
   * A stopped or failed task's partial bytes are counted through its row; once its files are moved or
   * deleted by hand, the folder's own counter takes them over (and the row no longer claims them).
   */
  private async adoptPartial(trx: ServiceContext['db'], t: FolderTask): Promise<number> {
    if (t.completed_length === 0) return 0;
    await updateTask(trx, t.id, { completed_length: 0 });
    return t.completed_length;
  }
}
