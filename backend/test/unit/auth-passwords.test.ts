import { describe, expect, it } from 'vitest';
import {
  generatePassword,
  hashPassword,
  hashSessionId,
  newSessionId,
  SESSION_ID_PATTERN,
  verifyPassword,
} from '../../src/domain/passwords.js';

describe('password hashing', () => {
  it('hashes with argon2id, salted, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse battery');
    expect(await verifyPassword(a, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(a, 'correct horse batterY')).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch instead of throwing', async () => {
    expect(await verifyPassword('not-a-hash', 'whatever1')).toBe(false);
  });

  it('generates 20-character passwords from an unambiguous alphabet, different each time', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = generatePassword(20);
      expect(p).toMatch(/^[A-HJ-NP-Za-km-z2-9]{20}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });
});

describe('session ids', () => {
  it('are 256 random bits in base64url and are stored as their SHA-256', () => {
    const id = newSessionId();
    expect(id).toMatch(SESSION_ID_PATTERN);
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    expect(newSessionId()).not.toBe(id);
    const hashed = hashSessionId(id);
    expect(hashed).toMatch(/^[0-9a-f]{64}$/);
    expect(hashed).toBe(hashSessionId(id));
    expect(hashed).not.toContain(id);
  });
});
