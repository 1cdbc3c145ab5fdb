import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { isPublicAddress } from '../domain/addresses.js';
import { type EgressGuard, EgressRefusedError } from './guard.js';

/** How long a tunnel holds back what the server sends before aria2 has said anything. */
const SERVER_FIRST_DELAY_MS = 250;
/** A server that sent less than this in a tunnel's last second is read in batches (`GatherClock`). */
const SLOW_TUNNEL_BYTES_PER_S = 128 * 1024;
/** The one clock every slow tunnel reads on. */
const GATHER_TICK_MS = 250;
/**
 * A slow tunnel reads again once about this much has gathered in the kernel, after at most
 * MAX_GATHER_TICKS ticks: 16 KiB a second at a 16 KiB/s server, 32 KiB every 250 ms at 128 KiB/s,
 * far below the kernel's receive buffer (128 KiB at least), so the server is never slowed.
 */
const GATHER_BYTES = 32 * 1024;
const MAX_GATHER_TICKS = 4;
/**
 * Every tunnel reads its server into this one buffer (`onread`); each read is copied out and written
 * to aria2 before the next read lands, so the tunnels share it instead of a fresh 64 KiB per read.
 */
const READ_BUFFER = Buffer.allocUnsafe(128 * 1024);

export interface EgressLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * A CONNECT-only forward proxy on loopback that aria2 sends every HTTP, HTTPS and FTP connection
 * through (`--all-proxy`, `--proxy-method=tunnel`): each CONNECT goes through the egress guard, a refused
 * destination gets 403. Random credentials keep other local programs from using it.
 */
export class EgressProxy {
  readonly user = 'aria2';
  readonly password = randomBytes(18).toString('hex');
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly clock = new GatherClock();
  private port = 0;

  constructor(
    private readonly guard: EgressGuard,
    private readonly logger?: EgressLogger,
  ) {
    this.server = http.createServer((req, res) => {
      // Only tunnels: aria2 is told to tunnel everything, and a plain proxied request would need checks of its own.
      res.writeHead(405, { connection: 'close', 'content-type': 'text/plain' });
      res.end('Only CONNECT is served\n');
      req.resume();
    });
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('connect', (req, socket: net.Socket, head: Buffer) => {
      void this.tunnel(req, socket, head);
    });
  }

  /** `http://127.0.0.1:<port>` once started. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and cuts every open tunnel. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.clock.stop();
    await closed;
  }

  private authorized(req: http.IncomingMessage): boolean {
    const expected = Buffer.from(`Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`);
    const given = Buffer.from(req.headers['proxy-authorization'] ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async tunnel(req: http.IncomingMessage, client: net.Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const answer = (status: string, extra = '') =>
      client.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
    if (!this.authorized(req)) {
      answer('407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="aria2 egress"\r\n');
      return;
    }
    const target = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(req.url ?? '');
    const port = target ? Number(target[2]) : 0;
    if (!target || port < 1 || port > 65535) {
      answer('400 Bad Request');
      return;
    }
    const host = target[1]!;
    const reader = new ServerReader(client, this.clock);
    let upstream: net.Socket;
    let address: string;
    try {
      ({ socket: upstream, address } = await this.guard.connect(host, port, reader.onread));
    } catch (err) {
      if (err instanceof EgressRefusedError) {
        this.logger?.warn({ host, port, reason: err.why }, 'egress guard refused a connection');
        answer('403 Forbidden');
      } else {
        answer('502 Bad Gateway');
      }
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    this.sockets.add(upstream);
    upstream.once('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    // What is still being written to aria2 goes first.
    upstream.on('close', () => {
      if (client.writableLength === 0) client.destroy();
      else client.end(() => client.destroy());
    });
    // aria2 keeps tunnels open and reuses them: one opened to a private address while that was
    // allowed is cut as soon as it no longer is, before another byte goes through.
    const privateDestination = !isPublicAddress(address);
    const stillAllowed = () => !privateDestination || this.guard.allowPrivate;
    const cutWhenRefused = () => {
      if (!stillAllowed()) {
        upstream.destroy();
        client.destroy();
      }
    };
    // Both ways: a long response keeps flowing without aria2 sending another byte (ServerReader).
    // A request wants its answer now (a reused tunnel, an FTP command): not at the next tick.
    client.on('data', () => {
      cutWhenRefused();
      reader.requested();
    });
    reader.attach(upstream, stillAllowed);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    // aria2 drops whatever arrives in the same read as the 200 answer, so a server that speaks
    // first (an FTP greeting) is relayed only once aria2 has spoken or after a pause.
    const relay = () => {
      clearTimeout(timer);
      reader.start();
    };
    const timer = setTimeout(relay, SERVER_FIRST_DELAY_MS);
    if (head.length > 0) relay();
    else client.once('data', relay);
    client.once('close', () => clearTimeout(timer));
  }
}

/**
 * The one clock of every slow tunnel (see ServerReader): a tunnel held after a read is woken at a
 * tick a few ticks on, so a thousand slow downloads cost a few wake-ups of the controller a second,
 * not one per tunnel and read. It runs only while a tunnel is held.
 */
export class GatherClock {
  private timer: NodeJS.Timeout | null = null;
  private now = 0;
  private readonly held = new Map<ServerReader, number>();

