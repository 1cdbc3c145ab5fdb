import { createHash } from 'node:crypto';
import { type BencodeDict, BencodeError, type BencodeValue, decode, rawBytes } from './bencode.js';
import { InvalidInputError } from './errors.js';

/** What the controller needs to know about an uploaded .torrent before handing it to aria2. */
export interface ParsedTorrent {
  /** The file name (single-file) or the top folder name (multi-file). */
  name: string;
  /** Sum of the file lengths, in bytes. */
  totalLength: number;
  /** SHA-1 of the exact bencoded info dictionary, hex, lower case (what aria2 reports as infoHash). */
  infoHash: string;
  /** Each file's path relative to the download folder ('/'-separated, starting with `name`). */
  files: { path: string; length: number }[];
  /** BEP 19 `url-list` entries. */
  webSeeds: string[];
  /** `announce` and every `announce-list` tier entry, in order, repeats dropped. */
  trackers: string[];
  /** True when the info dictionary has a `files` list (the download is a folder named `name`). */
  multiFile: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(reason: string): never {
  throw new InvalidInputError(`Invalid torrent file: ${reason}`);
}

const isDict = (v: BencodeValue | undefined): v is BencodeDict => v instanceof Map;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Matches nothing: names check their own rules first, for clearer reasons. */
const NO_CHECK = /(?!)/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Text aria2 will echo: valid UTF-8 without control characters (they would break its session file). */
function text(value: Buffer, what: string, control = CONTROL): string {
  let s: string;
  try {
    s = utf8.decode(value);
  } catch {
    return fail(`${what} is not valid UTF-8`);
  }
  if (control.test(s)) fail(`${what} holds a control character`);
  return s;
}

/**
 * The other text aria2 reports or keeps of a torrent (announce URLs, web seeds, comment, creator) is
 * checked like names are: one field of one torrent must not reach aria2 as bytes it echoes as non-UTF-8.
 */
function checkOtherText(root: BencodeDict): void {
  const one = (value: BencodeValue | undefined, what: string, control = CONTROL) => {
    if (Buffer.isBuffer(value)) text(value, what, control);
  };
  one(root.get('announce'), 'announce');
  const tiers = root.get('announce-list');
  if (Array.isArray(tiers)) {
    tiers.forEach((tier, i) => {
      if (Array.isArray(tier)) for (const url of tier) one(url, `announce-list tier ${i}`);
      else one(tier, `announce-list tier ${i}`);
    });
  }
  const seeds = root.get('url-list');
  for (const seed of Array.isArray(seeds) ? seeds : [seeds]) one(seed, 'url-list');
  one(root.get('created by'), 'created by');
  // A comment is free text shown as such, never a path or a line of aria2's session: line breaks and
  // tabs are fine there.
  for (const key of ['comment', 'comment.utf-8']) one(root.get(key), key, CONTROL_BUT_LINES);
}

/** One file or folder name: never empty, '.', '..', nor anything holding '/', '\' or NUL. */
function segment(value: BencodeValue | undefined, what: string): string {
  if (!Buffer.isBuffer(value)) return fail(`${what} is missing or not a string`);
  const s = text(value, what, NO_CHECK);
  if (s === '') fail(`${what} is empty`);
  if (s === '.' || s === '..') fail(`${what} must not be "${s}"`);
  if (/[/\\\0]/.test(s)) fail(`${what} must not contain '/', '\\' or NUL`);
  if (CONTROL.test(s)) fail(`${what} holds a control character`);
  return s;
}

/** `key.utf-8` wins over `key` where a torrent carries both (as aria2 reads them). */
function preferUtf8(dict: BencodeDict, key: string): BencodeValue | undefined {
  return dict.get(`${key}.utf-8`) ?? dict.get(key);
}

function length(value: BencodeValue | undefined, what: string): number {
  if (typeof value !== 'number') return fail(`${what} is missing or not an integer`);
  if (value < 0) fail(`${what} is negative`);
  return value;
}

function trackers(announce: BencodeValue | undefined, tiers: BencodeValue | undefined): string[] {
  const flat = [
    announce,
    ...(Array.isArray(tiers) ? tiers.flatMap((t) => (Array.isArray(t) ? t : [t])) : []),
  ];
  const urls = flat
    .filter((v): v is Buffer => Buffer.isBuffer(v) && v.length > 0)
    .map((v) => v.toString('utf8'));
  return [...new Set(urls)];
}

function webSeeds(value: BencodeValue | undefined): string[] {
  const list = Buffer.isBuffer(value) ? [value] : Array.isArray(value) ? value : [];
  return list.filter((v): v is Buffer => Buffer.isBuffer(v) && v.length > 0).map((v) => v.toString('utf8'));
}

/**
 * Reads and checks a .torrent file (BitTorrent v1 metainfo). Throws InvalidInputError
 * `Invalid torrent file: <reason>` for anything that is not a well-formed, safe torrent: bad bencode,
 * no info dictionary, a name or path segment that could leave the download folder, negative or
 * missing lengths, missing pieces or pieces that do not match the total length.
 */
export function parseTorrent(buf: Buffer): ParsedTorrent {
  let root: BencodeValue;
  try {
    root = decode(buf);
  } catch (err) {
    if (err instanceof BencodeError) fail(err.message);
    throw err;
  }
  if (!isDict(root)) fail('not a bencoded dictionary');
  const info = root.get('info');
  if (!isDict(info)) fail('missing info dictionary');

  const name = segment(preferUtf8(info, 'name'), 'name');
  checkOtherText(root);

  const pieceLength = info.get('piece length');
  if (typeof pieceLength !== 'number' || pieceLength <= 0) fail('piece length is missing or not positive');
  const pieces = info.get('pieces');
  if (!Buffer.isBuffer(pieces) || pieces.length === 0) fail('no pieces');
  if (pieces.length % 20 !== 0) fail('pieces length is not a multiple of 20');

  const single = info.get('length');
  const list = info.get('files');
  if (single !== undefined && list !== undefined) fail('both length and files are given');
  let files: { path: string; length: number }[];
  if (list !== undefined) {
    if (!Array.isArray(list) || list.length === 0) fail('files is not a non-empty list');
    const seen = new Set<string>();
    files = list.map((entry, i) => {
      if (!isDict(entry)) return fail(`file ${i} is not a dictionary`);
      const segments = preferUtf8(entry, 'path');
      if (!Array.isArray(segments) || segments.length === 0) return fail(`file ${i} has no path`);
      const path = [name, ...segments.map((s) => segment(s, `path of file ${i}`))].join('/');
      if (seen.has(path)) fail(`file ${i} repeats the path ${JSON.stringify(path)}`);
      seen.add(path);
      return { path, length: length(entry.get('length'), `length of file ${i}`) };
    });
  } else {
    files = [{ path: name, length: length(single, 'length') }];
  }

  const totalLength = files.reduce((sum, f) => sum + f.length, 0);
  if (!Number.isSafeInteger(totalLength)) fail('total length is too large');
  if (Math.ceil(totalLength / pieceLength) !== pieces.length / 20) {
    fail('the number of pieces does not match the total length');
  }

  const infoBytes = rawBytes(info);
  // decode records the bytes of every dictionary it returns; this cannot happen.
  if (!infoBytes) throw new Error('bencode decoder lost the info dictionary bytes');
  return {
    name,
    totalLength,
    infoHash: createHash('sha1').update(infoBytes).digest('hex'),
    files,
    webSeeds: webSeeds(root.get('url-list')),
    trackers: trackers(root.get('announce'), root.get('announce-list')),
    multiFile: list !== undefined,
  };
}
