import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';
import { InvalidInputError } from '../domain/errors.js';
import { uriHost } from '../domain/uri.js';
import { type EgressGuard, EgressRefusedError } from '../egress/guard.js';

const GUARD_SENTENCE = 'Invalid uri: its host is a loopback, private or otherwise non-public address';

/** The keys of a magnet link that name a place aria2 may contact: trackers and web or exact sources. */
const MAGNET_SOURCE_KEY = /^(tr|ws|as|xs)(\.\d+)?$/;

/** The tracker and source URIs a magnet link carries, decoded. */
export function magnetSources(uri: string): string[] {
  const query = uri.slice(uri.indexOf('?') + 1);
  const out: string[] = [];
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || !MAGNET_SOURCE_KEY.test(pair.slice(0, eq))) continue;
    const raw = pair.slice(eq + 1).replace(/\+/g, ' ');
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      out.push(raw);
    }
  }
  return out;
}

/**
 * The network guard at add time: a URI whose host aria2 would read differently is refused always;
 * unless private networks are allowed, so is one whose host is (or resolves to) a non-public address,
 * and a magnet whose trackers or sources are. Both answer 422.
 */
export async function guardHost(uri: string, guard: EgressGuard): Promise<void> {
  if (uri.startsWith('magnet:')) {
    await guardSources(magnetSources(uri), guard, 'Invalid uri');
    return;
  }
  const parsed = uriHost(uri);
  if ('refused' in parsed) throw new InvalidInputError(parsed.refused);
  if (guard.allowPrivate) return;
  try {
    await guard.addresses(parsed.host);
  } catch (err) {
    if (!(err instanceof EgressRefusedError)) throw err;
    throw new InvalidInputError(
      err.why === 'non-public'
        ? GUARD_SENTENCE
        : `Invalid uri: the host ${parsed.host} could not be resolved`,
    );
  }
}

/**
 * Trackers and web seeds (of a magnet or a .torrent), checked like URIs while private networks are
 * off: one aria2 would read differently, or whose host is non-public, refuses the whole add with
 * `<prefix>: ...`. A host that does not resolve now passes (torrents often list dead trackers); its
 * HTTP connections still go through the egress proxy.
 */
export async function guardSources(
  sources: readonly string[],
  guard: EgressGuard,
  prefix: string,
): Promise<void> {
  if (guard.allowPrivate || sources.length === 0) return;
  const hosts = new Set<string>();
  for (const source of sources) {
    const parsed = uriHost(source);
    if ('refused' in parsed) {
      throw new InvalidInputError(
        `${prefix}: a tracker or web seed is refused (${parsed.refused.replace(/^Invalid uri: /, '')})`,
      );
    }
    hosts.add(parsed.host);
  }
  const list = [...hosts];
  // A few lookups at a time: a torrent may list hundreds of trackers.
  for (let i = 0; i < list.length; i += 16) {
    await Promise.all(
      list.slice(i, i + 16).map(async (host) => {
        try {
          await guard.addresses(host);
        } catch (err) {
          if (err instanceof EgressRefusedError && err.why === 'non-public') {
            throw new InvalidInputError(
              `${prefix}: the tracker or web seed host ${host} is a loopback, private or otherwise non-public address`,
            );
          }
          if (!(err instanceof EgressRefusedError)) throw err;
        }
      }),
    );
  }
}

export interface ProbeOptions {
  /** Every connection of the HEAD (redirects included) goes through it. */
  guard: EgressGuard;
  timeoutMs?: number;
  maxRedirects?: number;
}

/**
 * The size a HEAD of an http(s) URI reports, or null when unknown: no Content-Length, an error, a
 * time-out (5 s), more than 5 redirects, or a host the guard refuses. Credentials in the URI are sent.
 */
export async function probeSize(uri: string, options: ProbeOptions): Promise<number | null> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  let current = uri;
  for (let hop = 0; hop <= (options.maxRedirects ?? 5); hop++) {
    let url: URL;
    try {
      url = new URL(current);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return null;
    const answer = await headOnce(url, remaining, options.guard);
    if (!answer) return null;
    if (answer.status >= 300 && answer.status < 400 && answer.location) {
      current = new URL(answer.location, url).toString();
      continue;
    }
    if (answer.status < 200 || answer.status >= 300) return null;
    return answer.length;
  }
  return null;
}

/** A connection for http.request made by the egress guard: resolved once, checked, then dialled. */
function guardedConnection(url: URL, guard: EgressGuard) {
  const host = url.hostname;
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return (_options: unknown, done: (err: Error | null, socket?: net.Socket) => void): undefined => {
    guard.connect(host, port).then(
      ({ socket }) => {
        if (url.protocol !== 'https:') return done(null, socket);
        const bare = host.startsWith('[') ? host.slice(1, -1) : host;
        const servername = /^[\d.]+$|:/.test(bare) ? undefined : bare;
        done(null, tls.connect({ socket, servername }));
      },
      (err: Error) => done(err),
    );
    return undefined;
  };
}

function headOnce(
  url: URL,
  timeoutMs: number,
  guard: EgressGuard,
): Promise<{ status: number; location: string | null; length: number | null } | null> {
  return new Promise((resolve) => {
    const client = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'user-agent': 'aria2-controller', accept: '*/*' };
    if (url.username || url.password) {
      const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const req = client.request(
      url,
      {
        method: 'HEAD',
        headers,
        timeout: timeoutMs,
        createConnection: guardedConnection(url, guard) as unknown as http.RequestOptions['createConnection'],
      },
      (res) => {
        res.resume();
        const raw = res.headers['content-length'];
        const length = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : null;
        resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? null, length });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}
