import dns from 'node:dns';
import net from 'node:net';
import { isPublicAddress } from '../domain/addresses.js';

/** Every address a host name resolves to (an IP literal never reaches it). */
export type Resolve = (host: string) => Promise<string[]>;
/**
 * Opens a TCP connection to an address that was checked. `onread`, when given, goes to `net.connect`
 * as it is: the egress proxy reads its tunnels' servers into one shared buffer (`proxy.ts`).
 */
export type Dial = (address: string, port: number, onread?: net.OnReadOpts) => net.Socket;

export const systemResolve: Resolve = async (host) =>
  (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export const systemDial: Dial = (address, port, onread) => net.connect({ host: address, port, onread });

export class EgressRefusedError extends Error {
  constructor(
    readonly host: string,
    readonly why: 'non-public' | 'unresolved',
  ) {
    super(
      why === 'non-public'
        ? `${host} is a loopback, private or otherwise non-public address`
        : `${host} could not be resolved`,
    );
    this.name = 'EgressRefusedError';
  }
}

export interface EgressGuardOptions {
  /** Read at every check: the admin may change it at run time. */
  allowPrivate: () => boolean;
  /** Tests map made-up names to addresses; the system resolver otherwise. */
  resolve?: Resolve;
  /** Tests map made-up addresses to loopback ports; a plain TCP connect otherwise. */
  dial?: Dial;
}

/**
 * The egress guard: resolves a destination once, refuses it when any of its addresses is not public
 * (unless private networks are allowed), and connects to exactly an address it checked, so neither a
 * redirect nor a second DNS answer (rebinding) can reach a private address.
 */
export class EgressGuard {
  readonly resolve: Resolve;
  private readonly dial: Dial;

  constructor(private readonly options: EgressGuardOptions) {
    this.resolve = options.resolve ?? systemResolve;
    this.dial = options.dial ?? systemDial;
  }

  get allowPrivate(): boolean {
    return this.options.allowPrivate();
  }

  /** The host's addresses, every one of them allowed; an IP literal (brackets or not) is its own. */
  async addresses(host: string): Promise<string[]> {
    const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    let list: string[];
    if (net.isIP(literal)) {
      list = [literal];
    } else {
      try {
        list = await this.resolve(literal);
      } catch {
        throw new EgressRefusedError(literal, 'unresolved');
      }
      if (list.length === 0) throw new EgressRefusedError(literal, 'unresolved');
    }
    if (!this.allowPrivate && list.some((a) => !isPublicAddress(a))) {
      throw new EgressRefusedError(literal, 'non-public');
    }
    return list;
  }

  /**
   * Connects to host:port through the check: each checked address in turn until one answers.
   * Returns the socket and the address it was checked as. `onread` is handed to the dial.
   */
  async connect(
    host: string,
    port: number,
    onread?: net.OnReadOpts,
  ): Promise<{ socket: net.Socket; address: string }> {
    const list = await this.addresses(host);
    let last: Error = new Error(`no address for ${host}`);
    for (const address of list) {
      try {
        return { socket: await opened(this.dial(address, port, onread)), address };
      } catch (err) {
        last = err as Error;
      }
    }
    throw last;
  }
}

/** A destination that neither answers nor refuses is given up after this long. */
const CONNECT_TIMEOUT_MS = 30_000;

function opened(socket: net.Socket): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => onError(new Error('connect timed out')), CONNECT_TIMEOUT_MS);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
