/**
 * The live socket: `/ws/tasks` on the page's own host (ws: or wss: after the page's protocol).
 * Messages: `task_update` {task}, `task_removed` {id, replaced_by?}, `stats` {stats}. Reconnects with
 * exponential backoff and jitter; `onOpen(true)` tells a reconnect apart so the caller re-fetches
 * the list. Close code 4401 means the session is gone (the caller sends the user to sign in);
 * 4403 means the origin was refused (no point retrying).
 */
import type { SocketMessage } from './types';

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A task row is gone; `replaced_by` names the new task when a retry replaced it. */
export interface TaskRemovedMessage {
  type: 'task_removed';
  id: number;
  replaced_by?: number | null;
}

/** One message of the socket, as this client reads it. */
export type LiveMessage = Exclude<SocketMessage, { type: 'task_removed' }> | TaskRemovedMessage;

export interface LiveHandlers {
  onMessage(message: LiveMessage): void;
  /** `reconnected` is true for every open after the first. */
  onOpen?(reconnected: boolean): void;
  onStateChange?(state: LiveState): void;
  /** The server closed with 4401 (not signed in). */
  onUnauthorized?(): void;
}

export interface LiveOptions {
  url?: string;
  WebSocketImpl?: typeof WebSocket;
  /** Backoff bounds in ms. */
  minDelay?: number;
  maxDelay?: number;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface LiveConnection {
  close(): void;
  /** Reconnects now when waiting for the next attempt (the page became visible, the network came back). */
  nudge(): void;
  readonly state: LiveState;
}

/** The wait before attempt `attempt` (0-based): min·2^attempt capped at max, with ±25 % jitter. */
export function backoffDelay(
  attempt: number,
  minDelay = 1000,
  maxDelay = 30_000,
  random = Math.random,
): number {
  const base = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt, 20));
  const jitter = base * 0.25 * (random() * 2 - 1);
  return Math.max(minDelay / 2, Math.round(base + jitter));
}

/** `ws(s)://<host>/ws/tasks` for the current page. */
export function liveUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/tasks`;
}

/** Parses one frame; anything that is not a known message is ignored (null). */
export function parseSocketMessage(data: unknown): LiveMessage | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const msg = value as Record<string, unknown>;
  switch (msg.type) {
    case 'task_update':
      return msg.task && typeof msg.task === 'object' && typeof (msg.task as { id?: unknown }).id === 'number'
        ? (msg as unknown as SocketMessage)
        : null;
    case 'task_removed': {
      if (typeof msg.id !== 'number') return null;
      // Only a real id is followed; anything else reads as a plain removal.
      const by = msg.replaced_by;
      return typeof by === 'number' && Number.isInteger(by) && by > 0
        ? { type: 'task_removed', id: msg.id, replaced_by: by }
        : { type: 'task_removed', id: msg.id };
    }
    case 'stats':
      return msg.stats && typeof msg.stats === 'object' ? (msg as unknown as SocketMessage) : null;
    default:
      return null;
  }
}

/** A connection that stays open until `close()`, reconnecting after every drop. */
export function connectLive(handlers: LiveHandlers, options: LiveOptions = {}): LiveConnection {
  const WS = options.WebSocketImpl ?? globalThis.WebSocket;
  const url = options.url ?? liveUrl(globalThis.location);
  const minDelay = options.minDelay ?? 1000;
  const maxDelay = options.maxDelay ?? 30_000;
  const random = options.random ?? Math.random;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>));

  let socket: WebSocket | null = null;
  let timer: unknown = null;
  let attempt = 0;
  let everOpened = false;
  let stopped = false;
  let state: LiveState = 'connecting';
  let stableTimer: unknown = null;

  const setState = (next: LiveState) => {
    if (state === next) return;
    state = next;
    handlers.onStateChange?.(next);
  };

  const schedule = () => {
    if (stopped) return;
    setState('reconnecting');
    const delay = backoffDelay(attempt, minDelay, maxDelay, random);
    attempt += 1;
    timer = setTimer(() => {
      timer = null;
      open();
    }, delay);
  };

  const open = () => {
    if (stopped) return;
    let ws: WebSocket;
    try {
      ws = new WS(url);
    } catch {
      schedule();
      return;
    }
    socket = ws;
    ws.onopen = () => {
      if (socket !== ws) return;
      const reconnected = everOpened;
      everOpened = true;
      setState('open');
      // Only a connection that stays up a while resets the backoff (no hammering a flapping server).
      stableTimer = setTimer(() => {
        attempt = 0;
      }, 5000);
      handlers.onOpen?.(reconnected);
    };
    ws.onmessage = (event: MessageEvent) => {
      if (socket !== ws) return;
      const message = parseSocketMessage(event.data);
      if (message) handlers.onMessage(message);
    };
    ws.onclose = (event: CloseEvent) => {
      if (socket !== ws) return;
      socket = null;
      if (stableTimer !== null) {
        clearTimer(stableTimer);
        stableTimer = null;
      }
      if (stopped) return;
      if (event.code === 4401) {
        stopped = true;
        setState('closed');
        handlers.onUnauthorized?.();
        return;
      }
      if (event.code === 4403) {
        stopped = true;
        setState('closed');
        return;
      }
      schedule();
    };
    ws.onerror = () => {
      // A close event follows; reconnecting happens there.
    };
  };

  open();

  return {
    close() {
      stopped = true;
      if (timer !== null) clearTimer(timer);
      if (stableTimer !== null) clearTimer(stableTimer);
      timer = null;
      const ws = socket;
      socket = null;
      if (ws && (ws.readyState === 0 || ws.readyState === 1)) ws.close(1000, 'bye');
      setState('closed');
    },
    nudge() {
      if (stopped || timer === null) return;
      clearTimer(timer);
      timer = null;
      open();
    },
    get state() {
      return state;
    },
  };
}
