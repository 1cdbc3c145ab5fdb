import type { Aria2Client } from '../../aria2/client.js';

/**
 * Stops downloads in aria2 if they run and forgets their results; errors are ignored (they may be
 * gone). `stopped`: the downloads are known to have stopped (failed or stopped tasks), no stop needed.
 */
export async function forgetInAria2(
  aria2: Aria2Client,
  gids: readonly (string | null)[],
  { stopped = false } = {},
): Promise<void> {
  const list = gids.filter((g): g is string => !!g);
  if (list.length === 0 || !aria2.connected) return;
  if (!stopped) {
    await aria2
      .multicall(list.map((gid) => ({ method: 'aria2.forceRemove', params: [gid] })))
      .catch(() => undefined);
  }
  // forceRemove takes effect a moment later; the result can be removed once the download stopped.
  const deadline = Date.now() + 3000;
  let pending = list;
  while (pending.length > 0) {
    const removed = await aria2
      .multicall(pending.map((gid) => ({ method: 'aria2.removeDownloadResult', params: [gid] })))
      .catch(() => null);
    if (!removed) return;
    const failed = pending.filter((_gid, i) => !removed[i]!.ok);
    if (failed.length === 0 || Date.now() > deadline) return;
    // aria2 gives one message for "unknown" and "still running": ask which.
    const told = await aria2
      .multicall(failed.map((gid) => ({ method: 'aria2.tellStatus', params: [gid, ['status']] })))
      .catch(() => null);
    if (!told) return;
    // Still known: try again (a download that is still stopping has a result to remove soon).
    const known = failed.filter((_gid, i) => told[i]!.ok);
    const running = failed.filter((_gid, i) => {
      const t = told[i]!;
      return t.ok && ['active', 'waiting', 'paused'].includes((t.value as { status: string }).status);
    });
    if (running.length > 0) {
      await aria2
        .multicall(running.map((gid) => ({ method: 'aria2.forceRemove', params: [gid] })))
        .catch(() => undefined);
    }
    if (known.length > 0) await new Promise((r) => setTimeout(r, 50));
    pending = known;
  }
}
