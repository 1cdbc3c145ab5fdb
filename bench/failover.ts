/**
 * `failover_s`: two controller instances on one PostgreSQL with two aria2c nodes; the instance that
 * drives the download's node stops answering mid-download, and the figure is the time from then until
 * the other instance has recorded the download complete (the rest of the file is sent at once when the
 * instance stops, so what is measured is the takeover: the lease lapsing, the next try taking it, a
 * reconcile of the node).
 *
 * The instance is frozen (SIGSTOP), as a machine that hangs or drops off the network: its lease lapses.
 * A process killed on the same machine is taken over at once (its pid is gone; services/leases.ts), so
 * SIGKILL here would measure the fast path, not the bound. The download is added through the frozen
 * instance, so it is handed over by it and goes through its egress proxy: the other points it at its
 * own when it takes the node over. Three runs, each on a fresh database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestAria2 } from '../backend/test/helpers/aria2.js';
import { ADMIN_PASSWORD, USER_PASSWORD } from '../backend/test/helpers/controller.js';
import { startFileServer } from '../backend/test/helpers/file-server.js';
import { freshDatabaseUrl, startTestCluster } from '../backend/test/helpers/postgres.js';
import { spawnController } from '../backend/test/helpers/process.js';
import { waitFor } from '../backend/test/helpers/wait.js';
import { say } from './harness.js';
import type { Figure } from './lib.js';

const RUNS = 3;
const SIZE = 4 * 1024 * 1024;

export async function benchFailover(): Promise<Figure[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aria2-bench-failover-'));
  const cluster = await startTestCluster();
  process.env.TEST_POSTGRES_ADMIN_URL = cluster.adminUrl;
  const server = await startFileServer();
  const nodeA = await startTestAria2({ dir: path.join(tmp, 'node-a') });
  const nodeB = await startTestAria2({ dir: path.join(tmp, 'node-b') });
  const runs: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const databaseUrl = await freshDatabaseUrl();
      const env = {
        DATABASE_URL: databaseUrl,
        ARIA2_NODES: JSON.stringify([
          { id: 'a', rpc_url: nodeA.httpUrl, secret: nodeA.secret, dir: nodeA.dir },
          { id: 'b', rpc_url: nodeB.httpUrl, secret: nodeB.secret, dir: nodeB.dir },
        ]),
      };
      const one = await spawnController({ dataDir: path.join(tmp, `one-${run}`), env });
      const two = await spawnController({ dataDir: path.join(tmp, `two-${run}`), env });
      try {
        const admin = await one.login('admin', ADMIN_PASSWORD);
        await one.api('POST', '/api/users', { username: 'alice', password: USER_PASSWORD, node: 'a' }, admin);
        const alice = await one.login('alice', USER_PASSWORD);
        const file = `/failover-${run}.bin`;
        server.addFile(file, { size: SIZE }, { throttle: 256 * 1024 });
        const added = await one.api<{ id: number }>('POST', '/api/tasks', { uri: server.url(file) }, alice);
        const status = async (p: typeof one) =>
          (
            await p.api<{ status: string; completed_length: number }>(
              'GET',
              `/api/tasks/${added.body.id}`,
              undefined,
              alice,
            )
          ).body;
        await waitFor(
          async () => {
            const t = await status(one);
            return t.status === 'active' && t.completed_length > 0;
          },
          30_000,
          'the download to run',
        );
        // The first instance took every lease when it started.
        process.kill(one.pid, 'SIGSTOP');
        const stoppedAt = performance.now();
        server.update(file, { throttle: undefined });
        await waitFor(async () => (await status(two)).status === 'complete', 60_000, 'the takeover');
        const seconds = (performance.now() - stoppedAt) / 1000;
        runs.push(seconds);
        say(
          `run ${run + 1}: the other instance recorded the download complete ${seconds.toFixed(2)} s after the freeze`,
        );
      } finally {
        await one.kill('SIGKILL');
        await two.kill('SIGKILL');
      }
    }
  } finally {
    await nodeA.stop();
    await nodeB.stop();
    await server.close();
    cluster.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return [
    {
      key: 'failover_s',
      what: 'instance driving a node frozen mid-download -> the download recorded complete by the other',
      unit: 's',
      target: '<= 15',
      runs,
    },
  ];
}
