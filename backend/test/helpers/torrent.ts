/**
 * Builds real .torrent files for tests. aria2 downloads them offline from a web seed (BEP 19
 * `url-list`) on the local file server, so no tracker, DHT or peer is needed:
 *
 *   const data = patternBytes(0, 300_000);
 *   server.addFile('/seed/movie.mkv', data);
 *   const t = makeTorrent({ name: 'movie.mkv', content: data, webSeedUrl: server.url('/seed/movie.mkv') });
 *   await aria2.addTorrent(t.base64);                       // or POST /api/tasks/torrent { torrent: t.base64 }
 *   t.infoHash                                              // what aria2 reports as infoHash
 *
 * Web seed URLs: for a single file, either the file's URL itself or a folder URL ending with '/'
 * (aria2 then appends the name). For a multi-file torrent the URL is a folder ending with '/', and
 * each file is fetched from `<url><name>/<path>`; each `files[i].seedPath` is that path relative to the
 * folder, so a test serves them with `for (const f of t.files) server.addFile(`/seed/${f.seedPath}`, f.content)`
 * and passes `webSeedUrl: server.url('/seed/')`.
 */
import { createHash } from 'node:crypto';
import { type BencodeInput, encode } from '../../src/domain/bencode.js';

export interface MadeTorrent {
  /** The .torrent file. */
  torrent: Buffer;
  /** The same, base64 (what aria2.addTorrent and POST /api/tasks/torrent take). */
  base64: string;
  /** SHA-1 of the bencoded info dictionary, hex lower case. */
  infoHash: string;
  name: string;
  totalLength: number;
  pieceLength: number;
  /** Each file with its path ('/'-joined, starting with the name) and where the web seed folder serves it. */
  files: { path: string; seedPath: string; content: Buffer }[];
}

export interface TorrentOptions {
  /** One URL or several (`url-list`); omit for a torrent with no source (it never downloads). */
  webSeedUrl?: string | string[];
  /** Bytes per piece; default 16 KiB (a power of two, as clients expect). */
  pieceLength?: number;
  /** Extra top-level keys (e.g. `{ announce: 'http://tracker/' }`, `{ comment: 'x' }`). */
  extra?: Record<string, BencodeInput>;
  /** Extra keys of the info dictionary (e.g. `{ private: 1 }`); changes the info hash. */
  extraInfo?: Record<string, BencodeInput>;
}

function pieces(data: Buffer, pieceLength: number): Buffer {
  const hashes: Buffer[] = [];
  for (let i = 0; i < data.length; i += pieceLength) {
    hashes.push(
      createHash('sha1')
        .update(data.subarray(i, i + pieceLength))
        .digest(),
    );
  }
  return Buffer.concat(hashes);
}

function build(
  name: string,
  info: Record<string, BencodeInput>,
  options: TorrentOptions,
  files: MadeTorrent['files'],
  totalLength: number,
  pieceLength: number,
): MadeTorrent {
  const fullInfo = { ...info, ...options.extraInfo };
  const seeds = options.webSeedUrl === undefined ? undefined : [options.webSeedUrl].flat();
  const torrent = encode({
    'created by': 'aria2-controller tests',
    'creation date': 1_700_000_000,
    ...options.extra,
    info: fullInfo,
    'url-list': seeds,
  });
  return {
    torrent,
    base64: torrent.toString('base64'),
    infoHash: createHash('sha1').update(encode(fullInfo)).digest('hex'),
    name,
    totalLength,
    pieceLength,
    files,
  };
}

/** A valid single-file torrent of `content`. */
export function makeTorrent(options: TorrentOptions & { name: string; content: Buffer }): MadeTorrent {
  const pieceLength = options.pieceLength ?? 16 * 1024;
  const info = {
    length: options.content.length,
    name: options.name,
    'piece length': pieceLength,
    pieces: pieces(options.content, pieceLength),
  };
  const files = [{ path: options.name, seedPath: options.name, content: options.content }];
  return build(options.name, info, options, files, options.content.length, pieceLength);
}

/**
 * A valid multi-file torrent: a folder `name` holding `files` (paths relative to it, '/'-separated).
 * Pieces run across file boundaries, as in every BitTorrent v1 torrent.
 */
export function makeMultiFileTorrent(
  options: TorrentOptions & { name: string; files: { path: string; content: Buffer }[] },
): MadeTorrent {
  const pieceLength = options.pieceLength ?? 16 * 1024;
  const all = Buffer.concat(options.files.map((f) => f.content));
  const info = {
    files: options.files.map((f) => ({ length: f.content.length, path: f.path.split('/') })),
    name: options.name,
    'piece length': pieceLength,
    pieces: pieces(all, pieceLength),
  };
  const files = options.files.map((f) => ({
    path: `${options.name}/${f.path}`,
    seedPath: `${options.name}/${f.path}`,
    content: f.content,
  }));
  return build(options.name, info, options, files, all.length, pieceLength);
}
