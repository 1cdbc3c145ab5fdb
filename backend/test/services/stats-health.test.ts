import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Aria2Client } from '../../src/aria2/client.js';
import { Aria2Gateway } from '../../src/aria2/gateway.js';
import { NodeRegistry } from '../../src/gateway/registry.js';
import { LOCAL_NODE } from '../../src/gateway/types.js';
import { StatsService } from '../../src/services/stats.js';
import { startTestAria2, type TestAria2, waitFor } from '../helpers/aria2.js';
import { type UnitContext, unitContext } from '../helpers/service-context.js';

const noDisk = {
  freeDiskOf: async () => ({ total: 0, free: 0 }),
};

describe('StatsService health: every node of the registry counts', () => {
  let u: UnitContext;
  let aria2: TestAria2;
  const clients: Aria2Client[] = [];

  beforeEach(async () => {
    [u, aria2] = await Promise.all([unitContext(), startTestAria2()]);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await aria2.stop();
    await u.close();
  });

  /** A registry of a connected local node and, with `away`, a second node whose daemon never answers. */
  async function statsWith(away: boolean): Promise<StatsService> {
    const local = new Aria2Client({ url: aria2.url, secret: aria2.secret });
    clients.push(local);
    const gateways = [new Aria2Gateway(LOCAL_NODE, local)];
    if (away) {
      const gone = new Aria2Client({ url: 'ws://127.0.0.1:9/jsonrpc', secret: null });
      clients.push(gone);
      gateways.push(new Aria2Gateway('far', gone));
    }
    await local.start();
    await waitFor(() => local.connected, 10_000, 'aria2 to connect');
    return new StatsService({ ...u.ctx, nodes: new NodeRegistry(gateways) }, noDisk);
  }

  it('is ok with the local node connected, and names its version', async () => {
    const health = (await statsWith(false)).health();
    expect(health.status).toBe('ok');
    expect(health.aria2.connected).toBe(true);
    expect(health.aria2.version).toMatch(/^\d+\.\d+/);
  });

  it('is degraded while another node is away, the local one still shown connected', async () => {
    const health = (await statsWith(true)).health();
    expect(health.status).toBe('degraded');
    expect(health.aria2).toEqual({ connected: true, version: expect.stringMatching(/^\d/) });
  });
});
