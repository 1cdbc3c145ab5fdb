import type { NodeRegistry } from '../../gateway/registry.js';
import type { DownloadGateway } from '../../gateway/types.js';
import { ignored } from '../ignored.js';
import type { Logger } from '../logger.js';
import { byNode } from './daemon.js';

export interface ForgetOptions {
  stopped?: boolean;
  logger: Logger;
}

/**
 * Stops downloads in the daemon if they run and forgets their results; errors are ignored (they may
 * be gone) and logged at debug level. `stopped`: the downloads are known to have stopped (failed or
 * stopped tasks), no stop needed.
 */
export async function forgetDownloads(
  gateway: DownloadGateway,
  gids: readonly (string | null)[],
  { stopped = false, logger }: ForgetOptions,
): Promise<void> {
  const failedTo = ignored(logger, 'a download to forget was gone or the daemon did not answer');
  const list = gids.filter((g): g is string => !!g);
  if (list.length === 0 || !gateway.connected) return;
  if (!stopped) await gateway.stop(list).catch(failedTo);
  // A stop takes effect a moment later; the result can be forgotten once the download stopped.
  const deadline = Date.now() + 3000;
  let pending = list;
  while (pending.length > 0) {
    const removed = await gateway.forget(pending).catch(failedTo);
    if (!removed) return;
    // One the daemon does not know is gone already (a failed task's result is often forgotten before
    // its retry): only a refused one may still be stopping.
    const failed = pending.filter((_gid, i) => {
      const r = removed[i]!;
      return !r.ok && r.error.kind !== 'not_found';
    });
    if (failed.length === 0 || Date.now() > deadline) return;
    // A refused one may be still stopping or gone meanwhile: ask which.
    const told = await gateway.statuses(failed, 'state').catch(failedTo);
    if (!told) return;
    // Still known: try again (a download that is still stopping has a result to forget soon).
    const known = failed.filter((_gid, i) => told[i]!.ok);
    const running = failed.filter((_gid, i) => {
      const t = told[i]!;
      return t.ok && ['active', 'waiting', 'paused'].includes(t.value.status);
    });
    if (running.length > 0) await gateway.stop(running).catch(failedTo);
    if (known.length > 0) await new Promise((r) => setTimeout(r, 50));
    pending = known;
  }
}

/** The downloads of `rows` (and the metadata downloads they followed), each on its own node. */
export async function forgetRowDownloads(
  nodes: NodeRegistry,
  rows: readonly { node: string; gid: string | null; origin_gid: string | null }[],
  options: ForgetOptions,
): Promise<void> {
  await Promise.all(
    byNode(nodes, rows).map(([gateway, list]) =>
      forgetDownloads(gateway, list.map((r) => r.gid).concat(list.map((r) => r.origin_gid)), options),
    ),
  );
}
