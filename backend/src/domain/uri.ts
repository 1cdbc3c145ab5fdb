import net from 'node:net';

/** Credentials in a URI are shown as ***:*** everywhere a URI is shown (SECURITY.md, "Input"). */
export function maskUri(uri: string): string {
  // Greedy up to the last '@' before the path: a password may itself contain a raw '@'.
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i, (_m, scheme: string) => `${scheme}***:***@`);
}

/** Masks every URI-looking run in a free text, such as aria2's error messages. */
export function maskUrisIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)@/gi, (_m, scheme: string) => `${scheme}***:***@`);
}

export const ALLOWED_SCHEMES = ['http', 'https', 'ftp', 'sftp', 'magnet'] as const;
export const MAX_URI_LENGTH = 16 * 1024;

export function uriScheme(uri: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(uri);
  return m ? m[1]!.toLowerCase() : null;
}

/** A display name never carries a path separator (a decoded %2F must not become one). */
const plainName = (name: string): string | null => name.replace(/[/\\\0]/g, '_') || null;

/** The file name a URI points at, for a task's name before aria2 knows better. */
export function nameFromUri(uri: string): string | null {
  if (uri.startsWith('magnet:')) {
    const dn = /[?&]dn=([^&]*)/.exec(uri);
    if (!dn) return null;
    try {
      return plainName(decodeURIComponent(dn[1]!.replace(/\+/g, ' ')));
    } catch {
      return plainName(dn[1]!);
    }
  }
  try {
    const last = new URL(uri).pathname.split('/').pop() ?? '';
    return last ? plainName(decodeURIComponent(last)) : null;
  } catch {
    return null;
  }
}

/** A magnet's info hash (hex, lower case) from its xt=urn:btih: field, base32 converted. */
export function magnetInfoHash(uri: string): string | null {
  const m = /[?&]xt=urn:btih:([A-Za-z0-9]+)/.exec(uri);
  if (!m) return null;
  const h = m[1]!;
  if (/^[0-9a-f]{40}$/i.test(h)) return h.toLowerCase();
  if (/^[A-Z2-7]{32}$/i.test(h)) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = '';
    for (const c of h.toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
    let hex = '';
    for (let i = 0; i + 4 <= bits.length; i += 4)
      hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
    return hex;
  }
  return null;
}

/** The host and port aria2 connects to for a URI, as aria2 itself splits it. */
export interface UriHost {
  /** A DNS name (lower case) or an IP literal (IPv6 without brackets). */
  host: string;
  port: number | null;
}

const LABELS = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/**
 * The host of a download URI, read the way aria2 reads it, or the reason it is refused. aria2 takes
 * the authority from "://" up to the first '/', '?' or '#' and the host after its last '@'; a WHATWG
 * URL parser (the controller's) treats '\' as '/' and decodes or normalises hosts. Where the two could
 * disagree the URI is refused, so the host the network guard checks is the host aria2 connects to:
 * a backslash, several '@', a host that is not plain ASCII letters, digits, '-', '_' and non-empty
 * labels (percent-encoded, international or trailing-dot names), an IPv4 number in another notation
 * (127.1, 0x7f.0.0.1), an IPv6 literal with a zone, or a port that is not 1-65535.
 */
export function uriHost(uri: string): UriHost | { refused: string } {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri);
  if (!m) return { refused: 'Invalid uri: it must start with scheme://host' };
  if (uri.includes('\\')) return { refused: 'Invalid uri: it contains a backslash' };
  if (/[^\x21-\x7e]/.test(m[1]!)) return { refused: 'Invalid uri: its host part is not plain ASCII' };
  const authority = m[1]!;
  const ats = authority.split('@').length - 1;
  if (ats > 1) return { refused: "Invalid uri: it has more than one '@' before the path" };
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPort);
  if (v6) {
    host = v6[1]!.toLowerCase();
    portText = v6[2];
    if (net.isIPv6(host) === false || host.includes('%'))
      return { refused: 'Invalid uri: its IPv6 host is not a plain address' };
  } else {
    const colon = hostPort.indexOf(':');
    host = (colon < 0 ? hostPort : hostPort.slice(0, colon)).toLowerCase();
    portText = colon < 0 ? undefined : hostPort.slice(colon + 1);
    if (!LABELS.test(host)) return { refused: 'Invalid uri: its host is not a plain host name or address' };
  }
  let port: number | null = null;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)
      return { refused: 'Invalid uri: its port must be a number from 1 to 65535' };
    port = Number(portText);
  }
  // The WHATWG reading must name the same host (it rewrites 127.1 and 0x7f.1 as 127.0.0.1, say).
  let whatwg: string;
  try {
    whatwg = new URL(uri).hostname.toLowerCase();
  } catch {
    return { refused: 'Invalid uri: it is not a valid URL' };
  }
  if (whatwg !== (v6 ? new URL(`http://[${host}]/`).hostname : host)) {
    return { refused: 'Invalid uri: its host is written in a form that is read in more than one way' };
  }
  return { host, port };
}
