'use client';

import { notifyManager, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { connectLive, type LiveState } from '../../lib/live';
import { loginUrl } from '../../lib/navigation';
import type { Stats, Task } from '../../lib/types';
import { filesKeys } from '../files/queries';
import { removeTaskEverywhere, setStats, statsKey, taskKeys, upsertTasks } from '../tasks/cache';
import { noteReplacement } from '../tasks/replacements';

const LiveStateContext = createContext<LiveState>('connecting');

export function useLiveState(): LiveState {
  return useContext(LiveStateContext);
}

/** How often a burst of socket messages is written to the caches (one render per flush). */
const FLUSH_MS = 150;

/**
 * Keeps the caches live from `/ws/tasks` while signed in: task updates and removals go to every
 * cached list, stats to the header; after a reconnect everything is re-fetched.
 */
export function LiveSync({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');

  useEffect(() => {
    if (!enabled) return;
    let updates = new Map<number, Task>();
    let removals: number[] = [];
    let stats: Stats | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;

    const flush = () => {
      timer = null;
      const batch = Array.from(updates.values());
      const gone = removals;
      const latestStats = stats;
      updates = new Map();
      removals = [];
      stats = null;
      notifyManager.batch(() => {
        // Removals first, then updates that came after them (a retry: old id removed, new id added).
        for (const id of gone) removeTaskEverywhere(qc, id);
        if (batch.length) upsertTasks(qc, batch, { fromSocket: true });
        if (latestStats) setStats(qc, latestStats);
      });
      // A download that starts, finishes or goes changes the user's folder; progress alone
      // (active updates, about once a second) does not need a new listing.
      if (gone.length || batch.some((t) => t.status !== 'active')) {
        void qc.invalidateQueries({ queryKey: filesKeys.all });
      }
    };
    const schedule = () => {
      if (timer === null) timer = setTimeout(flush, FLUSH_MS);
    };

    const conn = connectLive({
      onMessage(message) {
        switch (message.type) {
          case 'task_update':
            updates.set(message.task.id, message.task);
            break;
          case 'task_removed':
            updates.delete(message.id);
            removals.push(message.id);
            // At once, before the flush: an open detail page moves on instead of showing "gone".
            if (message.replaced_by) noteReplacement(message.id, message.replaced_by);
            break;
          case 'stats':
            stats = message.stats;
            break;
        }
        schedule();
      },
      onOpen(reconnected) {
        if (!reconnected) return;
        void qc.invalidateQueries({ queryKey: taskKeys.all });
        void qc.invalidateQueries({ queryKey: statsKey });
      },
      onStateChange: setState,
      onUnauthorized() {
        const { pathname, search } = window.location;
        window.location.assign(loginUrl(pathname + search));
      },
    });

    const nudge = () => {
      if (document.visibilityState === 'visible') conn.nudge();
    };
    document.addEventListener('visibilitychange', nudge);
    window.addEventListener('online', nudge);
    return () => {
      document.removeEventListener('visibilitychange', nudge);
      window.removeEventListener('online', nudge);
      if (timer !== null) clearTimeout(timer);
      conn.close();
    };
  }, [enabled, qc]);

  return <LiveStateContext.Provider value={state}>{children}</LiveStateContext.Provider>;
}
