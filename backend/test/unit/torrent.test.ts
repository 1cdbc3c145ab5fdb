import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type BencodeInput, encode } from '../../src/domain/bencode.js';
import { InvalidInputError } from '../../src/domain/errors.js';
import { parseTorrent } from '../../src/domain/torrent.js';
import { makeMultiFileTorrent, makeTorrent } from '../helpers/torrent.js';

const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest();
const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** A valid single-file info dictionary of "hello" in one piece; override keys to break it. */
function info(
  overrides: Record<string, BencodeInput | undefined> = {},
): Record<string, BencodeInput | undefined> {
  return { length: 5, name: 'hello.txt', 'piece length': 16384, pieces: sha1('hello'), ...overrides };
}
const torrent = (i: BencodeInput, top: Record<string, BencodeInput | undefined> = {}) =>
  encode({ info: i, ...top });

function expectInvalid(buf: Buffer, reason: RegExp) {
  let caught: unknown;
  try {
    parseTorrent(buf);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidInputError);
  const e = caught as InvalidInputError;
  expect(e.status).toBe(422);
  expect(e.detail).toMatch(/^Invalid torrent file: /);
  expect(e.detail).toMatch(reason);
}

describe('parseTorrent', () => {
  it('reads a hand-written single-file torrent; the info hash is the SHA-1 of the info bytes', () => {
    const infoBytes = Buffer.concat([
      latin1('d6:lengthi5e4:name9:hello.txt12:piece lengthi16384e6:pieces20:'),
      sha1('hello'),
      latin1('e'),
    ]);
    const file = Buffer.concat([
      latin1('d8:announce20:http://tracker/annou4:info'),
      infoBytes,
      latin1('8:url-listl21:http://seed/hello.txtee'),
    ]);
    expect(parseTorrent(file)).toEqual({
      name: 'hello.txt',
      totalLength: 5,
      infoHash: sha1(infoBytes).toString('hex'),
      files: [{ path: 'hello.txt', length: 5 }],
      webSeeds: ['http://seed/hello.txt'],
      trackers: ['http://tracker/annou'],
      multiFile: false,
    });
  });

  it('hashes the info dictionary exactly as written, even with its keys out of order', () => {
    const infoBytes = Buffer.concat([
      latin1('d4:name9:hello.txt6:lengthi5e12:piece lengthi16384e6:pieces20:'),
      sha1('hello'),
      latin1('e'),
    ]);
    const parsed = parseTorrent(Buffer.concat([latin1('d4:info'), infoBytes, latin1('e')]));
    expect(parsed.infoHash).toBe(sha1(infoBytes).toString('hex'));
    // Re-encoding would sort the keys and give another hash.
    expect(parsed.infoHash).not.toBe(sha1(encode(info())).toString('hex'));
  });

  it('reads a multi-file torrent: paths under the name, the total, the web seeds', () => {
    const made = makeMultiFileTorrent({
      name: 'album',
      files: [
        { path: 'cd1/01 intro.flac', content: Buffer.alloc(20_000, 1) },
        { path: 'cover.jpg', content: Buffer.alloc(15_000, 2) },
      ],
      webSeedUrl: ['http://a/seed/', 'http://b/seed/'],
    });
    expect(parseTorrent(made.torrent)).toEqual({
      name: 'album',
      totalLength: 35_000,
      infoHash: made.infoHash,
      files: [
        { path: 'album/cd1/01 intro.flac', length: 20_000 },
        { path: 'album/cover.jpg', length: 15_000 },
      ],
      webSeeds: ['http://a/seed/', 'http://b/seed/'],
      trackers: [],
      multiFile: true,
    });
  });

  it('agrees with the test helper on the info hash and takes a single url-list string', () => {
    const made = makeTorrent({
      name: 'x.bin',
      content: Buffer.alloc(40_000, 7),
      webSeedUrl: 'http://seed/x.bin',
    });
    const parsed = parseTorrent(made.torrent);
    expect(parsed.infoHash).toBe(made.infoHash);
    expect(parsed.infoHash).toMatch(/^[0-9a-f]{40}$/);
    expect(parsed.webSeeds).toEqual(['http://seed/x.bin']);
    expect(parseTorrent(encode({ info: info(), 'url-list': 'http://one/' })).webSeeds).toEqual([
      'http://one/',
    ]);
    expect(parseTorrent(torrent(info())).webSeeds).toEqual([]);
  });

  it('prefers name.utf-8 and path.utf-8, as aria2 does', () => {
    const parsed = parseTorrent(
      torrent({
        ...info({ length: undefined }),
        name: latin1('\xe9t\xe9'),
        'name.utf-8': 'été',
        files: [{ length: 5, path: [latin1('\xff')], 'path.utf-8': ['ñ.txt'] }],
      }),
    );
    expect(parsed.name).toBe('été');
    expect(parsed.files).toEqual([{ path: 'été/ñ.txt', length: 5 }]);
  });

  describe('rejects', () => {
    it.each<[string, Buffer, RegExp]>([
      ['bytes that are not bencode', Buffer.from('hello world'), /unexpected byte/],
      ['an empty file', Buffer.alloc(0), /empty input/],
      ['trailing data', Buffer.concat([torrent(info()), latin1('x')]), /trailing data/],
      ['a list at the top', encode([info() as BencodeInput]), /not a bencoded dictionary/],
      ['a torrent without info', encode({ announce: 'http://t/' }), /missing info dictionary/],
      ['an info that is not a dictionary', encode({ info: 'nope' }), /missing info dictionary/],
      ['an info without a name', torrent(info({ name: undefined })), /name is missing/],
      ['an empty name', torrent(info({ name: '' })), /name is empty/],
      ['a name ..', torrent(info({ name: '..' })), /name must not be "\.\."/],
      ['a name .', torrent(info({ name: '.' })), /name must not be "\."/],
      ['a name with /', torrent(info({ name: '../../etc/passwd' })), /name must not contain/],
      ['a name with \\', torrent(info({ name: '..\\..\\boot.ini' })), /name must not contain/],
      ['a name with NUL', torrent(info({ name: 'a\0b' })), /name must not contain/],
      [
        'a name that is not UTF-8',
        torrent(info({ name: Buffer.from([0xff, 0xfe]) })),
        /name is not valid UTF-8/,
      ],
      [
        'a bad name.utf-8 beside a good name',
        torrent(info({ 'name.utf-8': '../x' })),
        /name must not contain/,
      ],
      ['a name that is a number', torrent(info({ name: 5 })), /name is missing or not a string/],
      ['a negative length', torrent(info({ length: -5 })), /length is negative/],
      ['a length that is a string', torrent(info({ length: '5' })), /length is missing or not an integer/],
      ['neither length nor files', torrent(info({ length: undefined })), /length is missing/],
      [
        'both length and files',
        torrent(info({ files: [{ length: 5, path: ['a'] }] })),
        /both length and files/,
      ],
      ['no pieces', torrent(info({ pieces: undefined })), /no pieces/],
      ['empty pieces', torrent(info({ pieces: Buffer.alloc(0) })), /no pieces/],
      ['pieces of 19 bytes', torrent(info({ pieces: Buffer.alloc(19) })), /not a multiple of 20/],
      ['pieces of 21 bytes', torrent(info({ pieces: Buffer.alloc(21) })), /not a multiple of 20/],
      ['more pieces than the length needs', torrent(info({ pieces: Buffer.alloc(40) })), /number of pieces/],
      ['a zero piece length', torrent(info({ 'piece length': 0 })), /piece length/],
      ['no piece length', torrent(info({ 'piece length': undefined })), /piece length/],
    ])('%s', (_what, buf, reason) => expectInvalid(buf, reason));

    const multi = (files: BencodeInput) => torrent(info({ length: undefined, name: 'dir', files }));
    it.each<[string, Buffer, RegExp]>([
      ['an empty files list', multi([]), /files is not a non-empty list/],
      ['files that is not a list', multi('a'), /files is not a non-empty list/],
      ['a file entry that is not a dictionary', multi(['a']), /file 0 is not a dictionary/],
      ['a file without a path', multi([{ length: 5 }]), /file 0 has no path/],
      ['a file with an empty path', multi([{ length: 5, path: [] }]), /file 0 has no path/],
      [
        'a path segment ..',
        multi([{ length: 5, path: ['..', 'etc', 'passwd'] }]),
        /path of file 0 must not be/,
      ],
      [
        'a path segment with /',
        multi([{ length: 5, path: ['a/../../b'] }]),
        /path of file 0 must not contain/,
      ],
      ['a path segment with \\', multi([{ length: 5, path: ['..\\x'] }]), /must not contain/],
      ['a path segment with NUL', multi([{ length: 5, path: ['x\0.txt'] }]), /must not contain/],
      ['an empty path segment', multi([{ length: 5, path: ['a', ''] }]), /path of file 0 is empty/],
      ['a path segment that is a number', multi([{ length: 5, path: [1] }]), /not a string/],
      [
        'a negative file length',
        multi([
          { length: -1, path: ['a'] },
          { length: 6, path: ['b'] },
        ]),
        /length of file 0 is negative/,
      ],
      ['a file without length', multi([{ path: ['a'] }]), /length of file 0 is missing/],
      [
        'the same path twice',
        multi([
          { length: 2, path: ['a'] },
          { length: 3, path: ['a'] },
        ]),
        /file 1 repeats the path/,
      ],
      [
        'lengths whose sum is not a safe integer',
        multi([
          { length: 2 ** 52, path: ['a'] },
          { length: 2 ** 52, path: ['b'] },
        ]),
        /total length is too large/,
      ],
    ])('%s', (_what, buf, reason) => expectInvalid(buf, reason));

    it.each<[string, Buffer, RegExp]>([
      ['a name with a line break', torrent(info({ name: 'a\n dir=x' })), /name holds a control character/],
      ['a name with DEL', torrent(info({ name: 'a\x7fb' })), /name holds a control character/],
      [
        'a name.utf-8 that is not UTF-8',
        torrent(info({ 'name.utf-8': latin1('\xff\xfe') })),
        /name is not valid UTF-8/,
      ],
      [
        'a file path with a control character',
        multi([{ length: 5, path: ['a\u0001b'] }]),
        /path of file 0 holds a control character/,
      ],
      [
        'an announce URL that is not UTF-8',
        torrent(info(), { announce: latin1('http://t/\xff') }),
        /announce is not valid UTF-8/,
      ],
      [
        'an announce-list URL with a line break',
        torrent(info(), { 'announce-list': [['http://t/a'], ['http://t/b\nx']] }),
        /announce-list tier 1 holds a control character/,
      ],
      [
        'a web seed that is not UTF-8',
        torrent(info(), { 'url-list': [latin1('http://s/\xc3')] }),
        /url-list is not valid UTF-8/,
      ],
      [
        'a comment that is not UTF-8',
        torrent(info(), { comment: latin1('\xe9t\xe9') }),
        /comment is not valid UTF-8/,
      ],
      ['a comment with NUL', torrent(info(), { comment: 'a\u0000b' }), /comment holds a control character/],
      [
        'a creator with ESC',
        torrent(info(), { 'created by': 'x\u001b[31m' }),
        /created by holds a control character/,
      ],
    ])('text aria2 would echo: %s', (_what, buf, reason) => expectInvalid(buf, reason));

    it('a comment may hold line breaks and tabs', () => {
      expect(parseTorrent(torrent(info(), { comment: 'line one\n\tline two\r\n' })).name).toBe('hello.txt');
    });

    it('a deeply nested bomb', () => {
      expectInvalid(Buffer.from(`d4:info${'l'.repeat(5000)}`), /nesting deeper than 64/);
    });

    it('a string length that runs past the end', () => {
      expectInvalid(Buffer.from('d4:info999999999:'), /string length runs past the end/);
    });
  });
});

describe('parseTorrent trackers', () => {
  it('lists announce and every announce-list tier entry once, in order', () => {
    const t = makeTorrent({
      name: 'a.bin',
      content: Buffer.alloc(10),
      extra: {
        announce: 'http://t1/announce',
        'announce-list': [['http://t1/announce', 'udp://t2:80'], ['http://t3/a']],
      },
    });
    expect(parseTorrent(t.torrent).trackers).toEqual(['http://t1/announce', 'udp://t2:80', 'http://t3/a']);
    expect(parseTorrent(makeTorrent({ name: 'b.bin', content: Buffer.alloc(10) }).torrent).trackers).toEqual(
      [],
    );
  });
});
