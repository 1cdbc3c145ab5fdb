/**
 * A small, strict bencode (BEP 3) decoder and encoder. Pure: no I/O.
 *
 * Values:
 * - integers are JavaScript numbers and must be safe integers (|n| <= 2^53 - 1);
 * - byte strings are Buffers (a torrent's `pieces` is binary; text is decoded by the caller);
 * - lists are arrays;
 * - dictionaries are `Map`s whose keys are *binary strings*: one character per byte (latin1), so any
 *   key survives a round trip and ASCII keys such as `piece length` read as written. A Map (not a
 *   plain object) so that a key like `__proto__` is just a key.
 *
 * The decoder rejects, with a `BencodeError` naming the offset: trailing data, truncated input,
 * string lengths with leading zeros or past the end, integers with leading zeros, `-0`, empty or
 * non-digit integers, unsafe integers, non-string or duplicate dictionary keys, and nesting deeper
 * than 64 lists/dictionaries. Unsorted dictionary keys are accepted (some real torrents have them);
 * `rawBytes(dict)` gives the exact source bytes of any decoded dictionary or list, which is what an
 * info hash must be computed from.
 */

export type BencodeValue = number | Buffer | BencodeValue[] | BencodeDict;
export type BencodeDict = Map<string, BencodeValue>;

/** What `encode` accepts: decoded values, plus strings (UTF-8) and plain objects for convenience. */
export type BencodeInput =
  | number
  | string
  | Uint8Array
  | readonly BencodeInput[]
  | ReadonlyMap<string, BencodeInput>
  | { readonly [key: string]: BencodeInput | undefined };

export const MAX_DEPTH = 64;

export class BencodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'BencodeError';
  }
}

const COLON = 0x3a;
const CH_D = 0x64;
const CH_E = 0x65;
const CH_I = 0x69;
const CH_L = 0x6c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= ZERO && b <= NINE;

/** Source bytes of decoded lists and dictionaries (kept outside the values so they stay plain). */
const rawSpans = new WeakMap<object, Buffer>();

/** The exact bytes a decoded dictionary or list was read from; undefined for values not from `decode`. */
export function rawBytes(value: BencodeDict | BencodeValue[]): Buffer | undefined {
  return rawSpans.get(value);
}

class Decoder {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  decodeAll(): BencodeValue {
    if (this.buf.length === 0) throw new BencodeError('empty input', 0);
    const value = this.value(0);
    if (this.pos !== this.buf.length) throw new BencodeError('trailing data after the value', this.pos);
    return value;
  }

  private peek(): number | undefined {
    return this.buf[this.pos];
  }

