/**
 * Fair sharing of aria2's download slots. aria2 starts waiting downloads strictly in its queue order,
 * whoever they belong to, so one user's long queue could keep everyone else waiting. The controller
 * therefore holds new downloads paused in aria2 and lets them start itself: this is the pure choice of
 * which held downloads may start now.
 */

/** Why a waiting task waits: aria2's own queue, its owner's limit of running downloads, or no free slot. */
export type WaitingReason = 'queue' | 'user_limit' | 'slots';
export const WAITING_REASONS: readonly WaitingReason[] = ['queue', 'user_limit', 'slots'];

export interface HeldDownload<K> {
  owner: number;
  key: K;
}

export interface AdmissionInput<K> {
  /** aria2's slots not taken by running or already admitted downloads (may be 0 or less). */
  freeSlots: number;
  /** At most this many running or admitted downloads per user; 0 means no per-user limit. */
  perUserLimit: number;
  /** Each user's running or admitted downloads. */
  running: ReadonlyMap<number, number>;
  /** Held downloads in aria2's queue order. */
  held: readonly HeldDownload<K>[];
}

export interface AdmissionChoice<K> {
  /** What may start now, in the order chosen. */
  admit: K[];
  /** Why each of the others keeps waiting. */
  waiting: Map<K, 'user_limit' | 'slots'>;
}

/**
 * Hands free slots out one at a time, round-robin over the users who wait: each slot goes to the user
 * with the fewest running downloads (ties: the one whose next download stands first in aria2's queue),
 * and within a user their own queue order is kept. No user passes the per-user limit, so one user's
 * queue never starves another's.
 */
export function chooseAdmissions<K>(input: AdmissionInput<K>): AdmissionChoice<K> {
  const limit = input.perUserLimit > 0 ? input.perUserLimit : Number.POSITIVE_INFINITY;
  const queues = new Map<number, { position: number; key: K }[]>();
  input.held.forEach((h, position) => {
    const q = queues.get(h.owner) ?? [];
    q.push({ position, key: h.key });
    queues.set(h.owner, q);
  });
  const running = new Map<number, number>();
  for (const owner of queues.keys()) running.set(owner, input.running.get(owner) ?? 0);

  const admit: K[] = [];
  let free = input.freeSlots;
  while (free > 0) {
    let best: number | null = null;
    for (const [owner, q] of queues) {
      if (q.length === 0 || running.get(owner)! >= limit) continue;
      if (
        best === null ||
        running.get(owner)! < running.get(best)! ||
        (running.get(owner) === running.get(best) && q[0]!.position < queues.get(best)![0]!.position)
      ) {
        best = owner;
      }
    }
    if (best === null) break;
    admit.push(queues.get(best)!.shift()!.key);
    running.set(best, running.get(best)! + 1);
    free--;
  }

  const waiting = new Map<K, 'user_limit' | 'slots'>();
  for (const [owner, q] of queues) {
    const reason = running.get(owner)! >= limit ? 'user_limit' : 'slots';
    for (const h of q) waiting.set(h.key, reason);
  }
  return { admit, waiting };
}
