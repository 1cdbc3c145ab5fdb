/**
 * The network guard with the controller as `npm start` runs it (embedded aria2c, private networks
 * off): URIs aria2 would read differently, trackers and web seeds, retries, redirects and DNS
 * rebinding. Only loopback is ever contacted: "public" names and addresses come from an injected
 * resolver, and the injected dialer maps the made-up public address to a loopback server.
 */
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Dial, systemDial } from '../../src/egress/guard.js';
import { startTestAria2 } from '../helpers/aria2.js';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';
import { type ApiClient, as } from '../helpers/tasks-api.js';
import { makeTorrent, type TorrentOptions } from '../helpers/torrent.js';

const GUARD_SENTENCE = 'Invalid uri: its host is a loopback, private or otherwise non-public address';
/** A public address no test ever reaches: the dialer below sends it to the "public" server on loopback. */
const PUBLIC_IP = '93.184.216.34';

/** A TCP listener that only counts connections: a stand-in for any private service. */
async function startCounter(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

let publicServer: FileServer;
let privateServer: FileServer;
let counter: Awaited<ReturnType<typeof startCounter>>;
let c: TestController;
let admin: ApiClient;
let user: ApiClient;
/** What the injected resolver answers per name; changed by the rebinding test. */
const names = new Map<string, string[]>();
const resolved: string[] = [];
const dialled: string[] = [];

const dial: Dial = (address, port, onread) => {
  dialled.push(`${address}:${port}`);
  return address === PUBLIC_IP
    ? net.connect({ host: '127.0.0.1', port: publicServer.port, onread })
    : systemDial(address, port, onread);
};

const egress = {
  resolve: async (host: string) => {
    resolved.push(host);
    const answer = names.get(host);
    if (!answer) throw new Error(`test resolver: unknown name ${host}`);
    return answer;
  },
  dial,
};

beforeAll(async () => {
  publicServer = await startFileServer();
  privateServer = await startFileServer();
  counter = await startCounter();
  c = await startTestController({ ALLOW_PRIVATE_NETWORK: 'false' }, { egress });
  admin = as(c, await c.adminCookie());
  user = as(c, (await c.createUser('guarded')).cookie);
});

afterAll(async () => {
  await c?.destroy();
  await publicServer?.close();
  await privateServer?.close();
  await counter?.close();
});

beforeEach(async () => {
  names.clear();
  names.set('public.test', [PUBLIC_IP]);
  resolved.length = 0;
  dialled.length = 0;
  publicServer.clearRequests();
  privateServer.clearRequests();
  await admin.put('/api/config', { allow_private_network: false });
});

const total = async () => (await user.get('/api/tasks')).json().total as number;

describe('URIs aria2 would read differently', () => {
  it('are refused with 422 and nothing is contacted', async () => {
    const port = counter.port;
    const before = await total();
    const uris = [
      `ftp://1.1.1.1\\@127.0.0.1:${port}/x`,
      `http://1.1.1.1\\@127.0.0.1:${port}/x`,
      `http://u@1.1.1.1@127.0.0.1:${port}/x`,
      `http://u:p@1.1.1.1@127.0.0.1:${port}/x`,
      `http://1.1.1.1%40127.0.0.1:${port}/x`,
      `http://127.0.0.1%2e:${port}/x`,
      `http://exa%6dple.com/x`,
      `http://ex\u00e4mple.com/x`,
      `http://a..b.com/x`,
      `http://.example.com/x`,
      `http://example.com./x`,
      `http://[fe80::1%25lo]:${port}/x`,
      `http://127.0.0.1:0${port}0/x`,
      `http://127.0.0.1:/x`,
      `sftp://1.1.1.1\\@127.0.0.1:${port}/x`,
    ];
    for (const uri of uris) {
      const res = await user.post('/api/tasks', { uri });
      expect(res.statusCode, `${uri} -> ${res.body}`).toBe(422);
      expect(res.json().detail, uri).toMatch(/^Invalid uri: /);
    }
    expect(await total()).toBe(before);
    expect(counter.connections()).toBe(0);
  });

  it('are refused while private networks are allowed too (the URI is ambiguous, whatever the setting)', async () => {
    await admin.put('/api/config', { allow_private_network: true });
    const res = await user.post('/api/tasks', { uri: `ftp://1.1.1.1\\@127.0.0.1:${counter.port}/x` });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toBe('Invalid uri: it contains a backslash');
    expect(counter.connections()).toBe(0);
  });
});

describe('Trackers and web seeds', () => {
  it("a magnet's tr= on a private address is 422 and the tracker is never contacted", async () => {
    const before = await total();
    const hash = 'a'.repeat(40);
    for (const tr of [
      `http://127.0.0.1:${counter.port}/announce`,
      `udp://127.0.0.1:${counter.port}/announce`,
      `http://[::1]:${counter.port}/announce`,
    ]) {
      const uri = `magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(`http://public.test/announce`)}&tr=${encodeURIComponent(tr)}`;
      const res = await user.post('/api/tasks', { uri });
      expect(res.statusCode, `${tr} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toMatch(
        /^Invalid uri: the tracker or web seed host .* is a loopback, private/,
      );
    }
    const ws = await user.post('/api/tasks', {
      uri: `magnet:?xt=urn:btih:${hash}&ws=${encodeURIComponent(privateServer.url('/seed'))}`,
    });
    expect(ws.statusCode).toBe(422);
    const ambiguous = await user.post('/api/tasks', {
      uri: `magnet:?xt=urn:btih:${hash}&tr=${encodeURIComponent(`http://1.1.1.1\\@127.0.0.1:${counter.port}/a`)}`,
    });
    expect(ambiguous.statusCode).toBe(422);
    expect(ambiguous.json().detail).toMatch(/^Invalid uri: a tracker or web seed is refused/);
    expect(await total()).toBe(before);
    expect(counter.connections()).toBe(0);
    expect(privateServer.requests).toEqual([]);
  });

  it("a .torrent's announce, announce-list or url-list on a private address is 422 and none is contacted", async () => {
    const before = await total();
    const content = patternBytes(0, 1000);
    const variants: TorrentOptions[] = [
      { webSeedUrl: privateServer.url('/seed/') },
      { extra: { announce: `http://127.0.0.1:${counter.port}/announce` } },
      {
        extra: {
          announce: 'http://public.test/announce',
          'announce-list': [['http://public.test/announce'], [`udp://10.0.0.1:${counter.port}/announce`]],
        },
      },
    ];
    for (const v of variants) {
      const t = makeTorrent({ name: 'guarded.bin', content, ...v });
      const res = await user.post('/api/tasks/torrent', { torrent: t.base64 });
      expect(res.statusCode, `${JSON.stringify(v)} -> ${res.body}`).toBe(422);
      expect(res.json().detail).toMatch(/^Invalid torrent file: the tracker or web seed host /);
    }
    expect(await total()).toBe(before);
    expect(counter.connections()).toBe(0);
    expect(privateServer.requests).toEqual([]);
  });

  it('a torrent whose web seed is public passes, and its download goes through the guard', async () => {
    const content = patternBytes(0, 3000);
    const t = makeTorrent({ name: 'public-seed.bin', content, webSeedUrl: 'http://public.test/seed/' });
    publicServer.addFile('/seed/public-seed.bin', content);
    const res = await user.post('/api/tasks/torrent', { torrent: t.base64 });
    expect(res.statusCode, res.body).toBe(201);
    const done = await user.waitTask(res.json().id, (x) => x.status === 'complete', 'the web seed download');
    expect(done.total_length).toBe(3000);
    expect(dialled).toContain(`${PUBLIC_IP}:80`);
  });
});

describe('Retry', () => {
  it('re-checks the guard: 422 with its sentence after private networks were turned off, the old task unchanged', async () => {
    await admin.put('/api/config', { allow_private_network: true });
    privateServer.addFile('/retry/gone.bin', patternBytes(0, 100), { status: 404 });
    const t = await user.add(privateServer.url('/retry/gone.bin'));
    const failed = await user.waitTask(t.id, (x) => x.status === 'error', 'the download to fail');
    await admin.put('/api/config', { allow_private_network: false });
    privateServer.clearRequests();

    const res = await user.post(`/api/tasks/${t.id}/retry`);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ detail: GUARD_SENTENCE });
    const batch = await user.post('/api/tasks/retry', { ids: [t.id] });
    expect(batch.json().results).toEqual([{ id: t.id, ok: false, status: 422, detail: GUARD_SENTENCE }]);
    expect(await user.task(t.id)).toEqual(failed);
    expect(privateServer.requests).toEqual([]);
  });
});

