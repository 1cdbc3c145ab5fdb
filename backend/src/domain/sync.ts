import path from 'node:path';
import type { DaemonStatus } from '../gateway/types.js';
import { isSeeding, type TaskStatus, taskStatusOf } from './task-status.js';
import { maskUrisIn } from './uri.js';

/** The fields of a task row the sync reads. */
export interface SyncRow {
  id: number;
  owner_id: number;
  gid: string | null;
  origin_gid: string | null;
  status: string;
  name: string | null;
  total_length: number;
  completed_length: number;
  download_speed: number;
  upload_speed: number;
  error: string | null;
  info_hash: string | null;
  held_for: string | null;
  dir: string;
  artifact_path: string | null;
  artifact_token: string | null;
  finished_at: string | null;
  counted_bytes: number;
}

/** What the sync writes on a row. */
export interface SyncPatch {
  gid?: string;
  origin_gid?: string | null;
  status?: TaskStatus;
  name?: string;
  total_length?: number;
  completed_length?: number;
  download_speed?: number;
  upload_speed?: number;
  error?: string | null;
  error_code?: string | null;
  info_hash?: string;
  finished_at?: string;
  updated_at?: string;
  artifact_path?: string | null;
  artifact_token?: string | null;
  counted_bytes?: number;
}

export interface SyncDiff {
  /** The row's changes; empty when nothing it shows changed. */
  patch: SyncPatch;
  /** The task's status from the download's (null while following, or misplaced). */
  status: TaskStatus | null;
  /** A finished metadata download: the real download's gid, to be looked at next. */
  follow: string | null;
  /** The download runs and its size (or its bytes so far, while no size is known) changed: check it again. */
  recheckSize: number | null;
  /** It finished just now: its files move into the user's folder. */
  completes: boolean;
  /** It failed: the daemon forgets it (the row keeps the failure). */
  failed: boolean;
  /**
   * A torrent began seeding just now: done for its owner, its files get their artifact where they lie
   * (aria2 reads them there until seeding ends; they move into the user's folder then).
   */
  seeds: boolean;
  /** The daemon writes it outside its folder: it is removed from the daemon, never resumed. */
  misplaced: boolean;
}

export const MISPLACED_ERROR =
  'aria2 was writing this download outside its folder; it was removed from aria2 and not resumed';

/** The fields whose change makes a row worth writing and showing again. */
const SHOWN = [
  'gid',
  'origin_gid',
  'status',
  'name',
  'total_length',
  'completed_length',
  'download_speed',
  'upload_speed',
  'error',
  'info_hash',
  'artifact_path',
  'artifact_token',
  'finished_at',
  'counted_bytes',
] as const;

/** Whether a patch changes anything the row shows. */
export function changes(row: SyncRow, patch: SyncPatch): boolean {
  return SHOWN.some((key) => key in patch && patch[key] !== row[key]);
}

/** The daemon's folder of a download is its row's folder, and that lies inside the owner's folder. */
export function inOwnFolder(row: SyncRow, status: Pick<DaemonStatus, 'dir'>, userDir: string): boolean {
  if (status.dir === undefined) return true;
  const dir = path.resolve(status.dir);
  if (dir !== path.resolve(row.dir)) return false;
  const rel = path.relative(path.resolve(userDir), dir);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The name a download has: the torrent's name, or the first file's name under the task folder. */
export function nameOf(row: Pick<SyncRow, 'dir'>, status: DaemonStatus): string | null {
  const btName = status.bittorrent?.info?.name;
  if (btName) return btName;
  const first = status.files[0]?.path;
  if (first && !status.metadata) {
    const rel = path.relative(row.dir, first);
    if (rel && !rel.startsWith('..')) return rel.split(path.sep)[0]!;
    return path.basename(first);
  }
  return null;
}

/**
 * A row's changes from its download's status: follows a finished metadata download to the real one,
 * maps the state, keeps what the row knows while the daemon does not know it yet, and says what else
 * must happen (a size check, the move of finished files, forgetting a failure). Pure: the sync service
 * does the I/O. With `userDir` (a reconcile), a download written outside its folder is `misplaced`.
 */
export function diff(row: SyncRow, status: DaemonStatus, now: string, userDir?: string): SyncDiff {
  const out: SyncDiff = {
    patch: {},
    status: null,
    follow: null,
    recheckSize: null,
    completes: false,
    failed: false,
    seeds: false,
    misplaced: false,
  };
  if (userDir !== undefined && !inOwnFolder(row, status, userDir)) {
    out.misplaced = true;
    out.patch = {
      status: 'error',
      error: MISPLACED_ERROR,
      download_speed: 0,
      upload_speed: 0,
      finished_at: now,
      updated_at: now,
    };
    return out;
  }
  const patch: SyncPatch = {};
  if (status.gid !== row.gid) patch.gid = status.gid;
  const followed = status.followedBy?.[0];
  if (status.status === 'complete' && followed) {
    // A magnet's metadata or a .torrent file finished: the task follows the real download.
    patch.gid = followed;
    patch.origin_gid = row.origin_gid ?? status.gid;
    patch.status = 'active';
    out.follow = followed;
  } else {
    const s = taskStatusOf(status.status, row.held_for !== null);
    patch.status = s;
    out.status = s;
    // The daemon says 0 until it knows the size (a waiting download, or a paused one it has not opened
    // since a restart): the row keeps the size it knows (a HEAD's, a torrent's, the last seen), so it
    // stays reserved and shown; an unopened download keeps its progress too, as resuming goes on.
    const unopened = status.totalLength === 0 && status.completedLength === 0 && s !== 'complete';
    if (status.totalLength > 0 || row.total_length === 0) patch.total_length = status.totalLength;
    patch.completed_length = unopened ? row.completed_length : status.completedLength;
    patch.download_speed = s === 'active' ? status.downloadSpeed : 0;
    patch.upload_speed = s === 'active' ? status.uploadSpeed : 0;
    const name = nameOf(row, status);
    if (name) patch.name = name;
    if (status.infoHash) patch.info_hash = status.infoHash;
    patch.error =
      s === 'error'
        ? maskUrisIn(status.errorMessage || `aria2 error ${status.errorCode ?? 'unknown'}`)
        : null;
    if (s === 'error' || s === 'removed') patch.finished_at = now;
    // Tells a passing failure from a lasting one for the auto-retry (services/auto-retry.ts).
    patch.error_code = s === 'error' ? (status.errorCode ?? null) : null;
    // The size became known (a magnet's metadata, a server without HEAD): check it again. A server that
    // sends no length at all leaves totalLength at 0 until the end: the bytes so far are then a lower
    // bound of the size, checked as they grow, so such a download cannot outgrow the limits.
    const sizeKnown = status.totalLength > 0;
    const size = sizeKnown ? status.totalLength : status.completedLength;
    if (
      (s === 'active' || s === 'waiting' || s === 'paused') &&
      size > 0 &&
      (sizeKnown ? row.total_length !== status.totalLength : row.completed_length !== status.completedLength)
    ) {
      out.recheckSize = size;
    }
    out.failed = s === 'error';
    out.completes = s === 'complete' && row.status !== 'complete';
    out.seeds =
      row.artifact_token === null &&
      isSeeding({
        status: s,
        info_hash: patch.info_hash ?? row.info_hash,
        total_length: patch.total_length ?? row.total_length,
        completed_length: patch.completed_length,
      });
    if (out.completes) patch.finished_at = now;
  }
  // Whatever is still to come (a size refused, the files moved) changes the status too.
  if (changes(row, patch)) {
    patch.updated_at = now;
    out.patch = patch;
  }
  return out;
}
