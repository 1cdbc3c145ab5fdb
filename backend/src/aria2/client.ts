import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Aria2Error } from './errors.js';
import { type Aria2Status, type Aria2StatusKey, parseStatus } from './types.js';

export interface Aria2ClientOptions {
  /** http(s)://host:port/jsonrpc or ws(s)://…; the client always speaks WebSocket. */
  url: string;
  secret: string | null;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** Reconnect backoff bounds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** aria2's --rpc-max-request-size: a request over it is refused here, never sent. */
  maxRequestBytes?: number;
  /** A multicall goes out as requests of at most this many bytes (and calls) each. */
  multicallBytes?: number;
  multicallCalls?: number;
}

/** A lone UTF-16 surrogate (half of a pair without its other half). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string in a JSON value (keys too) is well-formed Unicode. */
function wellFormed(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (depth > 32 || value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((v) => wellFormed(v, depth + 1));
  return Object.entries(value).every(([k, v]) => wellFormed(k) && wellFormed(v, depth + 1));
}
/** aria2's own default --rpc-max-request-size, for an external daemon whose setting is unknown. */
export const DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024;
/**
 * A multicall's share per request: small enough that a long batch never builds one huge string
 * (in the controller or in aria2), large enough that a normal batch needs few round trips.
 */
export const MULTICALL_BYTES = 512 * 1024;
export const MULTICALL_CALLS = 500;

export const ARIA2_NOTIFICATIONS = [
  'aria2.onDownloadStart',
  'aria2.onDownloadPause',
  'aria2.onDownloadStop',
  'aria2.onDownloadComplete',
  'aria2.onDownloadError',
  'aria2.onBtDownloadComplete',
] as const;
export type Aria2NotificationMethod = (typeof ARIA2_NOTIFICATIONS)[number];
export interface Aria2Notification {
  method: Aria2NotificationMethod;
  gid: string;
}

export interface Aria2ClientEvents {
  connected: [];
  disconnected: [reason: string];
  notification: [Aria2Notification];
}

export type MulticallResult<T = unknown> = { ok: true; value: T } | { ok: false; error: Aria2Error };
export interface Call {
  method: string;
  params?: unknown[];
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Aria2Error) => void;
  timer: NodeJS.Timeout;
}

/** aria2 options are strings on the wire. */
export type Aria2Options = Record<string, string | string[]>;

/** Keys of the global download/upload figures. */
export interface GlobalStat {
  downloadSpeed: number;
  uploadSpeed: number;
  numActive: number;
  numWaiting: number;
  numStopped: number;
}

/**
 * The aria2 gateway: one WebSocket JSON-RPC connection with request ids, per-call timeouts,
 * `system.multicall`, the `token:` secret, reconnect with exponential backoff and jitter, and the
 * `onDownload*` notifications as events. It knows nothing of users or tasks.
 */
export class Aria2Client extends EventEmitter<Aria2ClientEvents> {
  private socket: WebSocket | null = null;
  /** The socket of a connection attempt that has not opened yet (close() must end it too). */
  private opening: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private readonly wsUrl: string;
  private readonly timeoutMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRequestBytes: number;
  private readonly multicallBytes: number;
  private readonly multicallCalls: number;
  version: string | null = null;

  constructor(private readonly options: Aria2ClientOptions) {
    super();
    this.wsUrl = options.url.replace(/^http/, 'ws');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.minBackoffMs = options.minBackoffMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.multicallBytes = Math.min(options.multicallBytes ?? MULTICALL_BYTES, this.maxRequestBytes);
    this.multicallCalls = options.multicallCalls ?? MULTICALL_CALLS;
  }

  /** What health and machine stats show: the version only while connected. */
  get state(): { connected: boolean; version: string | null } {
    const connected = this.connected;
    return { connected, version: connected ? this.version : null };
  }

