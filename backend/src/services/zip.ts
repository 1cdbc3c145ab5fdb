import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import type yazlModule from 'yazl';
import { isInside, type Storage } from './storage.js';

/*
 * yazl checksums every byte with buffer-crc32, plain JavaScript at about 275 MB/s on the benchmark
 * machine: slower than the disk and the network, so a zip stream ran at half the speed of the same
 * files read raw. Node's own zlib.crc32 (native, same result) runs at several GB/s; yazl's copy of
 * buffer-crc32 is pointed at it for the numeric chaining yazl uses.
 *
 * yazl is loaded with the first archive, not at start: most controllers never build one.
 */
let loading: Promise<typeof yazlModule> | null = null;
function loadYazl(): Promise<typeof yazlModule> {
  loading ??= import('yazl').then(({ default: yazl }) => {
    const crc32 = createRequire(createRequire(import.meta.url).resolve('yazl'))('buffer-crc32') as {
      unsigned: (buf: Buffer | string, previous?: number | Buffer) => number;
    };
    const original = crc32.unsigned;
    crc32.unsigned = (buf, previous) =>
      previous === undefined || typeof previous === 'number'
        ? zlib.crc32(buf, previous ?? 0)
        : original(buf, previous);
    return yazl;
  });
  return loading;
}

/** One top-level item of an archive: a real path inside the user's folder and its name in the zip. */
export interface ZipItem {
  real: string;
  name: string;
}

/**
 * Files and folders of a user's folder as one zip stream. Entries are stored, not compressed
 * (downloads are mostly compressed already, and storing keeps the stream as fast as the disk); ZIP64
 * where a file or the archive passes 4 GiB. Nothing is written to disk and no file is held in memory:
 * each file is opened by handle (checked by Storage.openInside) only when its turn comes. Folders are
 * walked while the stream runs; a symlink is followed only to a file inside the user's folder.
 */
export async function zipStream(
  storage: Storage,
  userId: number,
  items: readonly ZipItem[],
): Promise<Readable> {
  const yazl = await loadYazl();
  const zip = new yazl.ZipFile();
  const out = new PassThrough();
  // yazl reports a failed file on the ZipFile itself: the response is cut off rather than the process.
  const fail = (err: Error) => out.destroy(err);
  zip.on('error', fail);
  zip.outputStream.on('error', fail);
  zip.outputStream.pipe(out);
  // A client that goes away ends the archive: the open file is closed, nothing more is read.
  const reading = new Set<Readable>();
  out.on('close', () => {
    for (const r of reading) r.destroy();
    (zip.outputStream as unknown as Readable).destroy();
  });

  const addFile = (real: string, name: string, mtime: Date, mode: number) => {
    zip.addReadStreamLazy(name, { mtime, mode, compress: false }, (cb) => {
      storage.openInside(userId, real).then(
        ({ handle }) => {
          if (out.destroyed) return void handle.close().catch(() => undefined);
          // Large reads: each chunk passes through several of yazl's transforms (checksum, counters).
          const stream = handle.createReadStream({ highWaterMark: 1024 * 1024 });
          reading.add(stream);
          stream.once('close', () => reading.delete(stream));
          cb(null, stream);
        },
        (err: Error) => cb(err, undefined as unknown as NodeJS.ReadableStream),
      );
    });
  };

  const walk = async (base: string, dir: string, name: string): Promise<void> => {
    zip.addEmptyDirectory(name);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // gone meanwhile: the folder stays empty in the archive
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (out.destroyed) return;
      await addAny(base, path.join(dir, e.name), `${name}/${e.name}`, e);
    }
  };

  const addAny = async (base: string, abs: string, name: string, dirent?: Dirent): Promise<void> => {
    const lst = dirent ?? (await fs.lstat(abs).catch(() => null));
    if (!lst) return;
    if (lst.isDirectory()) return walk(base, abs, name);
    let real = abs;
    if (lst.isSymbolicLink()) {
      const target = await fs.realpath(abs).catch(() => null);
      if (!target || !isInside(base, target)) return;
      real = target;
    } else if (!lst.isFile()) {
      return;
    }
    const st = await fs.stat(real).catch(() => null);
    if (st?.isFile()) addFile(real, name, st.mtime, st.mode);
  };

  void (async () => {
    const base = await storage.realUserDir(userId);
    for (const item of items) {
      if (out.destroyed) return;
      await addAny(base, item.real, item.name);
    }
    zip.end();
  })().catch(fail);
  return out;
}
