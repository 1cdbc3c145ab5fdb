/**
 * A magnet added with `select_files` downloads only the chosen files once its metadata is known, and
 * its owner's quota counts only them. Offline and real: a second aria2c seeds a local multi-file
 * torrent, a tracker on loopback names it as the only peer, and the controller's aria2 (DHT, LPD and
 * peer exchange off) fetches the metadata and the chosen pieces from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../src/aria2/daemon.js';
import type { Task } from '../../src/contracts/tasks.js';
import { startTestAria2, type TestAria2 } from '../helpers/aria2.js';
import type { TestController } from '../helpers/controller.js';
import { patternBytes } from '../helpers/file-server.js';
import { useController } from '../helpers/fixture.js';
import { as } from '../helpers/tasks-api.js';
import { makeMultiFileTorrent } from '../helpers/torrent.js';
import { startTestTracker, type TestTracker } from '../helpers/tracker.js';

const PIECE = 16 * 1024;
// Each file starts and ends on a piece boundary, so no piece of a chosen file holds bytes of another.
const made = makeMultiFileTorrent({
  name: 'pack',
  pieceLength: PIECE,
  files: [
    { path: 'a.bin', content: patternBytes(0, 4 * PIECE) },
    { path: 'big/b.bin', content: patternBytes(4 * PIECE, 12 * PIECE) },
    { path: 'c.bin', content: patternBytes(12 * PIECE, 14 * PIECE) },
  ],
});
const CHOSEN = [made.files[0]!, made.files[2]!];
const CHOSEN_BYTES = 6 * PIECE;

let c: TestController;
let seeder: TestAria2;
let tracker: TestTracker;
useController({}, (fx) => {
  ({ c } = fx);
});

beforeAll(async () => {
  // The seeder holds the whole torrent, verified, and seeds it for as long as the test runs.
  const port = await freePort();
  seeder = await startTestAria2({
    extraArgs: [`--listen-port=${port}`, '--seed-time=10', '--seed-ratio=0', '--check-integrity=true'],
  });
  for (const f of made.files) {
    fs.mkdirSync(path.dirname(path.join(seeder.dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(seeder.dir, f.path), f.content);
  }
  await seeder.rpc('aria2.addTorrent', [made.base64, [], {}]);
  tracker = await startTestTracker([{ ip: '127.0.0.1', port }]);
});

afterAll(async () => {
  await tracker?.close();
  await seeder?.stop();
});

it('a magnet with select_files downloads only the chosen files once its metadata is known; the quota counts only them', async () => {
  // The whole torrent would not fit the quota; the chosen files do.
  const quota = CHOSEN_BYTES + 4 * PIECE;
  expect(made.totalLength).toBeGreaterThan(quota);
  const { id: userId, cookie } = await c.createUser('magnus', { quota });
  const magnus = as(c, cookie);
  const magnet = `magnet:?xt=urn:btih:${made.infoHash}&dn=pack&tr=${encodeURIComponent(tracker.announceUrl)}`;
  const r = await magnus.post('/api/tasks', { uri: magnet, select_files: [3, 1] });
  expect(r.statusCode, r.body).toBe(201);
  const t = r.json() as Task;

  const done = await magnus.waitTask(
    t.id,
    (x) => x.status === 'complete' || x.status === 'error',
    'the magnet',
    60_000,
  );
  expect(done.error).toBeNull();
  expect(done.status).toBe('complete');
  // The real download followed the metadata download, and its size is the chosen files'.
  expect(done.gid).not.toBe(t.gid);
  expect(done.total_length).toBe(CHOSEN_BYTES);
  expect(done.completed_length).toBe(CHOSEN_BYTES);
  expect(tracker.announces).toBeGreaterThan(0);

  // On disk: the chosen files whole, the other one never written.
  const folder = path.join(c.dataDir, 'downloads', String(userId));
  expect(done.artifact_path).toBe('pack');
  for (const f of CHOSEN) expect(fs.readFileSync(path.join(folder, f.path)).equals(f.content)).toBe(true);
  const other = path.join(folder, made.files[1]!.path);
  expect(!fs.existsSync(other) || fs.statSync(other).size === 0).toBe(true);

  const files = (await magnus.get(`/api/tasks/${t.id}/files`)).json() as {
    path: string;
    selected: boolean;
  }[];
  expect(files.map((f) => [f.path, f.selected])).toEqual([
    ['pack/a.bin', true],
    ['pack/big/b.bin', false],
    ['pack/c.bin', true],
  ]);
  const stats = (await magnus.get('/api/stats')).json() as { used_space: number; quota: number };
  expect(stats).toMatchObject({ quota, used_space: CHOSEN_BYTES });
});
