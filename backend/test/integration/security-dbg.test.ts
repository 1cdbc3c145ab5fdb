import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestController } from '../helpers/controller.js';

it('dbg', async () => {
  const c = await startTestController({});
  await c.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = c.app.server.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}/ws/tasks`;
  const which = process.env.WHICH;
  const r = await new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { origin: which === 'evil' ? 'https://evil.example' : `http://127.0.0.1:${port}` } });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode); ws.terminate(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('close', (code) => console.log('close', code));
    ws.on('error', (err) => resolve(String(err)));
  });
  console.log('result', r);
  const t = Date.now();
  await c.destroy();
  console.log('destroy took', Date.now() - t);
  expect(1).toBe(1);
});
