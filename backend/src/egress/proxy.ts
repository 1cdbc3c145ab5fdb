import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { isPublicAddress } from '../domain/addresses.js';
import { type EgressGuard, EgressRefusedError } from './guard.js';

/** How long a tunnel holds back what the server sends before aria2 has said anything. */
const SERVER_FIRST_DELAY_MS = 250;
/** A server that sent less than this in a tunnel's last second is slow: it may be read in batches. */
const SLOW_TUNNEL_BYTES_PER_S = 128 * 1024;
/**
 * A tunnel is read in batches (`GatherClock`) only once it has been slow for this long: a batch holds
 * a download's last bytes (and so its completion) for up to a second, which a short download (most
 * of whose time that second would be) does not pay, and a long one pays once, at its end.
 */
export const HOLD_SLOW_AFTER_MS = 10_000;
/** The one clock every held tunnel reads on. */
const GATHER_TICK_MS = 250;
/**
 * A held tunnel reads again once about this much has gathered in the kernel, after at most
 * MAX_GATHER_TICKS ticks: 16 KiB a second at a 16 KiB/s server, 32 KiB every 250 ms at 128 KiB/s,
 * far below the kernel's receive buffer (128 KiB at least), so the server is never slowed.
 */
const GATHER_BYTES = 32 * 1024;
const MAX_GATHER_TICKS = 4;
/** Each read of a server lands in one of these (see ReadBuffers). */
const READ_BUFFER_BYTES = 128 * 1024;
/** Spare read buffers kept for the next reads; more are left to the garbage collector. */
const SPARE_READ_BUFFERS = 8;

/**
 * The buffers every tunnel reads its server into (`onread`). A read is written to aria2 straight from
 * its buffer, without a copy, and the buffer is taken for the next read only once that write is done:
 * while writes complete at once (the usual case), a few buffers serve every tunnel, and a fast
 * download allocates nothing per read (a fresh 128 KiB copy per read kept the garbage collector busy
 * for a third of the relaying's time).
 */
class ReadBuffers {
  private readonly spare: Buffer[] = [];

  take = (): Buffer => this.spare.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

  give(buffer: Buffer): void {
    if (this.spare.length < SPARE_READ_BUFFERS) this.spare.push(buffer);
  }
}

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
  /** The clock of held tunnels; tests lower its `holdAfterMs`. */
  readonly clock = new GatherClock();
  private readonly buffers = new ReadBuffers();
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
    const reader = new ServerReader(client, this.clock, this.buffers);
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
 * The one clock of every held tunnel (see ServerReader): a tunnel held after a read is woken at a
 * tick a few ticks on, so a thousand slow downloads cost a few wake-ups of the controller a second,
 * not one per tunnel and read. It runs only while a tunnel is held.
 */
export class GatherClock {
  private timer: NodeJS.Timeout | null = null;
  private now = 0;
  private readonly held = new Map<ServerReader, number>();

  constructor(
    /** How long a tunnel has been slow before it is held. */
    public holdAfterMs = HOLD_SLOW_AFTER_MS,
  ) {}

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
 * One buffer that every slow tunnel reads its server into: a slow read is copied out and written to
 * aria2 before the next read lands, so a thousand slow tunnels do not keep 128 KiB each.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

/**
 * The server's side of one tunnel, relayed to aria2, every read in one write. A fast tunnel (one that
 * brought SLOW_TUNNEL_BYTES_PER_S or more within its current or last second) reads into buffers of its
 * own (ReadBuffers), written without a copy; any other reads into SHARED_READ_BUFFER and is copied.
 * A slow server's bytes come a packet at a time, so once a tunnel has been slow for
 * `GatherClock.holdAfterMs`, each of its reads is followed by a pause (the socket stops
 * reading: its bytes gather in the kernel's receive buffer, none is lost) until a tick of the shared
 * clock, as many ticks on as gather about GATHER_BYTES at its rate. A fast tunnel is never held.
 */
export class ServerReader {
  private upstream: net.Socket | null = null;
  private allowed: () => boolean = () => true;
  /** What the server sent before relaying began (an FTP greeting): written when it begins. */
  private early: Buffer[] | null = [];
  private waitingDrain = false;
  private windowStart = Date.now();
  private windowBytes = 0;
  /** Whether the last measured second was fast (a tunnel is taken for slow until it brings much). */
  private fastSecond = false;
  /** 0 while fast; else the ticks a held read waits for the next. */
  private holdTicks = 0;
  /** When the tunnel's slow seconds in a row began (null: its last second was fast, or not measured). */
  private slowSince: number | null = null;

  readonly onread: net.OnReadOpts = {
    // Asked after every read for the buffer of the next one.
    buffer: () =>
      this.fastSecond || this.windowBytes >= SLOW_TUNNEL_BYTES_PER_S
        ? this.buffers.take()
        : SHARED_READ_BUFFER,
    callback: (n, buf) => this.read(n, buf as Buffer),
  };

  constructor(
    private readonly client: net.Socket,
    private readonly clock: GatherClock,
    private readonly buffers: ReadBuffers,
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
   * not held until its next second is measured.
   */
  requested(): void {
    this.windowStart = Date.now();
    this.windowBytes = 0;
    this.holdTicks = 0;
    this.slowSince = null;
    this.wake();
  }

  /** One read of the server; false pauses the socket. */
  private read(n: number, buf: Buffer): boolean {
    const upstream = this.upstream;
    if (upstream && !this.allowed()) {
      upstream.destroy();
      this.client.destroy();
      return false;
    }
    const shared = buf === SHARED_READ_BUFFER;
    if (this.early) {
      this.early.push(Buffer.from(buf.subarray(0, n)));
      if (!shared) this.buffers.give(buf);
      return false;
    }
    this.windowBytes += n;
    const now = Date.now();
    if (now - this.windowStart >= 1000) this.measure(now);
    // The shared buffer is the next read's, of whichever tunnel: copied out. A buffer of this
    // tunnel's own is written as it is and taken again once aria2 has it.
    const written = shared
      ? this.client.write(Buffer.from(buf.subarray(0, n)))
      : this.client.write(buf.subarray(0, n), () => this.buffers.give(buf));
    if (!written) {
      this.waitingDrain = true;
      return false;
    }
    // A read that filled the buffer may have left more in the kernel: read on until it is empty.
    if (
      this.holdTicks > 0 &&
      n < buf.length &&
      this.slowSince !== null &&
      now - this.slowSince >= this.clock.holdAfterMs
    ) {
      this.clock.hold(this, this.holdTicks);
      return false;
    }
    return true;
  }

  /** The rate of the second that ended: whether the tunnel is fast, and how long a held read waits. */
  private measure(now: number): void {
    const rate = (this.windowBytes * 1000) / (now - this.windowStart);
    this.fastSecond = rate >= SLOW_TUNNEL_BYTES_PER_S;
    this.holdTicks = this.fastSecond
      ? 0
      : Math.max(1, Math.min(MAX_GATHER_TICKS, Math.floor(GATHER_BYTES / ((rate * GATHER_TICK_MS) / 1000))));
    if (this.fastSecond) this.slowSince = null;
    else this.slowSince ??= this.windowStart;
    this.windowStart = now;
    this.windowBytes = 0;
  }
}
