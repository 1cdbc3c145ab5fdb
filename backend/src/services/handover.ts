import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { type TaskOptions, taskOptions } from '../contracts/tasks.js';
import { TORRENT_URI } from '../domain/task-status.js';
import type { DownloadOptionsSource } from '../egress/node-proxies.js';
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
import { listRowsByGids } from '../repositories/sync.js';
import { attachOptions, type TaskRow } from '../repositories/tasks.js';
import type { ServiceContext } from './context.js';
import { groupedByNode } from './tasks/daemon.js';
import type { HandOverTracker } from './tasks/tracker.js';

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

/** Makes the task folders of `rows` where the controller sees them (`folders`: the node's mount). */
async function makeFolders(
  rows: readonly Pick<TaskRow, 'dir'>[],
  folders: NodeFolders | null,
): Promise<void> {
  const mounted = (dir: string) => (folders ? toMountPath(folders, dir) : dir);
  await Promise.all(
    [...new Set(rows.map((r) => mounted(r.dir)))].map((dir) => fs.mkdir(dir, { recursive: true })),
  );
}

/**
 * The task folders of `rows` on each row's node, made ahead of `handOverByNode` (`foldersMade`): a
 * retry makes them while its source is checked, off the way to aria2.
 */
export async function makeTaskFolders(
  nodes: NodeRegistry,
  rows: readonly Pick<TaskRow, 'dir' | 'node'>[],
): Promise<void> {
  await Promise.all([...groupedByNode(rows)].map(([node, list]) => makeFolders(list, nodes.folders(node))));
}

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
  /** The folders were made already (`makeTaskFolders`). */
  foldersMade = false,
): Promise<Map<number, HandOverResult>> {
  const results = new Map<number, HandOverResult>();
  if (rows.length === 0) return results;
  if (!foldersMade) await makeFolders(rows, folders);
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
 * gives each node's own options for every download (the egress proxy of a daemon on loopback: the
 * proxy of the instance that drives the node, read as the batch goes out).
 */
export async function handOverByNode(
  nodes: NodeRegistry,
  rows: readonly (Pick<TaskRow, 'id' | 'uri' | 'torrent' | 'dir' | 'gid' | 'node'> & { options: string })[],
  extra: Readonly<Record<NodeName, DaemonOptions>> | DownloadOptionsSource = {},
  { foldersMade = false }: { foldersMade?: boolean } = {},
): Promise<Map<number, HandOverResult>> {
  const results = new Map<number, HandOverResult>();
  for (const [node, list] of groupedByNode(rows)) {
    const options = isSource(extra) ? await extra.optionsFor(node) : extra[node];
    const handed = await handOver(nodes.gatewayFor(node), list, options, nodes.folders(node), foldersMade);
    for (const [id, result] of handed) results.set(id, result);
  }
  return results;
}

function isSource(
  extra: Readonly<Record<NodeName, DaemonOptions>> | DownloadOptionsSource,
): extra is DownloadOptionsSource {
  return typeof (extra as Partial<DownloadOptionsSource>).optionsFor === 'function';
}

/** aria2's code of a download that lost every connection it could make (its proxy gone, say). */
const NETWORK_FAILURE = '1';

/**
 * When this instance takes a node over (or its aria2 connects again while it drives it), the node's
 * downloads still go through the egress proxy of the instance that drove it before, which is gone or
 * going. Points every unfinished download at this instance's proxy (aria2 restarts an active one on
 * the new proxy, resuming it), and hands over again, under the same gid, an HTTP or FTP download that
 * aria2 gave up on for want of a connection while no instance drove the node: its row is still active,
 * since only the driver records a failure. A download that truly failed then fails once more, through
 * the guard, and is recorded. Seeding torrents keep their connections (peers go without the proxy).
 */
export async function repointDownloads(
  ctx: Pick<ServiceContext, 'db' | 'nodes' | 'logger'>,
  handingOver: HandOverTracker,
  node: NodeName,
  proxy: DaemonOptions,
): Promise<{ repointed: number; resumed: number }> {
  const gateway = ctx.nodes.gatewayFor(node);
  const snapshot = await gateway.snapshot({ active: 'state', waiting: 'state', stopped: 'progress' });
  const unfinished = [...(snapshot.active ?? []), ...(snapshot.waiting ?? [])].filter((s) => !s.seeder);
  let repointed = 0;
  if (unfinished.length > 0) {
    const changed = await gateway.changeOptions(unfinished.map((s) => ({ gid: s.gid, options: proxy })));
    repointed = changed.filter((r) => r.ok).length;
  }
  const gaveUp = new Set(
    (snapshot.stopped ?? [])
      .filter((s) => s.status === 'error' && s.errorCode === NETWORK_FAILURE)
      .map((s) => s.gid),
  );
  if (gaveUp.size === 0) return { repointed, resumed: 0 };
  const rows = (await listRowsByGids(ctx.db, [...gaveUp], node)).filter(
    (r) => r.gid !== null && gaveUp.has(r.gid) && r.status === 'active' && /^(https?|ftp):/i.test(r.uri),
  );
  if (rows.length === 0) return { repointed, resumed: 0 };
  const ids = rows.map((r) => r.id).filter((id) => !handingOver.has(id));
  const own = rows.filter((r) => ids.includes(r.id));
  const resumed = await handingOver.around(ids, async () => {
    await gateway.forget(own.map((r) => r.gid!));
    const handed = await handOver(gateway, await attachOptions(ctx.db, own), proxy, ctx.nodes.folders(node));
    const back = own.flatMap((r) => (handed.get(r.id)?.ok ? [r.gid!] : []));
    if (back.length === 0) return 0;
    return (await gateway.resume(back)).filter((r) => r.ok).length;
  });
  ctx.logger.info(
    { node, repointed, resumed },
    "pointed the node's downloads at this instance's egress proxy",
  );
  return { repointed, resumed };
}
