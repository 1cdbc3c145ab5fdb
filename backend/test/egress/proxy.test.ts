/**
 * The egress proxy with a real aria2c (`--all-proxy`, `--proxy-method=tunnel`): plain HTTP, HTTPS and
 * FTP (passive data connections included) all arrive as CONNECT and go through the guard. Servers are
 * on loopback; made-up names come from an injected resolver.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EgressGuard, systemDial } from '../../src/egress/guard.js';
import { EgressProxy, HOLD_SLOW_AFTER_MS } from '../../src/egress/proxy.js';
import { startTestAria2, type TestAria2, waitFor } from '../helpers/aria2.js';
import { type FileServer, patternBytes, startFileServer } from '../helpers/file-server.js';

let allowPrivate = true;
const resolved: string[] = [];
const dialled: string[] = [];
/** Reads of the servers' side of every tunnel. */
let reads = 0;
/**
 * Turns of the event loop in which a tunnel read its server: the controller's wake-ups for the
 * relaying (reads that one poll of the sockets brings are one turn).
 */
let readTurns = 0;
let inTurn = false;
/** While set: the bytes read into each buffer the tunnels read into. */
let readInto: Map<Uint8Array, number> | null = null;
/** While set: when each read of a server came. */
let readTimes: number[] | null = null;
const names = new Map<string, string[]>();
const guard = new EgressGuard({
  allowPrivate: () => allowPrivate,
  resolve: async (host) => {
    resolved.push(host);
    const answer = names.get(host);
    if (!answer) throw new Error(`unknown name ${host}`);
    return answer;
  },
  dial: (address, port, onread) => {
    dialled.push(`${address}:${port}`);
    // The proxy reads through `onread`: each call of its callback is one read of the server.
    return systemDial(
      address,
      port,
      onread && {
        buffer: onread.buffer,
        callback: (n, buf) => {
          reads++;
          readTimes?.push(Date.now());
          readInto?.set(buf, (readInto.get(buf) ?? 0) + n);
          if (!inTurn) {
            inTurn = true;
            readTurns++;
            setImmediate(() => {
              inTurn = false;
            });
          }
          return onread.callback(n, buf);
        },
      },
    );
  },
});
const proxy = new EgressProxy(guard);

let aria2: TestAria2;
let files: FileServer;
let tls: { server: https.Server; port: number; dir: string };
let ftp: Awaited<ReturnType<typeof startFtpServer>>;

/** A self-signed certificate for 127.0.0.1, made with the system's openssl. */
function selfSigned(dir: string): { key: Buffer; cert: Buffer } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

/**
 * The smallest FTP server aria2 downloads from: one file, passive mode (EPSV and PASV), REST and RETR.
 * Records every command and every data connection.
 */
async function startFtpServer(content: Buffer) {
  const commands: string[] = [];
  let dataConnections = 0;
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  const listen = (server: net.Server) =>
    new Promise<number>((r) =>
      server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)),
    );
  const control = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    let offset = 0;
    let data: Promise<net.Socket> | null = null;
    const reply = (line: string) => s.write(`${line}\r\n`);
    reply('220 test ftp');
    let buffer = '';
    // Commands are handled one after another, even when one waits (for a data connection, say).
    let queue = Promise.resolve();
    s.on('data', (chunk) => {
      queue = queue.then(() => handle(chunk));
    });
    const handle = async (chunk: Buffer) => {
      buffer += chunk.toString();
      let i = buffer.indexOf('\r\n');
      while (i >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        i = buffer.indexOf('\r\n');
        const [verb = '', arg = ''] = line.split(' ');
        commands.push(verb.toUpperCase());
        switch (verb.toUpperCase()) {
          case 'USER':
            reply('331 password please');
            break;
          case 'PASS':
            reply('230 logged in');
            break;
          case 'TYPE':
            reply('200 type set');
            break;
          case 'PWD':
            reply('257 "/" is the current directory');
            break;
          case 'CWD':
            reply('250 ok');
            break;
          case 'SIZE':
            reply(`213 ${content.length}`);
            break;
          case 'MDTM':
            reply('550 not available');
            break;
          case 'REST':
            offset = Number(arg);
            reply('350 restarting');
            break;
          case 'EPSV':
          case 'PASV': {
            const passive = net.createServer();
            servers.push(passive);
            data = new Promise((r) =>
              passive.once('connection', (d) => {
                dataConnections++;
                sockets.add(d);
                r(d);
              }),
            );
            const port = await listen(passive);
            reply(
              verb.toUpperCase() === 'EPSV'
                ? `229 Entering Extended Passive Mode (|||${port}|)`
                : `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})`,
            );
            break;
          }
          case 'RETR': {
            reply('150 sending');
            const d = await data!;
            d.end(content.subarray(offset), () => reply('226 done'));
            break;
          }
          case 'QUIT':
            reply('221 bye');
            s.end();
            break;
          default:
            reply('502 not implemented');
        }
      }
    };
  });
  servers.push(control);
  const port = await listen(control);
  return {
    port,
    commands,
    dataConnections: () => dataConnections,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((srv) => new Promise((r) => srv.close(() => r(null)))));
    },
  };
}

