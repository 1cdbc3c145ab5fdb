/**
 * A tiny HTTP BitTorrent tracker on loopback for tests: every announce is answered with the peers it
 * was given (compact form, BEP 23), whatever the info hash, so a magnet's metadata and data come from a
 * local seeder without DHT or any outside address.
 *
 *   const tracker = await startTestTracker([{ ip: '127.0.0.1', port: seederPort }]);
 *   const magnet = `magnet:?xt=urn:btih:${infoHash}&tr=${encodeURIComponent(tracker.announceUrl)}`;
 *   tracker.announces                                   // how many announces it answered
 *   await tracker.close();
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encode } from '../../src/domain/bencode.js';

export interface TestTracker {
  /** `http://127.0.0.1:<port>/announce` */
  readonly announceUrl: string;
  /** Announces answered so far. */
  readonly announces: number;
  close(): Promise<void>;
}

export async function startTestTracker(peers: readonly { ip: string; port: number }[]): Promise<TestTracker> {
  const compact = Buffer.concat(
    peers.map(({ ip, port }) => {
      const b = Buffer.alloc(6);
      for (const [i, part] of ip.split('.').entries()) b.writeUInt8(Number(part), i);
      b.writeUInt16BE(port, 4);
      return b;
    }),
  );
  let announces = 0;
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/announce')) {
      res.writeHead(404).end();
      return;
    }
    announces++;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      encode({ interval: 5, 'min interval': 1, complete: peers.length, incomplete: 0, peers: compact }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    announceUrl: `http://127.0.0.1:${port}/announce`,
    get announces() {
      return announces;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
