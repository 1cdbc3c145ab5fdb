import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Aria2Client, Aria2Options, Call, MulticallResult } from '../aria2/client.js';
import { type Aria2Status, parseStatus } from '../aria2/types.js';
import { type TaskOptions, taskOptions } from '../contracts/tasks.js';
import { TORRENT_URI } from '../domain/task-status.js';
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
export function aria2OptionsFor(row: { options: string; dir: string }, gid: string): Aria2Options {
  const out: Aria2Options = {};
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
  | { ok: true; gid: string; status: Aria2Status | null }
  | { ok: false; reason: string };

/**
 * Hands downloads to aria2 in one multicall (plus one for their statuses): the URI or the stored
 * torrent, the task's options and folder, under the gid each row already carries, paused.
 */
export async function handOver(
  aria2: Aria2Client,
  rows: readonly (Pick<TaskRow, 'id' | 'uri' | 'torrent' | 'dir' | 'gid'> & { options: string })[],
  extra: Aria2Options = {},
): Promise<Map<number, HandOverResult>> {
  const results = new Map<number, HandOverResult>();
  if (rows.length === 0) return results;
  await Promise.all([...new Set(rows.map((r) => r.dir))].map((dir) => fs.mkdir(dir, { recursive: true })));
  const calls: Call[] = rows.map((row) => {
    // Always paused: the fair admission (services/admission.ts) decides when it starts.
    const options = { ...aria2OptionsFor(row, row.gid!), ...extra, pause: 'true' };
    if (row.uri === TORRENT_URI && row.torrent) {
      return { method: 'aria2.addTorrent', params: [row.torrent.toString('base64'), [], options] };
    }
    return { method: 'aria2.addUri', params: [[row.uri], options] };
  });
  // Each addUri is followed in the same multicall by a tellStatus of the gid chosen for it, so one
  // round trip both hands the downloads over and learns their statuses.
  const STATUS_KEYS = ['gid', 'status', 'totalLength', 'completedLength', 'errorMessage', 'errorCode'];
  const paired = calls.flatMap((call, i) => [
    call,
    { method: 'aria2.tellStatus', params: [rows[i]!.gid, STATUS_KEYS] },
  ]);
  let answers: MulticallResult[];
  try {
    answers = await aria2.multicall(paired);
  } catch (err) {
    const reason = err instanceof Error && 'reason' in err ? String(err.reason) : String(err);
    for (const row of rows) results.set(row.id, { ok: false, reason });
    return results;
  }
  rows.forEach((row, i) => {
    const added = answers[2 * i];
    const told = answers[2 * i + 1];
    if (!added) {
      results.set(row.id, { ok: false, reason: 'aria2 gave no answer for this download' });
      return;
    }
    if (!added.ok) {
      results.set(row.id, { ok: false, reason: added.error.reason });
      return;
    }
    results.set(row.id, {
      ok: true,
      gid: String(added.value),
      status: told?.ok ? parseStatus(told.value) : null,
    });
  });
  return results;
}