beforeAll(async () => {
  await proxy.start();
  aria2 = await startTestAria2({
    extraArgs: [
      `--all-proxy=${proxy.url}`,
      `--all-proxy-user=${proxy.user}`,
      `--all-proxy-passwd=${proxy.password}`,
      '--proxy-method=tunnel',
      '--check-certificate=false',
      '--max-tries=1',
      '--retry-wait=0',
      '--max-concurrent-downloads=10',
    ],
  });
  files = await startFileServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'egress-tls-'));
  const server = https.createServer(selfSigned(dir), (_req, res) => res.end(patternBytes(0, 5000)));
  const port = await new Promise<number>((r) =>
    server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)),
  );
  tls = { server, port, dir };
  ftp = await startFtpServer(patternBytes(0, 7000));
});

afterAll(async () => {
  await aria2?.stop();
  await proxy.stop();
  await files?.close();
  tls?.server.closeAllConnections();
  await new Promise((r) => (tls ? tls.server.close(() => r(null)) : r(null)));
  if (tls) fs.rmSync(tls.dir, { recursive: true, force: true });
  await ftp?.close();
});

beforeEach(() => {
  allowPrivate = true;
  resolved.length = 0;
  dialled.length = 0;
  names.clear();
  files.clearRequests();
  proxy.clock.holdAfterMs = HOLD_SLOW_AFTER_MS;
  readInto = null;
  readTimes = null;
});

async function download(uri: string): Promise<{ status: string; errorMessage?: string; path: string }> {
  const gid = await aria2.rpc<string>('aria2.addUri', [[uri], {}]);
  const st = await waitFor(
    async () => {
      const s = await aria2.rpc<{ status: string; errorMessage?: string; files: { path: string }[] }>(
        'aria2.tellStatus',
        [gid, ['status', 'errorMessage', 'files']],
      );
      return s.status === 'complete' || s.status === 'error' ? s : null;
    },
    20_000,
    `aria2 to finish ${uri} (ftp commands: ${ftp.commands.join(' ')}, data connections ${ftp.dataConnections()}, dialled ${dialled.join(' ')})`,
  );
  return { status: st.status, errorMessage: st.errorMessage, path: st.files[0]!.path };
}

