import { InvalidInputError } from './errors.js';

/** A path inside a user's folder is at most 4 KiB of UTF-8; one name at most 255 bytes (the filesystems' limit). */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

/**
 * Checks a path relative to a user's folder as the API takes it: `/`-separated names, none empty, `.`
 * or `..`, no leading `/`, no control character or backslash, well-formed Unicode, bounded length. `""`
 * is the folder itself. Returns the segments; a broken rule is a 422 naming `field`.
 */
export function parseUserPath(field: string, value: string): string[] {
  const bad = (why: string) => new InvalidInputError(`Invalid ${field}: ${why}`);
  if (value === '') return [];
  // With the u flag a surrogate pair is one code point, so only a lone surrogate matches \p{Cs}.
  if (/\p{Cs}/u.test(value)) throw bad('it is not well-formed Unicode');
  if (Buffer.byteLength(value, 'utf8') > MAX_PATH_BYTES) throw bad('it is longer than 4 KiB');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) throw bad('it contains a control character');
  if (value.startsWith('/')) throw bad('it must be relative (no leading /)');
  if (value.includes('\\')) throw bad('it must use / as the separator, not \\');
  const segments = value.split('/');
  for (const s of segments) {
    if (s === '') throw bad('it has an empty segment');
    if (s === '.' || s === '..') throw bad('it cannot contain . or .. segments');
    if (Buffer.byteLength(s, 'utf8') > MAX_NAME_BYTES) throw bad('a name is longer than 255 bytes');
  }
  return segments;
}

/** True when `inner` is `outer` or lies under it (both `/`-separated relative paths). */
export function isWithin(inner: string, outer: string): boolean {
  return outer === '' || inner === outer || inner.startsWith(`${outer}/`);
}

/** `inner` moved along with `from` to `to` (inner is within from). */
export function rebase(inner: string, from: string, to: string): string {
  return inner === from ? to : `${to}${inner.slice(from.length)}`;
}
