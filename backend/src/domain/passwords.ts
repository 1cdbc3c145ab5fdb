import { createHash, randomBytes, randomInt } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/*
 * argon2id with the library's defaults (m=19 MiB, t=2, p=1: OWASP's recommended minimum). The
 * algorithm is the library default; its `Algorithm` const enum cannot be referenced under
 * isolatedModules, and the tests check the `$argon2id$` prefix.
 */

export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Constant-time by construction (argon2 recomputes and compares the whole digest); false for a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random password without look-alike characters (about 5.8 bits per character). */
export function generatePassword(length = 20): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A session id: 256 random bits, base64url (43 characters). */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What the database keeps of a session id: its SHA-256, so a leaked database holds no live cookie. */
export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex');
}
