/** Credentials in a URI are shown as ***:*** everywhere a URI is shown (API.md "Conventions"). */
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
