import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/domain/errors.js';
import { publicMessage } from '../../src/domain/messages.js';
import {
  availableSpace,
  checkSpaceBeforeAdd,
  formatGb,
  reservation,
  type SpaceLimits,
  sizeOverLimit,
  withReserved,
} from '../../src/domain/size.js';
import { magnetInfoHash, maskUri, maskUrisIn, nameFromUri, uriScheme } from '../../src/domain/uri.js';

const GB = 1024 ** 3;

/** Plenty of everything; each test takes one limit away. */
const roomy: SpaceLimits = {
  freeDisk: 500 * GB,
  minFreeDisk: GB,
  maxTaskSize: 10 * GB,
  quota: 100 * GB,
  usedSpace: 0,
  reserved: 0,
};

function refusal(limits: Partial<SpaceLimits>, size: number | null): string | null {
  try {
    checkSpaceBeforeAdd({ ...roomy, ...limits }, size);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).status).toBe(403);
    return (err as ForbiddenError).detail;
  }
}

describe('formatGb', () => {
  it('shows GB of 1024³ bytes with two decimals', () => {
    expect(formatGb(0)).toBe('0.00 GB');
    expect(formatGb(GB)).toBe('1.00 GB');
    expect(formatGb(1.5 * GB)).toBe('1.50 GB');
    expect(formatGb(10 * GB)).toBe('10.00 GB');
    expect(formatGb(1_000_000_000)).toBe('0.93 GB');
    expect(formatGb(512 * 1024 ** 2)).toBe('0.50 GB');
  });
});

describe('checkSpaceBeforeAdd', () => {
  it('lets a download that fits through, and one of unknown size', () => {
    expect(refusal({}, 5 * GB)).toBeNull();
    expect(refusal({}, null)).toBeNull();
    expect(refusal({}, 10 * GB)).toBeNull(); // exactly the limit
    expect(refusal({ quota: 20 * GB, usedSpace: 15 * GB }, 5 * GB)).toBeNull(); // exactly what is left
    expect(refusal({ freeDisk: GB }, GB)).toBeNull(); // exactly the minimum free
  });

  it('refuses when the disk is under the minimum', () => {
    expect(refusal({ freeDisk: 0.5 * GB }, 1)).toBe('Insufficient disk space, remaining 0.50 GB');
    expect(refusal({ freeDisk: 0.5 * GB }, null)).toBe('Insufficient disk space, remaining 0.50 GB');
  });

  it('refuses a user whose quota is used up, whatever the size', () => {
    expect(refusal({ quota: 10 * GB, usedSpace: 10 * GB }, 1)).toBe('Your storage quota is used up');
    expect(refusal({ quota: 10 * GB, usedSpace: 12 * GB }, null)).toBe('Your storage quota is used up');
    expect(refusal({ quota: 10 * GB, usedSpace: 12 * GB }, 0)).toBe('Your storage quota is used up');
  });

  it('refuses a file over the maximum task size', () => {
    expect(refusal({}, 12.5 * GB)).toBe('File size 12.50 GB exceeds limit 10.00 GB');
  });

  it('refuses a file over the space the user has left', () => {
    expect(refusal({ quota: 20 * GB, usedSpace: 17 * GB }, 4 * GB)).toBe(
      'File size 4.00 GB exceeds your available space 3.00 GB',
    );
  });

  it('treats a quota of 0 as unlimited', () => {
    expect(refusal({ quota: 0, usedSpace: 10_000 * GB }, 9 * GB)).toBeNull();
    expect(availableSpace(0, 10_000 * GB)).toBe(Number.POSITIVE_INFINITY);
    expect(availableSpace(10 * GB, 12 * GB)).toBe(0);
    expect(availableSpace(10 * GB, 4 * GB)).toBe(6 * GB);
  });

  it('checks in the documented order: disk, quota used up, max size, available space', () => {
    const all: Partial<SpaceLimits> = { freeDisk: 0.25 * GB, quota: 10 * GB, usedSpace: 10 * GB };
    expect(refusal(all, 50 * GB)).toBe('Insufficient disk space, remaining 0.25 GB');
    expect(refusal({ ...all, freeDisk: 500 * GB }, 50 * GB)).toBe('Your storage quota is used up');
    // Over both the limit and what is left: the limit is named.
    expect(refusal({ quota: 20 * GB, usedSpace: 15 * GB }, 12 * GB)).toBe(
      'File size 12.00 GB exceeds limit 10.00 GB',
    );
    expect(refusal({ quota: 20 * GB, usedSpace: 15 * GB }, 6 * GB)).toBe(
      'File size 6.00 GB exceeds your available space 5.00 GB',
    );
  });
});

