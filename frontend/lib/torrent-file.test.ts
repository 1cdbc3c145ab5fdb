import { createHash } from 'node:crypto';
import { MAX_TORRENT_BYTES } from '@rules';
import { describe, expect, it } from 'vitest';
import { decodeBencode, parseTorrent, readTorrentFile } from './torrent-file';

/** A bencode encoder of its own (BEP 3: sorted keys), so the reader is checked against real files. */
type In = number | string | Uint8Array | In[] | { [key: string]: In };
function encode(v: In): Buffer {
  if (typeof v === 'number') return Buffer.from(`i${v}e`);
  if (typeof v === 'string') return encode(Buffer.from(v, 'utf8'));
  if (v instanceof Uint8Array) return Buffer.concat([Buffer.from(`${v.length}:`), v]);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from('l'), ...v.map(encode), Buffer.from('e')]);
  const keys = Object.keys(v).sort();
  return Buffer.concat([
    Buffer.from('d'),
    ...keys.flatMap((k) => [encode(k), encode(v[k]!)]),
    Buffer.from('e'),
  ]);
}

/** A real v1 torrent of these files (pieces hashed across file boundaries). */
function torrentOf(name: string, files: { path: string; size: number }[] | number): Buffer {
  const pieceLength = 16 * 1024;
  const sizes = typeof files === 'number' ? [files] : files.map((f) => f.size);
  const all = Buffer.alloc(
    sizes.reduce((a, b) => a + b, 0),
    7,
  );
  const hashes: Buffer[] = [];
  for (let i = 0; i < all.length; i += pieceLength)
    hashes.push(
      createHash('sha1')
        .update(all.subarray(i, i + pieceLength))
        .digest(),
    );
  const info: Record<string, In> = { name, 'piece length': pieceLength, pieces: Buffer.concat(hashes) };
  if (typeof files === 'number') info.length = files;
  else info.files = files.map((f) => ({ length: f.size, path: f.path.split('/') }));
  return encode({ announce: 'http://127.0.0.1:1/announce', 'creation date': 1_700_000_000, info });
}

describe('parseTorrent', () => {
  it("reads a multi-file torrent's name and files with aria2's 1-based indexes", () => {
    const bytes = torrentOf('pack', [
      { path: 'a.bin', size: 300_000 },
      { path: 'docs/b.txt', size: 100_000 },
      { path: 'docs/deep/ü.txt', size: 5 },
      { path: 'c.bin', size: 300_000 },
    ]);
    expect(parseTorrent(new Uint8Array(bytes))).toEqual({
      name: 'pack',
      multiFile: true,
      totalLength: 700_005,
      files: [
        { index: 1, path: 'a.bin', length: 300_000 },
        { index: 2, path: 'docs/b.txt', length: 100_000 },
        { index: 3, path: 'docs/deep/ü.txt', length: 5 },
        { index: 4, path: 'c.bin', length: 300_000 },
      ],
    });
  });

  it('reads a single-file torrent as one file, with nothing to choose', () => {
    expect(parseTorrent(new Uint8Array(torrentOf('movie.mkv', 40_000)))).toEqual({
      name: 'movie.mkv',
      multiFile: false,
      totalLength: 40_000,
      files: [{ index: 1, path: 'movie.mkv', length: 40_000 }],
    });
  });

  it('prefers the UTF-8 twins of name and path', () => {
    const bytes = encode({
      info: {
        name: 'x',
        'name.utf-8': 'Grüße',
        'piece length': 16384,
        pieces: Buffer.alloc(20),
        files: [{ length: 3, path: ['a'], 'path.utf-8': ['ä'] }],
      },
    });
    const info = parseTorrent(new Uint8Array(bytes));
    expect(info?.name).toBe('Grüße');
    expect(info?.files).toEqual([{ index: 1, path: 'ä', length: 3 }]);
  });

  it('gives null for what is not a torrent it can read', () => {
    const good = torrentOf('pack', [{ path: 'a', size: 1 }]);
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from('not bencode'),
      good.subarray(0, good.length - 1), // truncated
      Buffer.concat([good, Buffer.from('x')]), // trailing data
      encode({ announce: 'x' }), // no info
      encode({ info: { name: 'x' } }), // neither length nor files
      encode({ info: { name: 'x', files: [{ length: -1, path: ['a'] }] } }),
      encode({ info: { name: 'x', files: [{ length: 1, path: [] }] } }),
      Buffer.from(`${'l'.repeat(100)}${'e'.repeat(100)}`), // nested too deep
    ])
      expect(parseTorrent(new Uint8Array(bad))).toBeNull();
  });

  it('reads no file past the torrent limit of the rules', async () => {
    const big = new Blob([new Uint8Array(MAX_TORRENT_BYTES + 1)]);
    expect(await readTorrentFile(big)).toBeNull();
    const ok = new Blob([new Uint8Array(torrentOf('pack', [{ path: 'a', size: 1 }]))]);
    expect((await readTorrentFile(ok))?.files).toEqual([{ index: 1, path: 'a', length: 1 }]);
  });
});

describe('decodeBencode', () => {
  it('decodes integers, strings, lists and dictionaries', () => {
    const v = decodeBencode(new Uint8Array(Buffer.from('d1:ai-12e1:bl3:xyzi0eee')));
    expect(v).toBeInstanceOf(Map);
    const m = v as Map<string, unknown>;
    expect(m.get('a')).toBe(-12);
    const list = m.get('b') as [Uint8Array, number];
    expect(Buffer.from(list[0]).toString()).toBe('xyz');
    expect(list[1]).toBe(0);
  });
});
