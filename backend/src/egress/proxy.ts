import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { isPublicAddress } from '../domain/addresses.js';
import { type EgressGuard, EgressRefusedError } from './guard.js';

/** How long a tunnel holds back what the server sends before aria2 has said anything. */
const SERVER_FIRST_DELAY_MS = 250;
/** A server that sent less than this in a tunnel's last second is read in batches (`gatherSlowReads`). */
const SLOW_TUNNEL_BYTES_PER_S = 128 * 1024;
/** How long a slow tunnel's bytes gather in the kernel between reads: at most 38 KiB at the rate above. */
const SLOW_TUNNEL_GATHER_MS = 300;

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
    let upstream: net.Socket;
    let address: string;
    try {
      ({ socket: upstream, address } = await this.guard.connect(host, port));
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
    upstream.on('close', () => client.destroy());
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
    // Both ways: a long response keeps flowing without aria2 sending another byte.
    client.on('data', cutWhenRefused);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    // aria2 drops whatever arrives in the same read as the 200 answer, so a server that speaks
    // first (an FTP greeting) is relayed only once aria2 has spoken or after a pause.
    let relaying = false;
    const relay = () => {
      if (relaying) return;
      relaying = true;
      clearTimeout(timer);
      upstream.on('data', cutWhenRefused);
      gatherSlowReads(upstream, client);
      upstream.pipe(client);
    };
    const timer = setTimeout(relay, SERVER_FIRST_DELAY_MS);
    if (head.length > 0) relay();
    else client.once('data', relay);
    client.once('close', () => clearTimeout(timer));
  }
}

/**
 * Reads a slow server in batches. Every read wakes the controller and aria2 once, and a slow server's
 * bytes come a packet at a time, so a thousand slow downloads would cost tens of thousands of wake-ups
 * a second. After a read, a tunnel whose last second brought under SLOW_TUNNEL_BYTES_PER_S waits
 * SLOW_TUNNEL_GATHER_MS before the next, its bytes held meanwhile in the kernel's receive buffer
 * (which they fit: no byte is lost and the server is not slowed). A tunnel is taken for fast until its
 * first second is measured, and a fast one is never held.
 */
function gatherSlowReads(upstream: net.Socket, client: net.Socket): void {
  let windowStart = Date.now();
  let windowBytes = 0;
  let slow = false;
  let held: NodeJS.Timeout | undefined;
  upstream.on('data', (chunk: Buffer) => {
    windowBytes += chunk.length;
    const now = Date.now();
    if (now - windowStart >= 1000) {
      slow = (windowBytes * 1000) / (now - windowStart) < SLOW_TUNNEL_BYTES_PER_S;
      windowStart = now;
      windowBytes = 0;
    }
    if (!slow || held) return;
    upstream.pause();
    held = setTimeout(() => {
      held = undefined;
      // A client that is still writing out keeps the pipe's own pause; its drain resumes the reads.
      if (!client.writableNeedDrain) upstream.resume();
    }, SLOW_TUNNEL_GATHER_MS);
  });
  upstream.once('close', () => clearTimeout(held));
}