describe('sizeOverLimit', () => {
  const limits = { maxTaskSize: 10 * GB, quota: 20 * GB, usedSpace: 15 * GB, reserved: 0 };
  it('says why a download whose size became known is cancelled, limit first', () => {
    expect(sizeOverLimit(limits, 11 * GB)).toBe('Cancelled: size 11.00 GB exceeds limit 10.00 GB');
    expect(sizeOverLimit(limits, 6 * GB)).toBe(
      'Cancelled: size 6.00 GB exceeds your available space 5.00 GB',
    );
    expect(sizeOverLimit(limits, 5 * GB)).toBeNull();
    expect(sizeOverLimit({ ...limits, quota: 0 }, 9 * GB)).toBeNull();
    // Other downloads' reservations are taken from the space left too.
    expect(sizeOverLimit({ ...limits, reserved: 2 * GB }, 5 * GB)).toBe(
      'Cancelled: size 5.00 GB exceeds your available space 3.00 GB',
    );
  });
});

describe('reservations', () => {
  it('a current download reserves its known size minus what it holds, never less than nothing', () => {
    expect(reservation(600, 0)).toBe(600);
    expect(reservation(600, 250)).toBe(350);
    expect(reservation(600, 600)).toBe(0);
    // A server that sent more than it announced, or a size still unknown (0).
    expect(reservation(600, 900)).toBe(0);
    expect(reservation(0, 100)).toBe(0);
  });

  it('are taken from the space left: accepted downloads count against the next one', () => {
    const l = { ...roomy, quota: 10 * GB, usedSpace: 2 * GB };
    expect(availableSpace(10 * GB, 2 * GB, 3 * GB)).toBe(5 * GB);
    expect(availableSpace(10 * GB, 8 * GB, 3 * GB)).toBe(0);
    expect(availableSpace(0, 8 * GB, 3 * GB)).toBe(Number.POSITIVE_INFINITY);
    const after = withReserved(withReserved(l, 3 * GB), null);
    expect(after.reserved).toBe(3 * GB);
    expect(refusal(after, 5 * GB)).toBeNull(); // exactly what is left
    expect(refusal(after, 6 * GB)).toBe('File size 6.00 GB exceeds your available space 5.00 GB');
    expect(refusal(withReserved(after, 5 * GB), null)).toBe('Your storage quota is used up');
  });
});

describe('maskUri', () => {
  it.each([
    ['https://user:pass@example.com/file.zip', 'https://***:***@example.com/file.zip'],
    ['http://user@example.com/a', 'http://***:***@example.com/a'],
    ['ftp://anonymous:me%40example.com@ftp.example.com/pub/', 'ftp://***:***@ftp.example.com/pub/'],
    ['sftp://u:p@host:2222/x', 'sftp://***:***@host:2222/x'],
    ['HTTPS://U:P@example.com/', 'HTTPS://***:***@example.com/'],
    ['https://user:p@ss@example.com/file', 'https://***:***@example.com/file'],
  ])('masks %s', (uri, masked) => {
    expect(maskUri(uri)).toBe(masked);
  });

  it.each([
    'https://example.com/file.zip',
    'https://example.com/users/@me/avatar.png',
    'https://example.com/?next=a@b',
    'https://example.com/#x@y',
    'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=a@b',
  ])('leaves %s alone', (uri) => {
    expect(maskUri(uri)).toBe(uri);
  });
});

