/**
 * Which task replaced which (a retry, by this page or another, or the server's own): an open
 * detail page of a replaced task follows it to the new one.
 */
import { useSyncExternalStore } from 'react';

const replacedBy = new Map<number, number>();
const listeners = new Set<() => void>();

/** `oldId` was replaced by `newId`. */
export function noteReplacement(oldId: number, newId: number): void {
  if (oldId === newId || replacedBy.get(oldId) === newId) return;
  replacedBy.set(oldId, newId);
  for (const l of listeners) l();
}

/** The newest task in the line of `id` (a chain of retries), or null when it was not replaced. */
export function replacementOf(id: number): number | null {
  let current = id;
  const seen = new Set<number>([id]);
  for (;;) {
    const next = replacedBy.get(current);
    if (next === undefined || seen.has(next)) break;
    seen.add(next);
    current = next;
  }
  return current === id ? null : current;
}

export function clearReplacements(): void {
  replacedBy.clear();
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The task that replaced `id`, as soon as the socket says so. */
export function useReplacement(id: number): number | null {
  return useSyncExternalStore(
    subscribe,
    () => replacementOf(id),
    () => null,
  );
}
