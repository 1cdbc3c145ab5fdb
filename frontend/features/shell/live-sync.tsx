'use client';

import { notifyManager, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../lib/api';
import { t } from '../../lib/i18n';
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

/**
 * What keeps the page from being live: `server` while the socket reconnects or the server does not
 * answer, `aria2` while the server says its download daemon is away; null when all is well.
 */
export type Outage = 'server' | 'aria2' | null;

const OutageContext = createContext<Outage>(null);

/** The current outage (null outside the signed-in shell). */
export function useOutage(): Outage {
  return useContext(OutageContext);
}

/** Why an action is unavailable during an outage: a button's title. */
export function outageReason(outage: Outage): string | undefined {
  if (outage === 'server') return t('offline.serverReason');
  if (outage === 'aria2') return t('offline.aria2Reason');
  return undefined;
}

/** The banner of an outage; it goes by itself when the server and aria2 are back. */
export function OutageBanner() {
  const outage = useOutage();
  if (!outage) return null;
  return (
    <div className={`outage-banner outage-${outage}`} role="status">
      <span className="outage-dot" aria-hidden="true" />
      {outage === 'server' ? t('offline.serverLost') : t('offline.aria2Down')}
    </div>
  );
}

export const healthKey = ['health'] as const;

/** How often /api/health is asked: more often while something is away, to clear the banner soon. */
const HEALTH_OK_MS = 10_000;
const HEALTH_DOWN_MS = 3000;

function useOutageOf(enabled: boolean, live: LiveState): Outage {
  const health = useQuery({
    queryKey: healthKey,
    queryFn: api.health,
    enabled,
    retry: false,
    refetchInterval: (query) =>
      query.state.status === 'error' || query.state.data?.status === 'degraded' || live === 'reconnecting'
        ? HEALTH_DOWN_MS
        : HEALTH_OK_MS,
    refetchIntervalInBackground: false,
  });
  return useMemo(() => {
    if (!enabled) return null;
    // A socket that was open and dropped, or a health check that got no answer: the server is away.
    if (live === 'reconnecting' || health.status === 'error') return 'server';
    if (health.data?.status === 'degraded') return 'aria2';
    return null;
  }, [enabled, live, health.status, health.data]);
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
        void qc.invalidateQueries({ queryKey: healthKey });
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

  const outage = useOutageOf(enabled, state);
  // Whatever the lists missed while aria2 was away is read again when it is back.
  const lastOutage = useRef<Outage>(null);
  useEffect(() => {
    if (lastOutage.current === 'aria2' && outage === null) {
      void qc.invalidateQueries({ queryKey: taskKeys.all });
      void qc.invalidateQueries({ queryKey: statsKey });
    }
    lastOutage.current = outage;
  }, [outage, qc]);

  return (
    <LiveStateContext.Provider value={state}>
      <OutageContext.Provider value={outage}>{children}</OutageContext.Provider>
    </LiveStateContext.Provider>
  );
}
