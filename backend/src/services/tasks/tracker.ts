/**
 * Task ids being handed to aria2 (or taken out of it) right now: the sync engine and the admission
 * leave them alone, so a download that is half handed over is neither re-added nor let in twice.
 * One tracker is shared by every service that hands over or forgets downloads.
 */
export class HandOverTracker extends Set<number> {
  /** Runs `fn` with `ids` marked, unmarking them afterwards whatever happens. */
  async around<T>(ids: readonly number[], fn: () => Promise<T>): Promise<T> {
    for (const id of ids) this.add(id);
    try {
      return await fn();
    } finally {
      for (const id of ids) this.delete(id);
    }
  }
}