describe('Redirects and DNS rebinding', () => {
  it('a public host that redirects to a private one: the download fails and the private server sees no request', async () => {
    privateServer.addFile('/secret', patternBytes(0, 100));
    publicServer.addFile('/redirect.bin', patternBytes(0, 100), { redirect: privateServer.url('/secret') });
    const t = await user.add(`http://public.test:${8080}/redirect.bin`);
    const done = await user.waitTask(t.id, (x) => x.status === 'error', 'the download to fail');
    expect(done.status).toBe('error');
    // aria2 did reach the public server (through the guard) and was sent the redirect.
    expect(publicServer.requestsFor('/redirect.bin').some((r) => r.method === 'GET')).toBe(true);
    expect(dialled).toContain(`${PUBLIC_IP}:8080`);
    expect(privateServer.requests).toEqual([]);
    expect(dialled.some((d) => d.startsWith('127.'))).toBe(false);
  });

  it('a name that resolves to a public address at the add and to a private one later is never connected to privately', async () => {
    privateServer.addFile('/rebind.bin', patternBytes(0, 100));
    let lookups = 0;
    names.delete('rebind.test');
    const realGet = names.get.bind(names);
    names.get = (host: string) => {
      if (host !== 'rebind.test') return realGet(host);
      lookups++;
      return lookups === 1 ? [PUBLIC_IP] : ['127.0.0.1'];
    };
    try {
      const t = await user.add(`http://rebind.test:${privateServer.port}/rebind.bin`);
      const done = await user.waitTask(t.id, (x) => x.status === 'error', 'the download to fail');
      expect(done.status).toBe('error');
      expect(lookups).toBeGreaterThanOrEqual(2);
    } finally {
      names.get = realGet;
    }
    expect(privateServer.requests).toEqual([]);
    expect(dialled.some((d) => d.startsWith('127.'))).toBe(false);
  });

  it('turning private networks on applies to the proxy at once (the live setting)', async () => {
    privateServer.addFile('/live.bin', patternBytes(0, 200));
    publicServer.addFile('/to-private.bin', patternBytes(0, 200), {
      redirect: privateServer.url('/live.bin'),
    });
    await admin.put('/api/config', { allow_private_network: true });
    const t = await user.add('http://public.test/to-private.bin');
    const done = await user.waitTask(t.id, (x) => x.status === 'complete', 'the download to finish');
    expect(done.total_length).toBe(200);
    expect(privateServer.requestsFor('/live.bin').some((r) => r.method === 'GET')).toBe(true);
  });

  it('a download from a private address stops when private networks are turned off mid-way', async () => {
    await admin.put('/api/config', { allow_private_network: true });
    privateServer.addFile('/long.bin', { size: 4 << 20 }, { throttle: 128 * 1024 });
    const t = await user.add(privateServer.url('/long.bin'));
    await user.waitTask(t.id, (x) => x.completed_length > 0, 'the download to start');
    await admin.put('/api/config', { allow_private_network: false });
    const done = await user.waitTask(t.id, (x) => x.status === 'error', 'the download to be cut', 30_000);
    expect(done.completed_length).toBeLessThan(4 << 20);
    // aria2's attempts after the cut were refused by the proxy: only the first GET got an answer.
    expect(privateServer.requestsFor('/long.bin').filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it('the proxy refuses a CONNECT without its credentials (407) and any plain request (405)', async () => {
    const url = new URL(c.egressProxy.url);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: url.hostname, port: Number(url.port) }, () => s.write(text));
        let got = '';
        s.on('data', (d) => {
          got += d.toString();
        });
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
    const noAuth = await raw(`CONNECT 127.0.0.1:${counter.port} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(noAuth).toMatch(/^HTTP\/1\.1 407 /);
    const plain = await raw(`GET http://127.0.0.1:${counter.port}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect(plain).toMatch(/^HTTP\/1\.1 405 /);
    await waitFor(() => true, 100);
    expect(counter.connections()).toBe(0);
  });
});

describe('An external aria2 on loopback (ARIA2_RPC_URL)', () => {
  it("gets the proxy as each download's own option, so a redirect to a private address is refused too", async () => {
    const external = await startTestAria2();
    const e = await startTestController(
      { ARIA2_RPC_URL: external.httpUrl, ARIA2_RPC_SECRET: external.secret!, ALLOW_PRIVATE_NETWORK: 'false' },
      { egress },
    );
    try {
      const u = as(e, (await e.createUser('external')).cookie);
      privateServer.addFile('/external-secret', patternBytes(0, 100));
      publicServer.addFile('/external.bin', patternBytes(0, 100), {
        redirect: privateServer.url('/external-secret'),
      });
      const t = await u.add('http://public.test/external.bin');
      const options = await external.rpc<Record<string, string>>('aria2.getOption', [t.gid]);
      expect(options['all-proxy']).toBe(`${e.egressProxy.url}/`);
      expect(options['proxy-method']).toBe('tunnel');
      const done = await u.waitTask(t.id, (x) => x.status === 'error', 'the download to fail');
      expect(done.status).toBe('error');
      expect(publicServer.requestsFor('/external.bin').some((r) => r.method === 'GET')).toBe(true);
      expect(privateServer.requests).toEqual([]);
    } finally {
      await e.destroy();
      await external.stop();
    }
  });
});
