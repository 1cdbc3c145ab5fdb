/**
 * The Files API against a real controller process:
 * - `files_list_10k_ms`: GET /api/files of a folder holding 10,000 files, p50 of many requests;
 * - `archive_ratio`: a 1 GiB folder of 8 files read by the client as one zip stream
 *   (GET /api/files/content?path=<folder>) against reading the same 8 files one after the other
 *   (GET /api/files/content?path=<file>): raw time ÷ zip time, so 1 means the zip costs nothing.
 * Both read over loopback HTTP and count the bytes without keeping them. The files are written into
 * the admin's folder on disk before the requests; the page cache is warm for both sides (each run
 * reads raw, then zip, then raw again, and the better raw time counts).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { json, nowMs, say, startControllerProcess } from './harness.js';
import { type Figure, median, percentile } from './lib.js';

const ENTRIES = 10_000;
const LIST_REQUESTS = 60;
const ARCHIVE_FILES = 8;
const ARCHIVE_FILE_BYTES = 128 * 1024 * 1024;

/** GETs a URL and counts the body's bytes; resolves with the count and the time from request to end. */
function readAll(origin: string, urlPath: string, cookie: string): Promise<{ bytes: number; ms: number }> {
  const t0 = nowMs();
  return new Promise((resolve, reject) => {
    const req = http.get(`${origin}${urlPath}`, { headers: { cookie } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${urlPath}: ${res.statusCode}`));
        return;
      }
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => resolve({ bytes, ms: nowMs() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export async function benchFiles(runs = 3): Promise<Figure[]> {
  const listRuns: number[] = [];
  const ratioRuns: number[] = [];
  const c = await startControllerProcess();
  try {
    const cookie = await c.login();
    const home = path.join(c.dataDir, 'downloads', '1');
    const many = path.join(home, 'many');
    fs.mkdirSync(many, { recursive: true });
    for (let i = 0; i < ENTRIES; i++) fs.writeFileSync(path.join(many, `file-${i}.bin`), 'x'.repeat(i % 100));
    const archive = path.join(home, 'archive');
    fs.mkdirSync(archive, { recursive: true });
    const chunk = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < ARCHIVE_FILES; i++) {
      const fd = fs.openSync(path.join(archive, `part-${i}.bin`), 'w');
      for (let off = 0; off < ARCHIVE_FILE_BYTES; off += chunk.length) {
        chunk.fill(i + off / chunk.length);
        fs.writeSync(fd, chunk);
      }
      fs.closeSync(fd);
    }
    say(`wrote ${ENTRIES} small files and ${ARCHIVE_FILES} x ${ARCHIVE_FILE_BYTES >> 20} MiB`);

    for (let run = 0; run < runs; run++) {
      const times: number[] = [];
      for (let i = 0; i < LIST_REQUESTS; i++) {
        const t0 = nowMs();
        const list = await json<{ entries: unknown[] }>(c.origin, 'GET', '/api/files?path=many', { cookie });
        times.push(nowMs() - t0);
        if (list.entries.length !== ENTRIES) throw new Error(`listed ${list.entries.length} entries`);
      }
      listRuns.push(percentile(times, 50));

      const raw = async () => {
        let ms = 0;
        for (let i = 0; i < ARCHIVE_FILES; i++) {
          const r = await readAll(c.origin, `/api/files/content?path=archive%2Fpart-${i}.bin`, cookie);
          if (r.bytes !== ARCHIVE_FILE_BYTES) throw new Error(`read ${r.bytes} bytes of part-${i}`);
          ms += r.ms;
        }
        return ms;
      };
      const raw1 = await raw();
      const zip = await readAll(c.origin, '/api/files/content?path=archive', cookie);
      if (zip.bytes < ARCHIVE_FILES * ARCHIVE_FILE_BYTES)
        throw new Error(`the zip has only ${zip.bytes} bytes`);
      const raw2 = await raw();
      const rawMs = Math.min(raw1, raw2);
      ratioRuns.push(rawMs / zip.ms);
      say(
        `run ${run + 1}: list p50 ${listRuns.at(-1)!.toFixed(1)} ms (p95 ${percentile(times, 95).toFixed(1)}); ` +
          `raw ${rawMs.toFixed(0)} ms, zip ${zip.ms.toFixed(0)} ms (${(((zip.bytes / zip.ms) * 1000) / 2 ** 20).toFixed(0)} MiB/s)`,
      );
    }
  } finally {
    await c.stop();
  }
  say(
    `list p50 median ${median(listRuns).toFixed(1)} ms; archive ratio median ${median(ratioRuns).toFixed(3)}`,
  );
  return [
    {
      key: 'files_list_10k_ms',
      what: 'GET /api/files of a folder of 10,000 files, p50',
      unit: 'ms',
      target: '<= 30',
      runs: listRuns,
    },
    {
      key: 'archive_ratio',
      what: 'reading 8 files (1 GiB) one by one / reading them as one zip stream',
      unit: 'x',
      target: '>= 0.8',
      runs: ratioRuns,
    },
  ];
}
