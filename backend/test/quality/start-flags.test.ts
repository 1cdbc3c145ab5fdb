/**
 * The controller process runs as `npm start` runs it (scripts/start.mjs): with the Node options of
 * `scripts/controller-node-args.json` and the environment of `scripts/controller-env.json` (one malloc
 * arena, which keeps the resident memory lower; BENCHMARKS.md, "Memory"). The process tests and the
 * benchmarks start it through the same helper, so what they measure is what runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ControllerProcess, spawnController } from '../helpers/process.js';

const root = path.resolve(import.meta.dirname, '../../..');
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(root, 'scripts', file), 'utf8'));

describe('the controller process starts with its flags', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-start-flags-'));
  let p: ControllerProcess | undefined;

  afterAll(async () => {
    await p?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs with one malloc arena and the Node options of the start script', async () => {
    expect(read('controller-env.json')).toEqual({ MALLOC_ARENA_MAX: '1' });
    p = await spawnController({ dataDir });
    const environ = fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
    expect(environ).toContain('MALLOC_ARENA_MAX=1');
    const cmdline = fs.readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
    for (const arg of read('controller-node-args.json') as string[]) expect(cmdline).toContain(arg);
  });
});
