import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { SocketMessage } from '../contracts/socket.js';
import type { AuthService } from '../services/auth.js';
import type { ServiceContext } from '../services/context.js';
import { type SessionsEnded, type TaskRow, type TokenRevoked, toTask } from '../services/events.js';
import type { StatsService } from '../services/stats.js';

/** Above this many unsent bytes a socket is slow: its messages are coalesced instead of queued. */
const SLOW_BYTES = 256 * 1024;
/** A socket that cannot take even this much is dropped (its client reconnects and re-fetches). */
const DEAD_BYTES = 16 * 1024 * 1024;
const FLUSH_MS = 100;
/**
 * A socket's messages of one turn of the event loop (a progress pass emits every changed row at once)
 * are held back by corking its connection and leave together in one write; past this many bytes the
 * held ones go at once, so a burst never waits on itself and the slow check above still sees the kernel.
 */
const CORK_BYTES = 64 * 1024;
/**
 * Clients send the live socket nothing it reads: a message past this closes it (the WebSocket server's
 * own cap is the RPC's, which takes whole torrents).
 */
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;
const STATS_INTERVAL_MS = 1000;

/** What a socket was opened with: a session (by its id hash) or an API token (by its id). */
export type SocketAuth = { sessionIdHash: string } | { tokenId: number };

interface Client {
  socket: WebSocket;
  /** The session the socket was opened with: when it ends, the socket closes (4401). Null for a token. */
  sessionIdHash: string | null;
  /** The API token the socket was opened with: when it is revoked, the socket closes (4401). */
  tokenId: number | null;
  /** Latest message per key (a task id or "stats") waiting for a slow socket: bounded by the user's tasks. */
  pending: Map<string, string>;
  flushTimer: NodeJS.Timeout | null;
  /** The connection under the socket, corked while this turn's messages gather (null: sent one by one). */
  stream: Pick<Writable, 'cork' | 'uncork'> | null;
  corked: boolean;
  /** Fires when the session is due to expire: it is looked up again then (it may have slid). */
  expiryTimer: NodeJS.Timeout | null;
}

interface StatsBatch {
  users: Set<number>;
  timer: NodeJS.Timeout | null;
}

/** setTimeout's longest delay (about 24.8 days); a later expiry is looked at again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The live hub: one room per user, task and stats messages only to the owner's sockets. A slow socket
 * never slows the server: its backlog keeps only the latest message per task.
 */
export class SocketHub {
  private readonly rooms = new Map<number, Set<Client>>();
  /** Users whose stats are due at once (a new socket), and those due within a second (task changes). */
  private readonly statsNow: StatsBatch = { users: new Set(), timer: null };
  private readonly statsLater: StatsBatch = { users: new Set(), timer: null };
  /** Clients corked in this turn of the event loop, uncorked together right after it. */
  private corked: Client[] = [];
  private readonly uncorkAll = () => {
    const clients = this.corked;
    this.corked = [];
    for (const client of clients) this.uncork(client);
  };
  /** Stats computations so far (one per batch of users), for tests. */
  statsBatches = 0;
  private readonly onUpdate = (row: TaskRow) => {
    this.send(row.owner_id, `task:${row.id}`, { type: 'task_update', task: toTask(row) });
    this.scheduleStats(row.owner_id);
  };
  private readonly onRemoved = (ownerId: number, id: number, replacedBy?: number) => {
    this.send(
      ownerId,
      `task:${id}`,
      replacedBy === undefined
        ? { type: 'task_removed', id }
        : { type: 'task_removed', id, replaced_by: replacedBy },
    );
    this.scheduleStats(ownerId);
  };
  private readonly onSessionsEnded = (ended: SessionsEnded) => {
    const rooms = 'userId' in ended ? [this.rooms.get(ended.userId)] : [...this.rooms.values()];
    for (const room of rooms) {
      for (const client of room ?? []) {
        if (client.sessionIdHash === null) continue;
        const hit =
          'userId' in ended
            ? client.sessionIdHash !== ended.exceptIdHash
            : client.sessionIdHash === ended.idHash;
        if (hit) client.socket.close(4401, 'Not authenticated');
      }
    }
  };
  private readonly onTokenRevoked = ({ userId, tokenId }: TokenRevoked) => {
    for (const client of this.rooms.get(userId) ?? []) {
      if (client.tokenId !== null && (tokenId === null || client.tokenId === tokenId)) {
        client.socket.close(4401, 'Not authenticated');
      }
    }
  };

  constructor(
    private readonly ctx: ServiceContext,
    private readonly stats: StatsService,
    private readonly sessions: Pick<AuthService, 'sessionExpiresAt'>,
  ) {
    ctx.events.on('task_update', this.onUpdate);
    ctx.events.on('task_removed', this.onRemoved);
    ctx.events.on('sessions_ended', this.onSessionsEnded);
    ctx.events.on('token_revoked', this.onTokenRevoked);
  }

  /** Sockets per user, for health and tests. */
  count(userId?: number): number {
    if (userId !== undefined) return this.rooms.get(userId)?.size ?? 0;
    let n = 0;
    for (const room of this.rooms.values()) n += room.size;
    return n;
  }

  /**
   * `stream`: the connection the socket was upgraded from (the request's socket), so a turn's messages
   * can leave in one write.
   */
  add(
    userId: number,
    socket: WebSocket,
    auth: SocketAuth,
    stream: Pick<Writable, 'cork' | 'uncork'> | null = null,
  ): void {
    const client: Client = {
      socket,
      stream,
      corked: false,
      sessionIdHash: 'sessionIdHash' in auth ? auth.sessionIdHash : null,
      tokenId: 'tokenId' in auth ? auth.tokenId : null,
      pending: new Map(),
      flushTimer: null,
      expiryTimer: null,
    };
    let room = this.rooms.get(userId);
    if (!room) {
      room = new Set();
      this.rooms.set(userId, room);
    }
    room.add(client);
    socket.on('close', () => {
      if (client.flushTimer) clearTimeout(client.flushTimer);
      if (client.expiryTimer) clearTimeout(client.expiryTimer);
      room.delete(client);
      if (room.size === 0) this.rooms.delete(userId);
    });
    this.scheduleStats(userId, true);
    // A token does not expire; its revocation closes the socket (onTokenRevoked).
    if (client.sessionIdHash !== null) void this.watchSession(client);
  }