describe('EgressProxy with a real aria2c', () => {
  it('plain HTTP arrives as CONNECT and downloads through the tunnel', async () => {
    files.addFile('/http.bin', patternBytes(0, 3000));
    const r = await download(files.url('/http.bin'));
    expect(r.status).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, 3000));
    expect(dialled).toContain(`127.0.0.1:${files.port}`);
  });

  it('reads a slow server in batches: fewer reads than the server sent slices, every byte relayed', async () => {
    // 16 KiB/s for 5 s, in slices every 50 ms (file-server.ts): about 100 slices.
    const size = 80 * 1024;
    files.addFile('/slow.bin', patternBytes(0, size), { throttle: 16 * 1024 });
    const slices = Math.ceil(size / Math.floor((16 * 1024 * 50) / 1000));
    // Held from its first measured second on (by default only after 10 slow seconds).
    proxy.clock.holdAfterMs = 0;
    reads = 0;
    const r = await download(files.url('/slow.bin'));
    expect(r.status).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, size));
    // The first second is read as it comes (about 20 reads: a tunnel is fast until measured); then
    // one read a second, of what gathered in the kernel meanwhile (about 25 in all; 101 unbatched).
    expect(reads).toBeLessThan(slices * 0.35);
  });

  it('slow tunnels read on one shared clock: many reads per wake-up, every byte relayed', async () => {
    // 10 downloads at 16 KiB/s for 6 s each. Once measured slow, each reads about once a second, and
    // all of them at the ticks of one clock: the reads come a few tunnels per turn of the event loop.
    // With a timer of its own per tunnel, each read would be a wake-up of its own. Long enough that
    // every tunnel still has seconds to go once the last one is past its first 24 KiB (they start
    // apart): at 3 s each, a download could end before the count began and leave fewer than 10 reads.
    const size = 96 * 1024;
    proxy.clock.holdAfterMs = 0;
    const uris = Array.from({ length: 10 }, (_, i) => {
      files.addFile(`/shared${i}.bin`, patternBytes(i * size, (i + 1) * size), { throttle: 16 * 1024 });
      return files.url(`/shared${i}.bin`);
    });
    const gids = await Promise.all(uris.map((u) => aria2.rpc<string>('aria2.addUri', [[u], {}])));
    const progress = () =>
      Promise.all(
        gids.map((g) =>
          aria2.rpc<{ status: string; completedLength: string; files: { path: string }[] }>(
            'aria2.tellStatus',
            [g, ['status', 'completedLength', 'files']],
          ),
        ),
      );
    // Past every tunnel's first (unbatched) second.
    await waitFor(
      async () => (await progress()).every((s) => Number(s.completedLength) >= 24 * 1024) || null,
      20_000,
      'every download past its first 24 KiB',
    );
    reads = 0;
    readTurns = 0;
    readInto = new Map();
    const done = await waitFor(
      async () => {
        const all = await progress();
        return all.every((s) => s.status === 'complete' || s.status === 'error') ? all : null;
      },
      20_000,
      'every download to finish',
    );
    done.forEach((s, i) => {
      expect(s.status).toBe('complete');
      expect(fs.readFileSync(s.files[0]!.path)).toEqual(patternBytes(i * size, (i + 1) * size));
    });
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(readTurns * 4).toBeLessThan(reads);
    // Slow tunnels share one read buffer: a thousand of them do not keep 128 KiB each.
    expect(readInto.size).toBe(1);
  });

  it('a short slow download is read as its bytes come: its last bytes are not held', async () => {
    // The same 16 KiB/s download as above, 5 s long: shorter than a tunnel is slow before it is held.
    const size = 80 * 1024;
    files.addFile('/slow-alone.bin', patternBytes(0, size), { throttle: 16 * 1024 });
    const slices = Math.ceil(size / Math.floor((16 * 1024 * 50) / 1000));
    reads = 0;
    // A name of its own: a new tunnel, not one aria2 keeps from the tests before (their server may
    // close it as aria2 reuses it).
    names.set('alone.test', ['127.0.0.1']);
    const r = await download(`http://alone.test:${files.port}/slow-alone.bin`);
    expect(r.status).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, size));
    // About one read per slice (101); in batches it would be about 25.
    expect(reads).toBeGreaterThan(slices * 0.6);
  });

  it('a slow tunnel is held once it has been slow for a while, and read as its bytes come before', async () => {
    // 16 KiB/s for 7 s, held after 2 slow seconds (the first second is measured, so from about 3 s).
    const size = 112 * 1024;
    files.addFile('/slow-long.bin', patternBytes(0, size), { throttle: 16 * 1024 });
    proxy.clock.holdAfterMs = 2000;
    names.set('long.test', ['127.0.0.1']);
    readTimes = [];
    const r = await download(`http://long.test:${files.port}/slow-long.bin`);
    expect(r.status).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, size));
    const first = readTimes[0]!;
    const within = (from: number, to: number) =>
      readTimes!.filter((t) => t - first >= from && t - first < to).length;
    // Unheld, a read per 50 ms slice: about 20 in the second second, which is measured slow (held
    // from then on, it would be one). Held, about one a second: from 4 s to the end (about 3 s) a
    // handful, where unheld would be about 60.
    expect(within(1000, 2000)).toBeGreaterThan(10);
    expect(within(4000, Number.POSITIVE_INFINITY)).toBeLessThan(10);
  });

  it("a fast download is relayed from buffers of its tunnel's own, reused, not copied per read", async () => {
    const size = 64 * 1024 * 1024;
    files.addFile('/fast.bin', { size });
    readInto = new Map();
    names.set('fast.test', ['127.0.0.1']);
    const r = await download(`http://fast.test:${files.port}/fast.bin`);
    expect(r.status, r.errorMessage).toBe('complete');
    expect(fs.statSync(r.path).size).toBe(size);
    fs.rmSync(r.path);
    const counts = [...readInto.values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(size);
    // A few buffers in all (not one per read), and the shared one (whose reads are copied) only
    // until the tunnel has shown itself fast: its first 128 KiB or so.
    expect(readInto.size).toBeLessThanOrEqual(10);
    const [first] = readInto.keys();
    expect(readInto.get(first!)!).toBeLessThan(size * 0.05);
  });

  it('HTTPS arrives as CONNECT and downloads through the tunnel', async () => {
    const r = await download(`https://127.0.0.1:${tls.port}/tls.bin`);
    expect(r.status, r.errorMessage).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, 5000));
    expect(dialled).toContain(`127.0.0.1:${tls.port}`);
  });

  it('FTP: the control and the passive data connection both arrive as CONNECT', async () => {
    const r = await download(`ftp://127.0.0.1:${ftp.port}/ftp.bin`);
    expect(r.status, `${r.errorMessage}; commands ${ftp.commands.join(' ')}`).toBe('complete');
    expect(fs.readFileSync(r.path)).toEqual(patternBytes(0, 7000));
    expect(dialled[0]).toBe(`127.0.0.1:${ftp.port}`);
    expect(dialled.length).toBeGreaterThanOrEqual(2);
    expect(dialled.slice(1).every((t) => t.startsWith('127.0.0.1:') && t !== `127.0.0.1:${ftp.port}`)).toBe(
      true,
    );
    expect(ftp.dataConnections()).toBeGreaterThanOrEqual(1);
  });

  it('refuses (403) every non-public destination while private networks are off: HTTP, HTTPS, FTP', async () => {
    allowPrivate = false;
    files.addFile('/refused.bin', patternBytes(0, 100));
    const before = ftp.commands.length;
    for (const uri of [
      files.url('/refused.bin'),
      `https://127.0.0.1:${tls.port}/x`,
      `ftp://127.0.0.1:${ftp.port}/x`,
    ]) {
      const r = await download(uri);
      expect(r.status, uri).toBe('error');
    }
    expect(files.requests).toEqual([]);
    expect(ftp.commands.length).toBe(before);
    expect(dialled).toEqual([]);
  });

  it('resolves a name once and dialled to exactly the address it checked', async () => {
    names.set('files.test', ['127.0.0.1']);
    files.addFile('/named.bin', patternBytes(0, 100));
    const r = await download(`http://files.test:${files.port}/named.bin`);
    expect(r.status).toBe('complete');
    expect(resolved).toEqual(['files.test']);
    expect(dialled).toEqual([`127.0.0.1:${files.port}`]);
  });

  it('refuses a name when any of its addresses is not public, whichever comes first', async () => {
    allowPrivate = false;
    names.set('mixed.test', ['93.184.216.34', '127.0.0.1']);
    const r = await download(`http://mixed.test:${files.port}/named.bin`);
    expect(r.status).toBe('error');
    expect(dialled).toEqual([]);
    expect(files.requests).toEqual([]);
  });
});
