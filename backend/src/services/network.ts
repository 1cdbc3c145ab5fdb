import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPublicAddress } from '../domain/addresses.js';
import { InvalidInputError } from '../domain/errors.js';

const GUARD_SENTENCE = 'Invalid uri: its host is a loopback, private or otherwise non-public address';

function hostOf(uri: string): string | null {
  try {
    const host = new URL(uri).hostname;
    return host.startsWith('[') ? host.slice(1, -1) : host;
  } catch {
    return null;
  }
}

/**
 * The network guard: unless private networks are allowed, a URI whose host is (or resolves to) a
 * non-public address is refused with a 422. Magnets have no host and pass.
 */
export async function guardHost(uri: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate || uri.startsWith('magnet:')) return;
  const host = hostOf(uri);
  if (!host) throw new InvalidInputError('Invalid uri: it has no host');
  if (net.isIP(host)) {
    if (!isPublicAddress(host)) throw new InvalidInputError(GUARD_SENTENCE);
    return;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch {
    throw new InvalidInputError(`Invalid uri: the host ${host} could not be resolved`);
  }
  if (addresses.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
    throw new InvalidInputError(GUARD_SENTENCE);
  }
}

/** A DNS lookup for http.request that refuses non-public answers, so a redirect or a rebinding cannot sneak past. */
function guardedLookup(allowPrivate: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as unknown as dns.LookupAddress[];
      const bad = !allowPrivate && list.some((a) => !isPublicAddress(a.address));
      if (bad || list.length === 0) return callback(new Error('blocked by the network guard'), '', 0);
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

export interface ProbeOptions {
  allowPrivate: boolean;
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
    if (!options.allowPrivate && net.isIP(url.hostname.replace(/^\[|\]$/g, ''))) {
      if (!isPublicAddress(url.hostname.replace(/^\[|\]$/g, ''))) return null;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) return null;
    const answer = await headOnce(url, remaining, options.allowPrivate);
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

function headOnce(
  url: URL,
  timeoutMs: number,
  allowPrivate: boolean,
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
      { method: 'HEAD', headers, lookup: guardedLookup(allowPrivate), timeout: timeoutMs },
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
