/**
 * Reads what the add dialog needs from a .torrent file in the browser: its name and its files, each
 * with aria2's 1-based index (the order of `info.files`) and size. A small bencode (BEP 3) reader
 * that walks the whole file but keeps only those fields; anything it cannot read is `null`, and the
 * server, which checks every upload, says what is wrong with it.
 */
import { MAX_TORRENT_BYTES } from '@rules';

export interface TorrentFileEntry {
  /** aria2's index of the file (1 first), what `select_files` names. */
  index: number;
  /** Path inside the torrent, '/'-joined, without the torrent's name. */
  path: string;
  length: number;
}

export interface TorrentInfo {
  name: string;
  /** One entry for a single-file torrent. */
  files: TorrentFileEntry[];
  totalLength: number;
  /** Whether the torrent is a folder of files (`info.files`), so a choice can be made. */
  multiFile: boolean;
}

type Value = number | Uint8Array | Value[] | Map<string, Value>;

const MAX_DEPTH = 64;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private digits(end: number): number {
    const text = latin1.decode(this.bytes.subarray(this.pos, end));
    if (!/^-?\d+$/.test(text)) throw new Error('bad number');
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new Error('number too large');
    return n;
  }

  private until(byte: number): number {
    const at = this.bytes.indexOf(byte, this.pos);
    if (at < 0) throw new Error('truncated');
    return at;
  }

  value(depth = 0): Value {
    if (depth > MAX_DEPTH) throw new Error('too deep');
    const c = this.bytes[this.pos];
    if (c === undefined) throw new Error('truncated');
    if (c === 0x69 /* i */) {
      this.pos += 1;
      const end = this.until(0x65 /* e */);
      const n = this.digits(end);
      this.pos = end + 1;
      return n;
    }
    if (c === 0x6c /* l */ || c === 0x64 /* d */) {
      this.pos += 1;
      const list: Value[] = [];
      const dict = new Map<string, Value>();
      while (this.bytes[this.pos] !== 0x65) {
        if (this.pos >= this.bytes.length) throw new Error('truncated');
        if (c === 0x6c) list.push(this.value(depth + 1));
        else {
          const key = this.value(depth + 1);
          if (!(key instanceof Uint8Array)) throw new Error('bad key');
          dict.set(latin1.decode(key), this.value(depth + 1));
        }
      }
      this.pos += 1;
      return c === 0x6c ? list : dict;
    }
    if (c >= 0x30 && c <= 0x39) {
      const colon = this.until(0x3a /* : */);
      const length = this.digits(colon);
      const start = colon + 1;
      if (length < 0 || start + length > this.bytes.length) throw new Error('truncated');
      this.pos = start + length;
      return this.bytes.subarray(start, start + length);
    }
    throw new Error('bad value');
  }
}

/** Decodes one bencoded value, or throws when it is not exactly one. */
export function decodeBencode(bytes: Uint8Array): Value {
  const reader = new Reader(bytes);
  const value = reader.value();
  if (reader.pos !== bytes.length) throw new Error('trailing data');
  return value;
}

const text = (v: Value | undefined): string | null => (v instanceof Uint8Array ? utf8.decode(v) : null);
const size = (v: Value | undefined): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;

/** A path list (`path` or its `path.utf-8` twin) as one '/'-joined path. */
function pathOf(entry: Map<string, Value>): string | null {
  const parts = entry.get('path.utf-8') ?? entry.get('path');
  if (!Array.isArray(parts) || parts.length === 0) return null;
  const names = parts.map(text);
  return names.every((n): n is string => n !== null) ? names.join('/') : null;
}

/** The name and files of a .torrent's bytes, or null when it is not a torrent this can read. */
export function parseTorrent(bytes: Uint8Array): TorrentInfo | null {
  if (bytes.length === 0 || bytes.length > MAX_TORRENT_BYTES) return null;
  let root: Value;
  try {
    root = decodeBencode(bytes);
  } catch {
    return null;
  }
  const info = root instanceof Map ? root.get('info') : undefined;
  if (!(info instanceof Map)) return null;
  const name = text(info.get('name.utf-8')) ?? text(info.get('name'));
  if (name === null) return null;
  const list = info.get('files');
  if (list === undefined) {
    const length = size(info.get('length'));
    if (length === null) return null;
    return { name, files: [{ index: 1, path: name, length }], totalLength: length, multiFile: false };
  }
  if (!Array.isArray(list) || list.length === 0) return null;
  const files: TorrentFileEntry[] = [];
  for (const [i, entry] of list.entries()) {
    if (!(entry instanceof Map)) return null;
    const path = pathOf(entry);
    const length = size(entry.get('length'));
    if (path === null || length === null) return null;
    files.push({ index: i + 1, path, length });
  }
  return { name, files, totalLength: files.reduce((n, f) => n + f.length, 0), multiFile: true };
}

/** Reads a picked or dropped .torrent file; null when it is too large or unreadable. */
export async function readTorrentFile(file: Blob): Promise<TorrentInfo | null> {
  if (file.size > MAX_TORRENT_BYTES) return null;
  return parseTorrent(new Uint8Array(await file.arrayBuffer()));
}