  /**
   * Holds a reader until the next tick that is a multiple of `ticks`: tunnels of a like rate read
   * at the same ticks, in one wake-up, whenever each began.
   */
  hold(reader: ServerReader, ticks: number): void {
    this.held.set(reader, (Math.floor(this.now / ticks) + 1) * ticks);
    this.timer ??= setInterval(() => this.tick(), GATHER_TICK_MS);
  }

  /** Whether a reader waits for a tick. */
  holds(reader: ServerReader): boolean {
    return this.held.has(reader);
  }

  release(reader: ServerReader): void {
    this.held.delete(reader);
    if (this.held.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    this.now++;
    const due: ServerReader[] = [];
    for (const [reader, at] of this.held) if (at <= this.now) due.push(reader);
    for (const reader of due) {
      this.held.delete(reader);
      reader.wake();
    }
    if (this.held.size === 0) this.stop();
  }
}

/**
 * The server's side of one tunnel, relayed to aria2. The socket reads into READ_BUFFER (`onread`) and
 * every read is written to aria2 at once, in one write. A slow server's bytes come a packet at a time,
 * so each read of a slow tunnel is followed by a pause (the socket stops reading: its bytes gather in
 * the kernel's receive buffer, none is lost) until a tick of the shared clock, as many ticks on as
 * gather about GATHER_BYTES at its rate. A tunnel is taken for fast until its first second is measured,
 * and a fast one is never held, so fast downloads are not concerned.
 */
export class ServerReader {
  private upstream: net.Socket | null = null;
  private allowed: () => boolean = () => true;
  /** What the server sent before relaying began (an FTP greeting): written when it begins. */
  private early: Buffer[] | null = [];
  private waitingDrain = false;
  private windowStart = Date.now();
  private windowBytes = 0;
  /** 0 while fast; else the ticks a read waits for the next. */
  private holdTicks = 0;

  readonly onread: net.OnReadOpts = {
    buffer: READ_BUFFER,
    callback: (n, buf) => this.read(n, buf),
  };

  constructor(
    private readonly client: net.Socket,
    private readonly clock: GatherClock,
  ) {
    client.on('drain', () => {
      this.waitingDrain = false;
      if (!this.clock.holds(this)) this.upstream?.resume();
    });
  }

  attach(upstream: net.Socket, allowed: () => boolean): void {
    this.upstream = upstream;
    this.allowed = allowed;
    upstream.once('close', () => this.clock.release(this));
  }

  /** Relaying begins: what came early goes first. */
  start(): void {
    const early = this.early;
    if (!early) return;
    this.early = null;
    if (!this.allowed()) {
      this.upstream?.destroy();
      this.client.destroy();
      return;
    }
    this.windowStart = Date.now();
    for (const chunk of early) this.client.write(chunk);
    this.wake();
  }

  /** Reads again (a tick of the clock). */
  wake(): void {
    if (this.early || !this.upstream || this.upstream.destroyed) return;
    this.clock.release(this);
    if (!this.waitingDrain) this.upstream.resume();
  }

  /**
   * aria2 sent a request (a reused tunnel, an FTP command): its answer is not held, and the tunnel is
   * taken for fast until its next second is measured.
   */
  requested(): void {
    this.windowStart = Date.now();
    this.windowBytes = 0;
    this.holdTicks = 0;
    this.wake();
  }

  /** One read of the server; false pauses the socket. */
  private read(n: number, buf: Uint8Array): boolean {
    const upstream = this.upstream;
    if (upstream && !this.allowed()) {
      upstream.destroy();
      this.client.destroy();
      return false;
    }
    // Copied out: the buffer is the next read's, of whichever tunnel.
    const chunk = Buffer.from(buf.subarray(0, n));
    if (this.early) {
      this.early.push(chunk);
      return false;
    }
    this.windowBytes += n;
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      const rate = (this.windowBytes * 1000) / (now - this.windowStart);
      this.holdTicks =
        rate >= SLOW_TUNNEL_BYTES_PER_S
          ? 0
          : Math.max(
              1,
              Math.min(MAX_GATHER_TICKS, Math.floor(GATHER_BYTES / ((rate * GATHER_TICK_MS) / 1000))),
            );
      this.windowStart = now;
      this.windowBytes = 0;
    }
    if (!this.client.write(chunk)) {
      this.waitingDrain = true;
      return false;
    }
    // A read that filled the buffer may have left more in the kernel: read on until it is empty.
    if (this.holdTicks > 0 && n < buf.length) {
      this.clock.hold(this, this.holdTicks);
      return false;
    }
    return true;
  }
}
