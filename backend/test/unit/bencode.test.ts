import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BencodeError,
  type BencodeInput,
  type BencodeValue,
  decode,
  encode,
  MAX_DEPTH,
  rawBytes,
} from '../../src/domain/bencode.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const dec = (s: string) => decode(b(s));

describe('bencode decode', () => {
  it('reads integers, byte strings, lists and dictionaries', () => {
    expect(dec('i42e')).toBe(42);
    expect(dec('i-7e')).toBe(-7);
    expect(dec('i0e')).toBe(0);
    expect(dec('4:spam')).toEqual(b('spam'));
    expect(dec('0:')).toEqual(Buffer.alloc(0));
    expect(dec('l4:spami3ee')).toEqual([b('spam'), 3]);
    const d = dec('d3:cow3:moo4:spaml1:a1:bee') as Map<string, BencodeValue>;
    expect(d).toBeInstanceOf(Map);
    expect([...d.keys()]).toEqual(['cow', 'spam']);
    expect(d.get('cow')).toEqual(b('moo'));
    expect(d.get('spam')).toEqual([b('a'), b('b')]);
  });

  it('keeps byte strings binary and keys as one character per byte', () => {
    const bytes = Buffer.from([0, 255, 128, 10]);
    expect(decode(Buffer.concat([b('4:'), bytes]))).toEqual(bytes);
    const d = decode(Buffer.concat([b('d2:'), Buffer.from([0xc3, 0xa9]), b('i1ee')])) as Map<
      string,
      BencodeValue
    >;
    expect([...d.keys()]).toEqual(['\u00c3\u00a9']);
  });

  it('treats __proto__ as an ordinary key', () => {
    const d = dec('d9:__proto__d5:pollui1eee') as Map<string, BencodeValue>;
    expect(d.get('__proto__')).toBeInstanceOf(Map);
    expect(({} as Record<string, unknown>).poll).toBeUndefined();
  });

  it('accepts dictionary keys out of order (some real torrents have them)', () => {
    const d = dec('d1:bi2e1:ai1ee') as Map<string, BencodeValue>;
    expect(d.get('a')).toBe(1);
    expect(d.get('b')).toBe(2);
  });

  it('gives the exact source bytes of a nested dictionary', () => {
    const src = 'd4:infod1:bi2e1:ai1ee4:name1:xe';
    const d = dec(src) as Map<string, BencodeValue>;
    const info = d.get('info') as Map<string, BencodeValue>;
    expect(rawBytes(info)?.toString('latin1')).toBe('d1:bi2e1:ai1ee');
    expect(rawBytes(d)?.toString('latin1')).toBe(src);
    expect(rawBytes(new Map())).toBeUndefined();
  });

  it.each([
    ['empty input', ''],
    ['trailing data', 'i1ei2e'],
    ['trailing data after a string', '1:ab'],
    ['a string longer than the input', '5:abc'],
    ['a huge string length', '99999999999999999999:a'],
    ['a string length with a leading zero', '01:a'],
    ['a string length with a sign', '-1:a'],
    ['a string length without a colon', '3abc'],
    ['an integer with a leading zero', 'i03e'],
    ['negative zero', 'i-0e'],
    ['an empty integer', 'ie'],
    ['a lone minus', 'i-e'],
    ['an integer with a fraction', 'i1.5e'],
    ['an integer with a plus sign', 'i+1e'],
    ['an unterminated integer', 'i12'],
    ['an integer beyond 2^53', 'i9007199254740993e'],
    ['an unterminated list', 'l1:a'],
    ['an unterminated dictionary', 'd1:ai1e'],
    ['a dictionary key that is an integer', 'di1ei2ee'],
    ['a dictionary key that is a list', 'dle1:ae'],
    ['a dictionary key without value', 'd1:ae'],
    ['a duplicate dictionary key', 'd1:ai1e1:ai2ee'],
    ['an unknown type byte', 'x'],
    ['a stray end', 'e'],
  ])('rejects %s', (_what, input) => {
    expect(() => dec(input)).toThrow(BencodeError);
  });

  it('names the offset of the fault', () => {
    expect(() => dec('l4:spami03ee')).toThrow(/leading zero at byte 8/);
  });

  it(`allows ${MAX_DEPTH} levels of nesting and rejects ${MAX_DEPTH + 1}`, () => {
    const nested = (n: number) => 'l'.repeat(n) + 'e'.repeat(n);
    expect(() => dec(nested(MAX_DEPTH))).not.toThrow();
    expect(() => dec(nested(MAX_DEPTH + 1))).toThrow(/nesting deeper than 64/);
    const dicts = (n: number) => `${'d1:a'.repeat(n)}i0e${'e'.repeat(n)}`;
    expect(() => dec(dicts(MAX_DEPTH))).not.toThrow();
    expect(() => dec(dicts(MAX_DEPTH + 1))).toThrow(BencodeError);
  });

  it('survives a deeply nested hostile input without a stack overflow', () => {
    expect(() => dec('l'.repeat(100_000))).toThrow(BencodeError);
  });

  it('never throws anything but BencodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          if (!(err instanceof BencodeError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('bencode encode', () => {
  it('writes canonical bencode with keys sorted by their bytes', () => {
    expect(encode(42).toString()).toBe('i42e');
    expect(encode(-3).toString()).toBe('i-3e');
    expect(encode('spam').toString()).toBe('4:spam');
    expect(encode([1, 'a']).toString()).toBe('li1e1:ae');
    expect(encode({ b: 1, a: 'x', c: undefined }).toString()).toBe('d1:a1:x1:bi1ee');
    expect(
      encode(
        new Map([
          ['z', 1],
          ['Z', 2],
        ]),
      ).toString(),
    ).toBe('d1:Zi2e1:zi1ee');
  });

  it('writes strings as UTF-8 and buffers as they are', () => {
    expect(encode('é')).toEqual(Buffer.concat([b('2:'), Buffer.from('é', 'utf8')]));
    expect(encode(Buffer.from([0, 1, 255]))).toEqual(Buffer.concat([b('3:'), Buffer.from([0, 1, 255])]));
  });

  it('refuses numbers that bencode cannot carry and keys that are not binary strings', () => {
    expect(() => encode(1.5)).toThrow(BencodeError);
    expect(() => encode(Number.MAX_SAFE_INTEGER + 1)).toThrow(BencodeError);
    expect(() => encode({ ключ: 1 })).toThrow(BencodeError);
  });

  it('round-trips every decodable value', () => {
    const value: fc.Arbitrary<BencodeInput> = fc.letrec<{ v: BencodeInput }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.maxSafeInteger(),
        fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
        fc.array(tie('v'), { maxLength: 4 }),
        fc
          .array(fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 6 }), tie('v')), { maxLength: 4 })
          .map((entries) => new Map(entries)),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encode(v);
        expect(decode(bytes)).toEqual(v);
        expect(encode(decode(bytes) as BencodeInput)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
