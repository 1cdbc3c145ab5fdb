/**
 * `npm run bench`: runs every benchmark against a real controller, a real aria2c and a local HTTP
 * server on loopback, prints a table, and writes bench/results.json. `npm run bench -- retry` runs
 * only the benchmarks whose name contains "retry".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchActiveCpu } from './active-cpu.js';
import { benchEventLatency } from './event-latency.js';
import { benchFailover } from './failover.js';
import { benchFiles } from './files.js';
import { type Figure, printTable, resultsObject } from './lib.js';
import { benchPostgres } from './pg.js';
import { benchRetryBatch } from './retry-batch.js';
import { benchRetryContinued } from './retry-continued.js';
import { benchRpc } from './rpc.js';
import { benchSocketsFanout } from './sockets-fanout.js';
import { benchTasks10k } from './tasks-10k.js';
import { benchThroughput } from './throughput.js';

const benches: [string, () => Promise<Figure[]>][] = [
  ['list-idle-rss-10k', () => benchTasks10k()],
  ['active-100-cpu', () => benchActiveCpu()],
  ['active-1000-cpu', () => benchActiveCpu(1, 1000, '<= 10')],
  ['event-latency', () => benchEventLatency()],
  ['sockets-1000-fanout', () => benchSocketsFanout()],
  ['throughput', () => benchThroughput()],
  ['retry-batch', () => benchRetryBatch()],
  ['files-list-archive', () => benchFiles()],
  ['retry-one-filter-10k', () => benchRetryContinued()],
  ['rpc-clients', () => benchRpc()],
  ['pg-list-retry', () => benchPostgres()],
  ['failover', () => benchFailover()],
];

const filter = process.argv[2];
const figures: Figure[] = [];
for (const [name, bench] of benches) {
  if (filter && !name.includes(filter)) continue;
  process.stdout.write(`\n== ${name} ==\n`);
  figures.push(...(await bench()));
}
process.stdout.write(
  `\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, Node ${process.version}\n\n`,
);
printTable(figures);
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
const previous = fs.existsSync(file)
  ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>)
  : {};
fs.writeFileSync(file, `${JSON.stringify({ ...previous, ...resultsObject(figures) }, null, 2)}\n`);
process.stdout.write(`\nwritten ${path.relative(process.cwd(), file)}\n`);
process.exit(0);