  /** Open and answering: the version handshake succeeded. */
  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN && this.version !== null;
  }

  /** Opens the connection and keeps it open (reconnecting) until close(). Resolves on the first success. */
  start(): Promise<void> {
    this.closed = false;
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const onConnected = () => {
        resolve();
      };
      this.once('connected', onConnected);
      this.open();
    });
  }

  /** One connection attempt; rejects when it fails. Used by start() and by reconnects. */
  private open(): void {
    if (this.closed || this.connecting || this.socket) return;
    // aria2 echoes names as it got them (a server's Content-Disposition, a torrent's bytes): text that is
    // not UTF-8 must not cost everyone the connection, so frames are not validated (they decode with
    // U+FFFD in place of bad bytes).
    const socket = new WebSocket(this.wsUrl, {
      handshakeTimeout: this.timeoutMs,
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    this.opening = socket;
    this.connecting = new Promise<void>((resolve) => {
      let opened = false;
      socket.on('open', async () => {
        if (this.opening === socket) this.opening = null;
        if (this.closed) {
          // close() was called while this attempt was under way.
          socket.terminate();
          return;
        }
        opened = true;
        this.socket = socket;
        try {
          const v = await this.call<{ version: string }>('aria2.getVersion');
          this.version = v.version;
          this.connecting = null;
          this.attempt = 0;
        } catch (err) {
          // A wrong secret or a broken daemon: close and let the backoff retry.
          this.version = null;
          socket.terminate();
          this.emit('disconnected', err instanceof Error ? err.message : String(err));
          resolve();
          return;
        }
        this.emit('connected');
        resolve();
      });
      socket.on('message', (data) => this.onMessage(data.toString()));
      socket.on('error', () => {
        // 'close' follows and handles it.
      });
      socket.on('close', () => {
        if (this.opening === socket) this.opening = null;
        if (this.socket === socket) this.socket = null;
        this.connecting = null;
        this.failPending('connection to aria2 closed');
        if (opened && this.version !== null) this.emit('disconnected', 'connection closed');
        this.version = null;
        resolve();
        this.scheduleReconnect();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const base = Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Closes the connection for good and fails every pending call. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.opening?.terminate();
    this.opening = null;
    this.failPending('aria2 client closed');
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000).unref();
      });
    }
  }

  private failPending(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new Aria2Error(p.method, reason));
    }
  }

  private onMessage(text: string): void {
    let msg: {
      id?: number | null;
      result?: unknown;
      error?: { code: number; message: string };
      method?: string;
      params?: unknown;
    };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.id === null && msg.error) {
      // aria2 could not read a request (a parse error): with one call waiting, it is that call's answer.
      if (this.pending.size === 1) {
        const [id, p] = [...this.pending][0]!;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Aria2Error(p.method, String(msg.error.message), msg.error.code));
      }
      return;
    }
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Aria2Error(p.method, String(msg.error.message), msg.error.code));
      else p.resolve(msg.result);
      return;
    }
    if (msg.method && (ARIA2_NOTIFICATIONS as readonly string[]).includes(msg.method)) {
      const gid = (msg.params as { gid?: string }[] | undefined)?.[0]?.gid;
      if (gid) this.emit('notification', { method: msg.method as Aria2NotificationMethod, gid });
    }
  }

  private withToken(params: unknown[]): unknown[] {
    return this.options.secret ? [`token:${this.options.secret}`, ...params] : params;
  }

  /** One JSON-RPC call; fails fast with an Aria2Error naming the method when aria2 is not connected. */
  call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return this.send<T>(method, this.withToken(params));
  }

  /** Sends params exactly as given (the caller decides where the token goes). */
  private send<T>(method: string, params: unknown[]): Promise<T> {
    // JSON.stringify writes a lone surrogate as an escape that aria2 cannot parse: it answers "Parse
    // error" with no id, so the call could not be told its answer. Such params never leave.
    if (!wellFormed(params)) {
      return Promise.reject(new Aria2Error(method, 'parameters are not well-formed Unicode'));
    }
    return this.sendRaw<T>(method, JSON.stringify(params));
  }

  /** Sends params already serialized as a JSON array. */
  private sendRaw<T>(method: string, paramsJson: string): Promise<T> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Aria2Error(method, 'aria2 is not connected'));
    }
    const id = this.nextId++;
    const payload = `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`;
    const bytes = Buffer.byteLength(payload);
    // aria2 drops the connection on a request over its limit, failing every call in flight with it.
    if (bytes > this.maxRequestBytes) {
      return Promise.reject(
        new Aria2Error(method, `request of ${bytes} bytes is over aria2's limit of ${this.maxRequestBytes}`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Aria2Error(method, `no answer from aria2 within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      socket.send(payload, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new Aria2Error(method, err.message));
      });
    });
  }

  /**
   * Several calls, each succeeding or failing on its own. They go out as a few `system.multicall`
   * requests, one after another, each under the size and count bounds; a call too large to fit in
   * any request fails alone, and a reply that lacks items fails those items. When no request is
   * answered at all (aria2 away), it rejects as a single call would. The token goes inside
   * each call: aria2 takes `system.multicall`'s first parameter as the list of calls, so a token
   * there is refused as "The parameter at 0 has wrong type".
   */
  async multicall(calls: readonly Call[]): Promise<MulticallResult[]> {
    if (calls.length === 0) return [];
    const results = new Array<MulticallResult>(calls.length);
    // The envelope around the calls: {"jsonrpc":"2.0","id":N,"method":"system.multicall","params":[[...]]}.
    const envelope = 96;
    let chunk: number[] = [];
    let chunkBytes = envelope;
    const chunks: number[][] = [];
    const encoded = calls.map((c) =>
      JSON.stringify({ methodName: c.method, params: this.withToken(c.params ?? []) }),
    );
    encoded.forEach((text, i) => {
      // A call aria2 could not parse would cost the others their answers: it fails alone, unsent.
      if (!wellFormed(calls[i]!.params ?? [])) {
        results[i] = {
          ok: false,
          error: new Aria2Error(calls[i]!.method, 'parameters are not well-formed Unicode'),
        };
        return;
      }
      const bytes = Buffer.byteLength(text) + 1;
      if (envelope + bytes > this.maxRequestBytes) {
        results[i] = {
          ok: false,
          error: new Aria2Error(
            calls[i]!.method,
            `call of ${bytes} bytes is over aria2's limit of ${this.maxRequestBytes}`,
          ),
        };
        return;
      }
      if (
        chunk.length > 0 &&
        (chunkBytes + bytes > this.multicallBytes || chunk.length >= this.multicallCalls)
      ) {
        chunks.push(chunk);
        chunk = [];
        chunkBytes = envelope;
      }
      chunk.push(i);
      chunkBytes += bytes;
    });
    if (chunk.length > 0) chunks.push(chunk);
    let answered = 0;
    let lastFailure: Aria2Error | null = null;
    for (const indexes of chunks) {
      // Pre-encoded calls: each is stringified once, and the request is never built twice.
      const raw = await this.sendRaw<unknown>(
        'system.multicall',
        `[[${indexes.map((i) => encoded[i]).join(',')}]]`,
      ).catch((err: unknown) => err as Aria2Error);
      if (raw instanceof Aria2Error) lastFailure = raw;
      else answered++;
      indexes.forEach((callIndex, k) => {
        const method = calls[callIndex]!.method;
        if (raw instanceof Aria2Error) {
          results[callIndex] = { ok: false, error: new Aria2Error(method, raw.reason, raw.code) };
          return;
        }
        const r = Array.isArray(raw) ? raw[k] : undefined;
        if (Array.isArray(r)) {
          results[callIndex] = { ok: true, value: r[0] };
        } else if (r && typeof r === 'object') {
          const e = r as { code?: number; message?: string };
          results[callIndex] = {
            ok: false,
            error: new Aria2Error(method, e.message ?? 'unknown error', e.code),
          };
        } else {
          results[callIndex] = {
            ok: false,
            error: new Aria2Error(method, 'aria2 gave no answer for this call'),
          };
        }
      });
    }
    if (answered === 0 && lastFailure) throw lastFailure;
    return results;
  }

  // Typed methods. Numbers come back from aria2 as strings; parseStatus turns them into numbers.

  addUri(uris: string[], options: Aria2Options = {}, position?: number): Promise<string> {
    const params: unknown[] = [uris, options];
    if (position !== undefined) params.push(position);
    return this.call<string>('aria2.addUri', params);
  }

  addTorrent(torrentBase64: string, webSeeds: string[] = [], options: Aria2Options = {}): Promise<string> {
    return this.call<string>('aria2.addTorrent', [torrentBase64, webSeeds, options]);
  }

  async tellStatus(gid: string, keys?: readonly Aria2StatusKey[]): Promise<Aria2Status> {
    const params: unknown[] = [gid];
    if (keys) params.push(keys);
    return parseStatus(await this.call('aria2.tellStatus', params));
  }

  async tellActive(keys?: readonly Aria2StatusKey[]): Promise<Aria2Status[]> {
    const raw = await this.call<unknown[]>('aria2.tellActive', keys ? [keys] : []);
    return raw.map(parseStatus);
  }

  async tellWaiting(offset: number, num: number, keys?: readonly Aria2StatusKey[]): Promise<Aria2Status[]> {
    const raw = await this.call<unknown[]>('aria2.tellWaiting', keys ? [offset, num, keys] : [offset, num]);
    return raw.map(parseStatus);
  }

  async tellStopped(offset: number, num: number, keys?: readonly Aria2StatusKey[]): Promise<Aria2Status[]> {
    const raw = await this.call<unknown[]>('aria2.tellStopped', keys ? [offset, num, keys] : [offset, num]);
    return raw.map(parseStatus);
  }

  pause(gid: string): Promise<string> {
    return this.call('aria2.pause', [gid]);
  }
  unpause(gid: string): Promise<string> {
    return this.call('aria2.unpause', [gid]);
  }
  forceRemove(gid: string): Promise<string> {
    return this.call('aria2.forceRemove', [gid]);
  }
  removeDownloadResult(gid: string): Promise<string> {
    return this.call('aria2.removeDownloadResult', [gid]);
  }
  changePosition(gid: string, pos: number, how: 'POS_SET' | 'POS_CUR' | 'POS_END'): Promise<number> {
    return this.call('aria2.changePosition', [gid, pos, how]);
  }
  changeOption(gid: string, options: Aria2Options): Promise<string> {
    return this.call('aria2.changeOption', [gid, options]);
  }
  getServers(gid: string): Promise<{ index: string; servers: Record<string, string>[] }[]> {
    return this.call('aria2.getServers', [gid]);
  }
  async getFiles(gid: string): Promise<Aria2Status['files']> {
    const raw = await this.call<unknown[]>('aria2.getFiles', [gid]);
    return parseStatus({ files: raw }).files;
  }
  getPeers(gid: string): Promise<Record<string, string>[]> {
    return this.call('aria2.getPeers', [gid]);
  }
  async getGlobalStat(): Promise<GlobalStat> {
    const raw = await this.call<Record<string, string>>('aria2.getGlobalStat');
    return {
      downloadSpeed: Number(raw.downloadSpeed ?? 0),
      uploadSpeed: Number(raw.uploadSpeed ?? 0),
      numActive: Number(raw.numActive ?? 0),
      numWaiting: Number(raw.numWaiting ?? 0),
      numStopped: Number(raw.numStopped ?? 0),
    };
  }
  getSessionInfo(): Promise<{ sessionId: string }> {
    return this.call('aria2.getSessionInfo');
  }
  changeGlobalOption(options: Aria2Options): Promise<string> {
    return this.call('aria2.changeGlobalOption', [options]);
  }
  saveSession(): Promise<string> {
    return this.call('aria2.saveSession');
  }
  getVersion(): Promise<{ version: string; enabledFeatures: string[] }> {
    return this.call('aria2.getVersion');
  }
}
