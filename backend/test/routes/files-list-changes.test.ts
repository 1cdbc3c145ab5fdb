/**
 * A folder listed again after changes made on disk outside the controller shows them, though the
 * files service keeps the listing of an unchanged folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileList } from '../../src/contracts/files.js';
import { startTestController, type TestController } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';

let c: TestController;
let server: FileServer;
let carol: ApiClient;
let carolId: number;

beforeAll(async () => {
  [c, server] = await Promise.all([startTestController(), startFileServer()]);
  const u = await c.createUser('carol');
  carolId = u.id;
  carol = as(c, u.cookie);
});
afterAll(async () => {
  await server?.close();
  await c?.destroy();
});

const home = (...parts: string[]) => path.join(c.config.downloadDir, String(carolId), ...parts);

async function list(p: string): Promise<FileList> {
  const res = await carol.get(`/api/files?path=${encodeURIComponent(p)}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as FileList;
}
const shown = async (p: string) => (await list(p)).entries.map((e) => [e.name, e.type, e.size]);

/**
 * Lets a folder's own times age past the window in which the service reads a just-changed folder
 * again anyway, so the next listing is one the service keeps.
 */
const settle = () => new Promise((r) => setTimeout(r, 250));

it('files added, removed, renamed or replaced on disk show at the next listing of a kept folder', async () => {
  fs.mkdirSync(home('pile', 'sub'), { recursive: true });
  for (let i = 0; i < 50; i++)
    fs.writeFileSync(home('pile', `f-${String(i).padStart(2, '0')}.bin`), 'x'.repeat(i));
  fs.writeFileSync(home('pile', 'sub', 'in.txt'), 'abc');
  await settle();
  const first = await list('pile');
  expect(first.entries).toHaveLength(51);
  expect(first.entries[0]).toMatchObject({ name: 'sub', type: 'dir', size: 3, path: 'pile/sub' });
  expect(first.entries[1]).toMatchObject({ name: 'f-00.bin', path: 'pile/f-00.bin', size: 0, task_id: null });
  expect(await list('pile')).toEqual(first);

  // Added (sorted in among the others), removed, renamed.
  fs.writeFileSync(home('pile', 'f-10a.bin'), 'new!');
  fs.rmSync(home('pile', 'f-03.bin'));
  fs.renameSync(home('pile', 'f-04.bin'), home('pile', 'g-04.bin'));
  const second = await shown('pile');
  expect(second).toContainEqual(['f-10a.bin', 'file', 4]);
  expect(second.map(([n]) => n)).not.toContain('f-03.bin');
  expect(second.map(([n]) => n)).not.toContain('f-04.bin');
  expect(second.at(-1)).toEqual(['g-04.bin', 'file', 4]);
  const names = second.slice(1).map(([n]) => n as string);
  expect(names).toEqual([...names].sort());
  expect(names.indexOf('f-10a.bin')).toBe(names.indexOf('f-10.bin') + 1);

  // A file replaced by a rename over it (how a download lands), once the folder is kept again.
  await settle();
  await list('pile');
  fs.writeFileSync(home('pile', 'tmp'), 'replaced, longer');
  fs.renameSync(home('pile', 'tmp'), home('pile', 'f-05.bin'));
  expect(await shown('pile')).toContainEqual(['f-05.bin', 'file', 16]);

  // A folder's size follows what it holds, though the parent's mtime does not move.
  await settle();
  await list('pile');
  fs.writeFileSync(home('pile', 'sub', 'more.txt'), 'x'.repeat(1000));
  expect((await shown('pile'))[0]).toEqual(['sub', 'dir', 1003]);

  // A link made on disk shows as what it points to.
  await settle();
  await list('pile');
  fs.symlinkSync(home('pile', 'f-09.bin'), home('pile', 'link.bin'));
  expect(await shown('pile')).toContainEqual(['link.bin', 'file', 9]);
});

it("a download finishing into a kept folder shows, with used space; a current download's file has its task_id", async () => {
  await settle();
  const before = await list('');
  const data = patternBytes(0, 40_000);
  server.addFile('/lands/landed.bin', data);
  const t = await carol.add(server.url('/lands/landed.bin'));
  const done = await carol.waitTask(t.id, (x) => x.status === 'complete', 'the download to finish');
  const after = await list('');
  expect(after.entries.find((e) => e.name === done.artifact_path)).toMatchObject({
    type: 'file',
    size: 40_000,
    task_id: null,
  });
  expect(after.used_space).toBe(before.used_space + 40_000);

  server.addFile('/lands/slow.bin', { size: 4 << 20 }, { throttle: 64 * 1024 });
  const slow = await carol.add(server.url('/lands/slow.bin'));
  await carol.waitTask(
    slow.id,
    (x) => x.status === 'active' && x.completed_length > 0,
    'the download to run',
  );
  const inc = await list('.incomplete');
  const folder = inc.entries.find((e) => e.task_id === slow.id);
  expect(folder, JSON.stringify(inc.entries)).toBeTruthy();
  await settle();
  await list(folder!.path);
  const inner = await list(folder!.path);
  expect(inner.entries.map((e) => [e.name, e.task_id])).toContainEqual(['slow.bin', slow.id]);
  await carol.del(`/api/tasks/${slow.id}?delete_files=true`);
});