describe('maskUrisIn', () => {
  it('masks every URI in a free text and nothing else', () => {
    expect(
      maskUrisIn(
        'Could not fetch https://bob:hunter2@a.example/x, then ftp://u:p@b.example/y; mail bob@example.com',
      ),
    ).toBe(
      'Could not fetch https://***:***@a.example/x, then ftp://***:***@b.example/y; mail bob@example.com',
    );
    expect(maskUrisIn('Resource not found')).toBe('Resource not found');
  });
});

/** RFC 4648 base32 of bytes, an independent oracle for the magnet conversion. */
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

describe('magnetInfoHash', () => {
  const hex = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
  it('reads a hex info hash, lower-cased', () => {
    expect(magnetInfoHash(`magnet:?xt=urn:btih:${hex.toUpperCase()}&dn=x`)).toBe(hex);
    expect(magnetInfoHash(`magnet:?dn=x&xt=urn:btih:${hex}`)).toBe(hex);
  });

  it('converts a base32 info hash to hex', () => {
    const b32 = base32(Buffer.from(hex, 'hex'));
    expect(b32).toHaveLength(32);
    expect(magnetInfoHash(`magnet:?xt=urn:btih:${b32}`)).toBe(hex);
    expect(magnetInfoHash(`magnet:?xt=urn:btih:${b32.toLowerCase()}&tr=udp://t`)).toBe(hex);
    const other = 'ffffffffffffffffffff0000000000000000ffff';
    expect(magnetInfoHash(`magnet:?xt=urn:btih:${base32(Buffer.from(other, 'hex'))}`)).toBe(other);
  });

  it('gives null without a usable btih', () => {
    expect(magnetInfoHash('magnet:?dn=nothing')).toBeNull();
    expect(magnetInfoHash('magnet:?xt=urn:btih:abc')).toBeNull();
    expect(magnetInfoHash(`magnet:?xt=urn:btih:${hex}00`)).toBeNull();
    expect(magnetInfoHash('magnet:?xt=urn:btmh:1220abcdef')).toBeNull();
  });
});

describe('nameFromUri', () => {
  it.each<[string, string | null]>([
    ['https://example.com/dir/file.zip', 'file.zip'],
    ['https://example.com/dir/my%20file%20%C3%A9.iso?token=1#frag', 'my file é.iso'],
    ['ftp://user:pass@ftp.example.com/pub/archive.tar.gz', 'archive.tar.gz'],
    ['https://example.com/', null],
    ['https://example.com/dir/', null],
    ['https://example.com', null],
    ['not a uri', null],
    ['https://example.com/bad%zz', null],
    [
      'magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Big+Buck+Bunny%20%282008%29',
      'Big Buck Bunny (2008)',
    ],
    ['magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a', null],
    ['magnet:?dn=&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a', null],
    ['magnet:?dn=100%&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a', '100%'],
    ['https://h/a%2F..%2F..%2Fetc', 'a_.._.._etc'],
    ['magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=..%2Fup', '.._up'],
  ])('%s → %s', (uri, name) => {
    expect(nameFromUri(uri)).toBe(name);
  });
});

describe('uriScheme', () => {
  it('reads the scheme, lower-cased', () => {
    expect(uriScheme('HTTPS://x/')).toBe('https');
    expect(uriScheme('magnet:?xt=1')).toBe('magnet');
    expect(uriScheme('/etc/passwd')).toBeNull();
    expect(uriScheme('1http://x')).toBeNull();
  });
});

describe('publicMessage', () => {
  it.each([
    [
      'Failed to write into the file /tmp/x/1/.incomplete/ab12/huge.bin, cause: No space left on device',
      'Failed to write into the file huge.bin, cause: No space left on device',
    ],
    ['File /srv/data/a.iso exists', 'File a.iso exists'],
    ['open "/etc/passwd" failed', 'open "passwd" failed'],
    ['Resource not found', 'Resource not found'],
    ['GET https://u:p@host/a/b/c.zip failed', 'GET https://***:***@host/a/b/c.zip failed'],
  ])('%s → %s', (text, shown) => {
    expect(publicMessage(text)).toBe(shown);
  });
});
