import fs from 'node:fs/promises';
import path from 'node:path';
import type { TaskFile } from '../contracts/tasks.js';
import { maskUri } from '../domain/uri.js';
import type { DaemonPeer, DaemonServer, DaemonStatus } from '../gateway/types.js';

/**
 * A file path aria2 reports, as the API shows it: relative to the task folder. aria2's `[METADATA]`
 * entry of a magnet (a name, not a path) and anything outside the folder are shown by name only, so no
 * response reveals the server's layout.
 */
export function shownPath(dir: string, p: string): string {
  if (!p) return '';
  if (p.startsWith('[METADATA]') || !path.isAbsolute(p)) return path.basename(p);
  const rel = path.relative(dir, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.basename(p);
}

/**
 * aria2's files with their progress made to agree with the task's: aria2 counts only whole pieces per
 * file, so their sum falls short of (or, with pieces across files, differs from) completedLength. The
 * task's bytes are shared out in proportion to what aria2 counts per file (by size while it counts
 * none), each file capped at its length.
 */
export function filesOf(dir: string, status: Pick<DaemonStatus, 'files' | 'completedLength'>): TaskFile[] {
  const files = status.files.map((f) => ({
    index: f.index,
    path: shownPath(dir, f.path),
    length: f.length,
    completed_length: f.completedLength,
    selected: f.selected,
  }));
  const target = status.completedLength;
  const counted = files.reduce((sum, f) => sum + (f.selected ? f.completed_length : 0), 0);
  if (counted === target || target <= 0) return files;
  const weight = (f: TaskFile) =>
    !f.selected ? 0 : counted > 0 ? f.completed_length : Math.max(0, f.length - f.completed_length);
  const total = files.reduce((sum, f) => sum + weight(f), 0);
  if (total <= 0) return files;
  let left = target;
  const out = files.map((f) => {
    const share = Math.min(f.length, Math.floor((target * weight(f)) / total));
    left -= f.selected ? share : 0;
    return f.selected ? { ...f, completed_length: share } : f;
  });
  // Rounding leftovers go to files that still have room.
  for (const f of out) {
    if (left <= 0) break;
    if (!f.selected) continue;
    const room = Math.min(left, f.length - f.completed_length);
    f.completed_length += room;
    left -= room;
  }
  return out;
}

/** The files a task left in its folder (a failed download aria2 forgot), by path under the folder. */
export async function filesOnDisk(dir: string): Promise<TaskFile[]> {
  let entries: string[];
  try {
    entries = (await fs.readdir(dir, { recursive: true })) as string[];
  } catch {
    return [];
  }
  const out: TaskFile[] = [];
  for (const rel of entries.sort()) {
    // aria2's control files are not the user's.
    if (rel.endsWith('.aria2')) continue;
    const st = await fs.lstat(path.join(dir, rel)).catch(() => null);
    if (!st?.isFile()) continue;
    out.push({
      index: out.length + 1,
      path: rel,
      length: st.size,
      completed_length: st.size,
      selected: true,
    });
  }
  return out;
}

/** Well-known BitTorrent clients by the two letters of an Azureus-style peer id (`-qB4250-`). */
const CLIENTS: Record<string, string> = {
  A2: 'aria2',
  AZ: 'Vuze',
  BC: 'BitComet',
  DE: 'Deluge',
  KT: 'KTorrent',
  LT: 'libtorrent',
  lt: 'libTorrent',
  qB: 'qBittorrent',
  TR: 'Transmission',
  UT: 'µTorrent',
  UM: 'µTorrent Mac',
  WW: 'WebTorrent',
};

/** The client a peer id names, or null when unknown. */
export function peerClient(peerId: string | undefined): string | null {
  if (!peerId) return null;
  let id: string;
  try {
    id = decodeURIComponent(peerId);
  } catch {
    return null;
  }
  // aria2's own: "A2-1-37-0-" (major-minor-patch).
  const a2 = /^A2-(\d+)-(\d+)-(\d+)-/.exec(id);
  if (a2) return `aria2 ${a2[1]}.${a2[2]}.${a2[3]}`;
  const az = /^-([A-Za-z]{2})([0-9A-Za-z]{4})-/.exec(id);
  if (az) {
    const name = CLIENTS[az[1]!];
    return name ? `${name} ${az[2]!.replace(/^(\d)(\d)(\d).*$/, '$1.$2.$3')}` : null;
  }
  return null;
}

/** Pieces a hex bitfield has, as a share of numPieces (0-1). */
export function bitfieldProgress(bitfield: string | undefined, numPieces: number): number {
  if (!bitfield || numPieces <= 0) return 0;
  let have = 0;
  for (const ch of bitfield) {
    let v = Number.parseInt(ch, 16);
    if (Number.isNaN(v)) continue;
    while (v) {
      have += v & 1;
      v >>= 1;
    }
  }
  return Math.min(1, have / numPieces);
}

export interface Peer {
  address: string;
  client: string | null;
  download_speed: number;
  upload_speed: number;
  progress: number;
  seeder: boolean;
}

/** The daemon's peers of a download as the task page shows them. */
export function peersOf(peers: readonly DaemonPeer[], numPieces: number): Peer[] {
  return peers.map((p) => ({
    address: p.ip.includes(':') ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`,
    client: peerClient(p.peerId),
    download_speed: p.downloadSpeed,
    upload_speed: p.uploadSpeed,
    progress: p.seeder ? 1 : bitfieldProgress(p.bitfield, numPieces),
    seeder: p.seeder,
  }));
}

export interface Server {
  file_index: number;
  uri: string;
  current_uri: string;
  download_speed: number;
}

/** The daemon's server connections of a download as the task page shows them (credentials masked). */
export function serversOf(servers: readonly DaemonServer[]): Server[] {
  return servers.map((s) => ({
    file_index: s.fileIndex,
    uri: maskUri(s.uri),
    current_uri: maskUri(s.currentUri),
    download_speed: s.downloadSpeed,
  }));
}
