import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { type TaskOptions, taskOptions } from '../contracts/tasks.js';
import { TORRENT_URI } from '../domain/task-status.js';
import { type NodeFolders, type NodeRegistry, toMountPath } from '../gateway/registry.js';
import type {
  Added,
  AddRequest,
  DaemonOptions,
  DaemonStatus,
  DownloadGateway,
  ItemResult,
  NodeName,
} from '../gateway/types.js';
import type { TaskRow } from '../repositories/tasks.js';

/** A gid chosen by the controller, stored before the hand-over so a crash never leaves an unowned download. */
export const newGid = (): string => randomBytes(8).toString('hex');

/**
 * A row's stored options, through the request whitelist again: a row written before a rule existed (or
 * edited in the database) must not smuggle an option or a line break to aria2. Each option that fails
 * is dropped on its own; the rest still apply.
 */
export function storedOptions(json: string): TaskOptions {
  let stored: unknown;
  try {
    stored = JSON.parse(json);
  } catch {
    return {};
  }
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(stored)) {
    if (!Object.hasOwn(taskOptions.shape, key)) continue;
    const parsed = taskOptions.shape[key as keyof TaskOptions].safeParse(value);
    if (parsed.success && parsed.data !== undefined) out[key] = parsed.data;
  }
  return out as TaskOptions;
}

/** The aria2 options of a task: the user's whitelisted options, its folder, resume on, and its gid. */
export function aria2OptionsFor(row: { options: string; dir: string }, gid: string): DaemonOptions {
  const out: DaemonOptions = {};
  for (const [key, value] of Object.entries(storedOptions(row.options))) {
    if (value === undefined || value === null) continue;
    out[key] = Array.isArray(value) ? value.map(String) : String(value);
  }
  out.dir = row.dir;
  out.continue = 'true';
  out.gid = gid;
  return out;
}

export type HandOverResult =
  | { ok: true; gid: string; status: DaemonStatus | null }
  | { ok: false; reason: string };

/**
 * Hands downloads to the daemon in one batch that also reads their statuses: the URI or the stored
 * torrent, the task's options and folder, under the gid each row already carries, paused.
 */
export async function handOver(
  gateway: DownloadGateway,
  rows: readonly (Pick<TaskRow, 'id' | 'uri' | 'torrent' | 'dir' | 'gid'> & { options: string })[],
  extra: DaemonOptions = {},
  /** The node's folders: the task folders are made where the controller sees them. */
  folders: NodeFolders | null = null,
): Promise<Map<number, HandOverResult>> {
  const results = new Map<number, HandOverResult>();
  if (rows.length === 0) return results;
  const mounted = (dir: string) => (folders ? toMountPath(folders, dir) : dir);
  await Promise.all(
    [...new Set(rows.map((r) => mounted(r.dir)))].map((dir) => fs.mkdir(dir, { recursive: true })),
  );
  const requests: AddRequest[] = rows.map((row) => {
    // Always paused: the fair admission (services/admission.ts) decides when it starts.
    const options = { ...aria2OptionsFor(row, row.gid!), ...extra };
    const common = { gid: row.gid!, options, paused: true };
    return row.uri === TORRENT_URI && row.torrent
      ? { ...common, torrent: row.torrent }
      : { ...common, uris: [row.uri] };
  });
  let answers: ItemResult<Added>[];
  try {
    answers = await gateway.add(requests);
  } catch (err) {
    const reason = err instanceof Error && 'reason' in err ? String(err.reason) : String(err);
    for (const row of rows) results.set(row.id, { ok: false, reason });
    return results;
  }
  rows.forEach((row, i) => {
    const added = answers[i];
    if (!added) results.set(row.id, { ok: false, reason: 'aria2 gave no answer for this download' });
    else if (!added.ok) results.set(row.id, { ok: false, reason: added.error.reason });
    else results.set(row.id, { ok: true, gid: added.value.gid, status: added.value.status });
  });
  return results;
}

/**
 * Hands rows over to the daemon of each row's node: one batch per node, one result per row. `extra`
 * holds each node's own options for every download (the egress proxy of a daemon on loopback).
 */
export async function handOverByNode(
  nodes: NodeRegistry,
  rows: readonly (Pick<TaskRow, 'id' | 'uri' | 'torrent' | 'dir' | 'gid' | 'node'> & { options: string })[],
  extra: Readonly<Record<NodeName, DaemonOptions>> = {},
): Promise<Map<number, HandOverResult>> {
  const groups = new Map<string, typeof rows>();
  for (const r of rows) groups.set(r.node, [...(groups.get(r.node) ?? []), r]);
  const results = new Map<number, HandOverResult>();
  for (const [node, list] of groups) {
    const handed = await handOver(nodes.gatewayFor(node), list, extra[node], nodes.folders(node));
    for (const [id, result] of handed) results.set(id, result);
  }
  return results;
}
