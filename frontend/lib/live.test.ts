import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, connectLive, liveUrl, parseSocketMessage } from './live';
import type { SocketMessage } from './types';

class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.instances.push(this);
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  send(data: unknown) {
    this.onmessage?.({ data });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  close() {
    this.readyState = 3;
  }
}

function setup() {
  FakeSocket.instances = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const handlers = {
    onMessage: vi.fn<(m: SocketMessage) => void>(),
    onOpen: vi.fn<(re: boolean) => void>(),
    onUnauthorized: vi.fn(),
  };
  const conn = connectLive(handlers, {
    url: 'ws://host/ws/tasks',
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    random: () => 0.5,
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
  });
  const fireReconnect = () => {
    const t = timers.find((x) => x.ms !== 5000);
    if (!t) throw new Error('no reconnect scheduled');
    timers.splice(timers.indexOf(t), 1);
    t.fn();
  };
  return { conn, handlers, timers, fireReconnect };
}

describe('live socket', () => {
  it('builds ws/wss URLs from the page', () => {
    expect(liveUrl({ protocol: 'http:', host: 'a:8000' })).toBe('ws://a:8000/ws/tasks');
    expect(liveUrl({ protocol: 'https:', host: 'a' })).toBe('wss://a/ws/tasks');
  });

  it('backs off exponentially up to a cap', () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, 1000, 30000, mid)).toBe(1000);
    expect(backoffDelay(1, 1000, 30000, mid)).toBe(2000);
    expect(backoffDelay(3, 1000, 30000, mid)).toBe(8000);
    expect(backoffDelay(10, 1000, 30000, mid)).toBe(30000);
    expect(backoffDelay(2, 1000, 30000, () => 0)).toBe(3000);
    expect(backoffDelay(2, 1000, 30000, () => 1)).toBe(5000);
  });

  it('parses the three message types and ignores the rest', () => {
    expect(parseSocketMessage('{"type":"task_removed","id":3}')).toEqual({ type: 'task_removed', id: 3 });
    expect(parseSocketMessage('{"type":"task_update","task":{"id":1}}')).toMatchObject({
      type: 'task_update',
    });
    expect(parseSocketMessage('{"type":"stats","stats":{}}')).toMatchObject({ type: 'stats' });
    expect(parseSocketMessage('{"type":"other"}')).toBeNull();
    expect(parseSocketMessage('not json')).toBeNull();
    expect(parseSocketMessage('{"type":"task_removed","id":"3"}')).toBeNull();
  });

  it('keeps the replacement a retry names in task_removed, and only a real id', () => {
    expect(parseSocketMessage('{"type":"task_removed","id":3,"replaced_by":4}')).toEqual({
      type: 'task_removed',
      id: 3,
      replaced_by: 4,
    });
    expect(parseSocketMessage('{"type":"task_removed","id":3,"replaced_by":null}')).toEqual({
      type: 'task_removed',
      id: 3,
    });
    expect(parseSocketMessage('{"type":"task_removed","id":3,"replaced_by":"4"}')).toEqual({
      type: 'task_removed',
      id: 3,
    });
    expect(parseSocketMessage('{"type":"task_removed","id":3,"replaced_by":-1}')).toEqual({
      type: 'task_removed',
      id: 3,
    });
  });

  it('delivers messages, reconnects with backoff and reports the reconnect', () => {
    const { handlers, fireReconnect, conn } = setup();
    const first = FakeSocket.instances[0]!;
    first.open();
    expect(handlers.onOpen).toHaveBeenLastCalledWith(false);
    first.send('{"type":"task_removed","id":9}');
    expect(handlers.onMessage).toHaveBeenCalledWith({ type: 'task_removed', id: 9 });
    first.drop();
    expect(conn.state).toBe('reconnecting');
    fireReconnect();
    const second = FakeSocket.instances[1]!;
    second.open();
    expect(handlers.onOpen).toHaveBeenLastCalledWith(true);
    conn.close();
    expect(conn.state).toBe('closed');
  });

  it('stops on 4401 and asks for a sign-in', () => {
    const { handlers, timers } = setup();
    FakeSocket.instances[0]!.open();
    FakeSocket.instances[0]!.drop(4401);
    expect(handlers.onUnauthorized).toHaveBeenCalled();
    expect(timers.filter((t) => t.ms !== 5000)).toHaveLength(0);
  });
});
