import { ConflictError, DependencyError } from '../../domain/errors.js';
import { publicMessage } from '../../domain/messages.js';
import type { NodeRegistry } from '../../gateway/registry.js';
import { type DownloadGateway, GatewayError, type ItemResult } from '../../gateway/types.js';

/** A daemon failure as the API answers it: no answer is a 503, as everywhere. */
export function unavailableError(err: unknown): Error {
  if (err instanceof GatewayError)
    return new DependencyError(`aria2 is unavailable: ${publicMessage(err.reason)}`, 503);
  return err instanceof Error ? err : new Error(String(err));
}

/** The same, but a daemon that answered and refused (the download changed state meanwhile) is a 409. */
export function refusalError(err: unknown): Error {
  if (err instanceof GatewayError && err.answered)
    return new ConflictError(`aria2 refused: ${publicMessage(err.reason)}`);
  return unavailableError(err);
}

/** A call whose refusal is a 409 and whose failure to answer is a 503. */
export async function refusedAsConflict<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw refusalError(err);
  }
}

/** A batch verb whose whole failure (the daemon answered none of it) is every item's failure. */
export async function eachItem<T>(
  gateway: DownloadGateway,
  run: () => Promise<ItemResult<T>[]>,
  count: number,
): Promise<ItemResult<T>[]> {
  if (count === 0) return [];
  try {
    return await run();
  } catch (err) {
    const error =
      err instanceof GatewayError ? err : new GatewayError(gateway.node, 'batch', 'unavailable', String(err));
    return Array.from({ length: count }, () => ({ ok: false as const, error }));
  }
}

/** Rows grouped by the node their download runs on, in their order (one pass: a batch may be thousands). */
export function groupedByNode<R extends { node: string }>(rows: readonly R[]): Map<string, R[]> {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const list = groups.get(r.node);
    if (list) list.push(r);
    else groups.set(r.node, [r]);
  }
  return groups;
}

/** Rows grouped by the node their download runs on, with that node's gateway. */
export function byNode<R extends { node: string }>(
  nodes: NodeRegistry,
  rows: readonly R[],
): [DownloadGateway, R[]][] {
  return [...groupedByNode(rows)].map(([node, list]) => [nodes.gatewayFor(node), list]);
}
