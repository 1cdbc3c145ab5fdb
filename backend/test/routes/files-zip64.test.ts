import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { TestController } from '../helpers/controller.js';
import { useController } from '../helpers/fixture.js';

/*
 * A file over 4 GiB in a zip needs ZIP64: the classic records hold sizes and offsets in 32 bits. The
 * file is sparse (no disk used) and the archive is streamed over a real socket without being held:
 * the test counts its bytes and keeps only the tail, where the central directory and the end
 * records are, and reads them by hand (PKWARE APPNOTE 4.3.12-4.3.16, 4.5.3).
 */

const HUGE = 4 * 1024 ** 3 + 5; // past 2^32, so 32-bit fields cannot hold it
const TAIL_KEEP = 4 * 1024 * 1024;
const TAIL_TEXT = 'the file after the big one\n';

let c: TestController;
let cookie: string;
let base: string;

useController({ users: ['alice'] }, async (fx) => {
  c = fx.c;
  cookie = fx.users.alice!.cookie;
  const home = path.join(c.config.downloadDir, String(fx.users.alice!.id), 'Big');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'a-huge.bin'), '');
  fs.truncateSync(path.join(home, 'a-huge.bin'), HUGE);
  fs.writeFileSync(path.join(home, 'b-after.txt'), TAIL_TEXT);
  await c.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(c.app.server.address() as AddressInfo).port}`;
});

/** Streams a GET and returns its status, headers, byte count and last TAIL_KEEP bytes. */
function fetchTail(url: string): Promise<{ status: number; type: string; total: number; tail: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { cookie } }, (res) => {
        let total = 0;
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          chunks.push(chunk);
          kept += chunk.length;
          // Whole chunks are dropped from the front while the rest still holds TAIL_KEEP bytes.
          while (chunks.length > 1 && kept - chunks[0]!.length >= TAIL_KEEP) kept -= chunks.shift()!.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            total,
            tail: Buffer.concat(chunks).subarray(-TAIL_KEEP),
          }),
        );
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

interface CentralEntry {
  name: string;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
  versionNeeded: number;
}

/** Reads the end records and the central directory from the archive's tail. */
function readCentralDirectory(total: number, tail: Buffer) {
  const at = (absolute: number) => {
    const i = absolute - (total - tail.length);
    if (i < 0 || i >= tail.length) throw new Error(`offset ${absolute} is not in the kept tail`);
    return i;
  };
  // No archive comment: the classic end record is the last 22 bytes.
  const eocd = tail.length - 22;
  expect(tail.readUInt32LE(eocd)).toBe(0x06054b50);
  const classic = { cdOffset: tail.readUInt32LE(eocd + 16), cdSize: tail.readUInt32LE(eocd + 12) };
  // ZIP64 end of central directory locator: just before the classic end record.
  const locator = eocd - 20;
  expect(tail.readUInt32LE(locator), 'a ZIP64 end of central directory locator').toBe(0x07064b50);
  const z64 = at(Number(tail.readBigUInt64LE(locator + 8)));
  expect(tail.readUInt32LE(z64), 'a ZIP64 end of central directory record').toBe(0x06064b50);
  const entries = Number(tail.readBigUInt64LE(z64 + 32));
  const cdSize = Number(tail.readBigUInt64LE(z64 + 40));
  const cdOffset = Number(tail.readBigUInt64LE(z64 + 48));
  // The records end the stream exactly: directory, ZIP64 record (56 bytes), locator, classic record.
  expect(cdOffset + cdSize + 56 + 20 + 22).toBe(total);

  const list: CentralEntry[] = [];
  let p = at(cdOffset);
  for (let n = 0; n < entries; n++) {
    expect(tail.readUInt32LE(p)).toBe(0x02014b50);
    const versionNeeded = tail.readUInt16LE(p + 6);
    const crc = tail.readUInt32LE(p + 16);
    let compressed = tail.readUInt32LE(p + 20);
    let size = tail.readUInt32LE(p + 24);
    const nameLen = tail.readUInt16LE(p + 28);
    const extraLen = tail.readUInt16LE(p + 30);
    const commentLen = tail.readUInt16LE(p + 32);
    let offset = tail.readUInt32LE(p + 42);
    const name = tail.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // The ZIP64 extra field (tag 1) holds, in this order, each of the three that is 0xFFFFFFFF above.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e < extraEnd) {
      const tag = tail.readUInt16LE(e);
      const len = tail.readUInt16LE(e + 2);
      if (tag === 1) {
        let f = e + 4;
        const next = () => {
          const v = Number(tail.readBigUInt64LE(f));
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      e += 4 + len;
    }
    list.push({ name, crc, compressed, size, offset, versionNeeded });
    p = extraEnd + commentLen;
  }
  return { list, at, classic };
}

/** CRC-32 of `n` zero bytes (what a sparse file reads as). */
function zerosCrc(n: number): number {
  const block = Buffer.alloc(16 * 1024 * 1024);
  let crc = 0;
  for (let left = n; left > 0; left -= block.length) {
    crc = zlib.crc32(left >= block.length ? block : block.subarray(0, left), crc);
  }
  return crc;
}

describe('zip of a file over 4 GiB', () => {
  it('a folder with a 4 GiB + 5 byte file streams as a valid ZIP64 archive with the true size', async () => {
    const res = await fetchTail(`${base}/api/files/content?path=Big`);
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/zip');
    expect(res.total).toBeGreaterThan(HUGE);

    const { list, at, classic } = readCentralDirectory(res.total, res.tail);
    // The classic end record points at the ZIP64 one: its 32-bit offset cannot hold the true one.
    expect(classic.cdOffset).toBe(0xffffffff);
    expect(list.map((x) => x.name)).toEqual(['Big/', 'Big/a-huge.bin', 'Big/b-after.txt']);
    const huge = list[1]!;
    const after = list[2]!;
    expect(huge.size).toBe(HUGE);
    expect(huge.compressed).toBe(HUGE); // stored
    expect(huge.versionNeeded).toBe(45); // ZIP64's "version needed to extract"
    expect(huge.crc).toBe(zerosCrc(HUGE));

    // The small file after it starts past 4 GiB: its offset needs the ZIP64 field too, and the local
    // header found there is its own, followed by its bytes.
    expect(after.offset).toBeGreaterThan(0xffffffff);
    expect(after.size).toBe(TAIL_TEXT.length);
    const local = at(after.offset);
    expect(res.tail.readUInt32LE(local)).toBe(0x04034b50);
    const nameLen = res.tail.readUInt16LE(local + 26);
    const extraLen = res.tail.readUInt16LE(local + 28);
    expect(res.tail.subarray(local + 30, local + 30 + nameLen).toString()).toBe('Big/b-after.txt');
    const data = local + 30 + nameLen + extraLen;
    expect(res.tail.subarray(data, data + after.size).toString()).toBe(TAIL_TEXT);

    // The big file's data descriptor (just before the next header) is the 24-byte ZIP64 one with 64-bit sizes.
    const descriptor = local - 24;
    expect(res.tail.readUInt32LE(descriptor)).toBe(0x08074b50);
    expect(res.tail.readUInt32LE(descriptor + 4)).toBe(huge.crc);
    expect(Number(res.tail.readBigUInt64LE(descriptor + 8))).toBe(HUGE);
    expect(Number(res.tail.readBigUInt64LE(descriptor + 16))).toBe(HUGE);
  }, 600_000);
});
