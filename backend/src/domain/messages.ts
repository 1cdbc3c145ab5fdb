import { maskUrisIn } from './uri.js';

/** An absolute path in free text (after a space, a quote or the start): its folders are the server's business. */
const ABSOLUTE_PATH = /(^|[\s'"(=])(\/[^\s'"(),;]*)/g;

/**
 * A message as a client may see it: credentials in URIs masked and absolute server paths cut down to
 * their last part ("Failed to write into the file /srv/data/1/.incomplete/x/a.iso" → "... file a.iso").
 */
export function publicMessage(text: string): string {
  return maskUrisIn(text).replace(ABSOLUTE_PATH, (_m, before: string, p: string) => {
    const last = p.replace(/\/+$/, '').split('/').pop();
    return `${before}${last || ''}`;
  });
}