  /**
   * A socket lives no longer than its session: at the session's expiry it is looked up again (an
   * HTTP request may have slid it) and the socket closes with 4401 once it has ended.
   */
  private async watchSession(client: Client): Promise<void> {
    client.expiryTimer = null;
    const { socket } = client;
    if (socket.readyState !== socket.OPEN && socket.readyState !== socket.CONNECTING) return;
    let expiresAt: number | null;
    try {
      expiresAt = await this.sessions.sessionExpiresAt(client.sessionIdHash!);
    } catch (err) {
      // The database is busy or away: look again shortly rather than guess either way.
      this.ctx.logger.warn({ err: (err as Error).message }, 'could not look up the session of a socket');
      expiresAt = Date.now() + 5000;
    }
    if (socket.readyState !== socket.OPEN) return;
    const left = expiresAt === null ? 0 : expiresAt - Date.now();
    if (left <= 0) {
      socket.close(4401, 'Not authenticated');
      return;
    }
    client.expiryTimer = setTimeout(() => void this.watchSession(client), Math.min(left + 10, MAX_TIMER_MS));
    client.expiryTimer.unref();
  }

  private send(userId: number, key: string, message: SocketMessage): void {
    const room = this.rooms.get(userId);
    if (!room) return;
    const text = JSON.stringify(message);
    for (const client of room) this.deliver(client, key, text);
  }

  private deliver(client: Client, key: string, text: string): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN) return;
    if (client.pending.size === 0 && socket.bufferedAmount < SLOW_BYTES) {
      this.cork(client);
      socket.send(text);
      if (socket.bufferedAmount >= CORK_BYTES) this.uncork(client);
      return;
    }
    client.pending.delete(key);
    client.pending.set(key, text);
    this.scheduleFlush(client);
  }

  private cork(client: Client): void {
    if (client.corked || !client.stream) return;
    client.stream.cork();
    client.corked = true;
    if (this.corked.push(client) === 1) process.nextTick(this.uncorkAll);
  }

  private uncork(client: Client): void {
    if (!client.corked) return;
    client.corked = false;
    client.stream!.uncork();
  }

  private scheduleFlush(client: Client): void {
    if (client.flushTimer) return;
    client.flushTimer = setTimeout(() => {
      client.flushTimer = null;
      const { socket } = client;
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > DEAD_BYTES) {
        socket.terminate();
        return;
      }
      for (const [key, text] of client.pending) {
        if (socket.bufferedAmount >= SLOW_BYTES) break;
        socket.send(text);
        client.pending.delete(key);
      }
      if (client.pending.size > 0) this.scheduleFlush(client);
    }, FLUSH_MS);
  }

  /**
   * Stats follow task changes, at most once a second per user. Every user due together is computed in
   * one batch (StatsService.forUsers: a few statements whatever their number) on one timer, not on a
   * timer and four queries each: a progress pass that changes every user's task would otherwise cost a
   * thousand stats computations a second. A new socket's stats come at once (`now`).
   */
  private scheduleStats(userId: number, now = false): void {
    if (!this.rooms.has(userId) || this.statsNow.users.has(userId) || this.statsLater.users.has(userId))
      return;
    const batch = now ? this.statsNow : this.statsLater;
    batch.users.add(userId);
    batch.timer ??= setTimeout(() => void this.sendStats(batch), now ? 0 : STATS_INTERVAL_MS);
  }

  private async sendStats(batch: StatsBatch): Promise<void> {
    const users = [...batch.users].filter((id) => this.rooms.has(id));
    batch.users.clear();
    batch.timer = null;
    if (users.length === 0) return;
    this.statsBatches++;
    try {
      const all = await this.stats.forUsers(users);
      for (const [userId, stats] of all) this.send(userId, 'stats', { type: 'stats', stats });
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, 'could not compute stats for the sockets');
    }
  }

  close(): void {
    this.ctx.events.off('task_update', this.onUpdate);
    this.ctx.events.off('task_removed', this.onRemoved);
    this.ctx.events.off('sessions_ended', this.onSessionsEnded);
    this.ctx.events.off('token_revoked', this.onTokenRevoked);
    for (const batch of [this.statsNow, this.statsLater]) {
      if (batch.timer) clearTimeout(batch.timer);
      batch.timer = null;
      batch.users.clear();
    }
    for (const room of this.rooms.values())
      for (const c of room) {
        if (c.expiryTimer) clearTimeout(c.expiryTimer);
        c.socket.close(1001, 'server shutting down');
      }
    this.rooms.clear();
  }
}

/**
 * Messages from clients are not part of the live socket's contract: a flood of them, or one past its cap,
 * closes it. Set as soon as the socket opens, before it is authenticated, so that nothing sent meanwhile
 * escapes the limits (the WebSocket server's own cap is the RPC's, much larger).
 */
export function limitClientMessages(socket: WebSocket): void {
  let received = 0;
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    if (++received > 100) socket.close(1008, 'too many messages');
    else if (messageBytes(data) > MAX_CLIENT_MESSAGE_BYTES) socket.close(1009, 'message too big');
  });
}

function messageBytes(data: Buffer | ArrayBuffer | Buffer[]): number {
  return Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
}