  private value(depth: number): BencodeValue {
    const b = this.peek();
    if (b === undefined) throw new BencodeError('unexpected end of input', this.pos);
    if (b === CH_I) return this.integer();
    if (isDigit(b)) return this.bytes();
    if (b === CH_L || b === CH_D) {
      if (depth >= MAX_DEPTH) throw new BencodeError(`nesting deeper than ${MAX_DEPTH}`, this.pos);
      return b === CH_L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    throw new BencodeError(`unexpected byte 0x${b.toString(16).padStart(2, '0')}`, this.pos);
  }

  /** Reads digits up to `end`; no leading zeros (but "0" itself). */
  private digits(what: string, end: number): number {
    const start = this.pos;
    while (isDigit(this.peek())) this.pos++;
    if (this.pos === start) throw new BencodeError(`${what} has no digits`, start);
    if (this.peek() !== end) {
      throw new BencodeError(
        this.pos >= this.buf.length ? 'unexpected end of input' : `${what} has a bad character`,
        this.pos,
      );
    }
    if (this.buf[start] === ZERO && this.pos - start > 1)
      throw new BencodeError(`${what} has a leading zero`, start);
    // More than 16 digits can never be a safe integer; stop before parsing a huge run.
    if (this.pos - start > 16) throw new BencodeError(`${what} is too large`, start);
    const n = Number(this.buf.toString('latin1', start, this.pos));
    if (!Number.isSafeInteger(n)) throw new BencodeError(`${what} is too large`, start);
    this.pos++; // the terminator
    return n;
  }

  private integer(): number {
    const start = this.pos;
    this.pos++; // 'i'
    const negative = this.peek() === MINUS;
    if (negative) this.pos++;
    const n = this.digits('integer', CH_E);
    if (negative && n === 0) throw new BencodeError('integer is negative zero', start);
    return negative ? -n : n;
  }

  private bytes(): Buffer {
    const start = this.pos;
    const length = this.digits('string length', COLON);
    if (length > this.buf.length - this.pos) throw new BencodeError('string length runs past the end', start);
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private list(depth: number): BencodeValue[] {
    const start = this.pos;
    this.pos++; // 'l'
    const out: BencodeValue[] = [];
    while (this.peek() !== CH_E) {
      if (this.peek() === undefined) throw new BencodeError('unterminated list', start);
      out.push(this.value(depth));
    }
    this.pos++;
    rawSpans.set(out, this.buf.subarray(start, this.pos));
    return out;
  }

  private dict(depth: number): BencodeDict {
    const start = this.pos;
    this.pos++; // 'd'
    const out: BencodeDict = new Map();
    while (this.peek() !== CH_E) {
      const at = this.pos;
      const b = this.peek();
      if (b === undefined) throw new BencodeError('unterminated dictionary', start);
      if (!isDigit(b)) throw new BencodeError('dictionary key is not a byte string', at);
      const key = this.bytes().toString('latin1');
      if (out.has(key)) throw new BencodeError(`duplicate dictionary key ${JSON.stringify(key)}`, at);
      if (this.peek() === CH_E || this.peek() === undefined) {
        throw new BencodeError(`dictionary key ${JSON.stringify(key)} has no value`, this.pos);
      }
      out.set(key, this.value(depth));
    }
    this.pos++;
    rawSpans.set(out, this.buf.subarray(start, this.pos));
    return out;
  }
}

/** Decodes exactly one bencoded value that spans the whole buffer. Throws BencodeError. */
export function decode(buf: Uint8Array): BencodeValue {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return new Decoder(b).decodeAll();
}

function keyBytes(key: string): Buffer {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0xff) {
      throw new BencodeError(`dictionary key ${JSON.stringify(key)} is not a binary string`, i);
    }
  }
  return Buffer.from(key, 'latin1');
}

function encodeInto(value: BencodeInput, out: Buffer[], depth: number): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new BencodeError(`cannot encode ${value}: not a safe integer`, 0);
    out.push(Buffer.from(`i${value}e`, 'latin1'));
    return;
  }
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    out.push(Buffer.from(`${b.length}:`, 'latin1'), b);
    return;
  }
  if (value instanceof Uint8Array) {
    out.push(Buffer.from(`${value.length}:`, 'latin1'), Buffer.from(value));
    return;
  }
  if (depth >= MAX_DEPTH) throw new BencodeError(`cannot encode nesting deeper than ${MAX_DEPTH}`, 0);
  if (Array.isArray(value)) {
    out.push(Buffer.from('l'));
    for (const item of value as readonly BencodeInput[]) encodeInto(item, out, depth + 1);
    out.push(Buffer.from('e'));
    return;
  }
  const entries: [string, BencodeInput][] =
    value instanceof Map
      ? [...(value as ReadonlyMap<string, BencodeInput>)]
      : Object.entries(value as { [key: string]: BencodeInput | undefined }).filter(
          (e): e is [string, BencodeInput] => e[1] !== undefined,
        );
  const keyed = entries.map(([k, v]) => ({ key: keyBytes(k), value: v }));
  // Keys sorted as raw byte strings (BEP 3).
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  out.push(Buffer.from('d'));
  for (const { key, value: v } of keyed) {
    out.push(Buffer.from(`${key.length}:`, 'latin1'), key);
    encodeInto(v, out, depth + 1);
  }
  out.push(Buffer.from('e'));
}

/**
 * Encodes a value canonically: dictionary keys sorted by their bytes, strings as UTF-8, plain-object
 * entries whose value is undefined left out. Throws BencodeError for unsafe integers and keys with
 * characters above U+00FF (keys are binary strings, see above).
 */
export function encode(value: BencodeInput): Buffer {
  const out: Buffer[] = [];
  encodeInto(value, out, 0);
  return Buffer.concat(out);
}
