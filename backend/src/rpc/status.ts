import path from 'node:path';
import type { TaskFile } from '../contracts/tasks.js';
import { publicMessage } from '../domain/messages.js';
import { maskUri } from '../domain/uri.js';
import type { DaemonStatus } from '../gateway/types.js';
import type { ViewRow } from '../services/task-views.js';

/**
 * How the aria2-compatible RPC shows a user's tasks: as aria2's status objects (every number a string,
 * aria2's status words), with a virtual root in place of any server path: `dir` and file paths read
 * as `/downloads` plus the path inside the user's own folder.
 */
export const VIRTUAL_ROOT = '/downloads';

export type Aria2Struct = Record<string, unknown>;

/** A path under the user's folder as the client sees it; anything outside reads by its name only. */
export function virtualPath(userDir: string, absolute: string): string {
  const rel = path.relative(userDir, absolute);
  if (!rel) return VIRTUAL_ROOT;
  if (rel.startsWith('..') || path.isAbsolute(rel)) return `${VIRTUAL_ROOT}/${path.basename(absolute)}`;
  return `${VIRTUAL_ROOT}/${rel.split(path.sep).join('/')}`;
}

/** aria2's word for a task's status: a download the controller has not handed over yet waits. */
export function statusWord(status: string): string {
  return status === 'queued' ? 'waiting' : status;
}

const str = (n: number | undefined | null) => String(n ?? 0);

/** Only the keys asked for (aria2's `keys` parameter); all of them without. */
export function pick(struct: Aria2Struct, keys: readonly string[] | undefined): Aria2Struct {
  if (!keys || keys.length === 0) return struct;
  const out: Aria2Struct = {};
  for (const k of keys) if (Object.hasOwn(struct, k)) out[k] = struct[k];
  return out;
}

export interface TaskView {
  row: ViewRow;
  /** The daemon's status while it runs the download; null otherwise (the row's figures are shown). */
  status: DaemonStatus | null;
  userDir: string;
}

/** The folder a task's files are shown in: its running folder, or where its finished files went. */
function shownDir({ row, userDir }: TaskView): string {
  if (row.status === 'complete' && row.artifact_path) {
    const parent = path.posix.dirname(row.artifact_path);
    return parent === '.' ? VIRTUAL_ROOT : `${VIRTUAL_ROOT}/${parent}`;
  }
  return virtualPath(userDir, row.dir);
}

/** A file path relative to the task folder, as shown: a finished task's lives where its artifact went. */
function shownFilePath(view: TaskView, relative: string): string {
  const { row } = view;
  if (relative.startsWith('[METADATA]')) return relative;
  if (row.status === 'complete' && row.artifact_path) {
    const cut = relative.indexOf('/');
    return `${VIRTUAL_ROOT}/${row.artifact_path}${cut >= 0 ? relative.slice(cut) : ''}`;
  }
  return `${virtualPath(view.userDir, row.dir)}/${relative}`;
}

/** aria2's file objects of a task: from the daemon while it runs, else from the row. */
export function aria2Files(view: TaskView, files: readonly TaskFile[] | null): Aria2Struct[] {
  const { row, status } = view;
  const uris = (index: number) =>
    (status?.files.find((f) => f.index === index)?.uris ?? []).map((u) => ({
      uri: maskUri(u.uri),
      status: u.status,
    }));
  if (files && files.length > 0) {
    return files.map((f) => ({
      index: String(f.index),
      path: shownFilePath(view, f.path),
      length: str(f.length),
      completedLength: str(f.completed_length),
      selected: String(f.selected),
      uris: uris(f.index),
    }));
  }
  const name = row.artifact_path ?? row.name;
  if (!name) return [];
  return [
    {
      index: '1',
      path: row.artifact_path ? `${VIRTUAL_ROOT}/${row.artifact_path}` : shownFilePath(view, name),
      length: str(row.total_length),
      completedLength: str(row.completed_length),
      selected: 'true',
      uris: row.info_hash ? [] : [{ uri: row.display_uri, status: 'used' }],
    },
  ];
}

/**
 * aria2's status object of a task (tellStatus, tellActive and the other lists). With `keys`, the paths
 * (`dir`, `files`) are worked out only when asked for: a client polling a long list asks for neither.
 */
export function aria2Status(
  view: TaskView,
  files: readonly TaskFile[] | null,
  keys?: readonly string[],
): Aria2Struct {
  const all = !keys || keys.length === 0;
  const { row, status } = view;
  const live = status !== null && (status.totalLength > 0 || status.completedLength > 0);
  const out: Aria2Struct = {
    gid: row.gid ?? '',
    status: statusWord(row.status),
    totalLength: str(live ? status.totalLength : row.total_length),
    completedLength: str(live ? status.completedLength : row.completed_length),
    uploadLength: str(status?.uploadLength),
    downloadSpeed: str(status ? status.downloadSpeed : row.download_speed),
    uploadSpeed: str(status ? status.uploadSpeed : row.upload_speed),
    connections: str(status?.connections),
    numPieces: str(status?.numPieces),
    pieceLength: str(status?.pieceLength),
  };
  if (all || keys.includes('dir')) out.dir = shownDir(view);
  if (all || keys.includes('files')) out.files = aria2Files(view, files);
  if (status?.bitfield) out.bitfield = status.bitfield;
  const infoHash = status?.infoHash ?? row.info_hash;
  if (infoHash) {
    out.infoHash = infoHash;
    out.numSeeders = str(status?.numSeeders);
    out.seeder = String(
      status?.seeder ?? (row.status === 'complete' || row.completed_length >= row.total_length),
    );
  }
  if (row.status === 'error') {
    out.errorCode = row.error_code ?? '1';
    out.errorMessage = row.error === null ? '' : publicMessage(row.error);
  } else if (row.status === 'complete') out.errorCode = '0';
  const bt = status?.bittorrent;
  if (bt) {
    out.bittorrent = {
      announceList: bt.announceList ?? [],
      ...(bt.comment ? { comment: bt.comment } : {}),
      ...(bt.creationDate !== undefined ? { creationDate: bt.creationDate } : {}),
      ...(bt.mode ? { mode: bt.mode } : {}),
      ...(bt.info?.name ? { info: { name: bt.info.name } } : {}),
    };
  } else if (infoHash && row.name) out.bittorrent = { announceList: [], info: { name: row.name } };
  return out;
}
