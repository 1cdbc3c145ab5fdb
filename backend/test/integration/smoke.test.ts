import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestController, type TestController, waitFor } from '../helpers/controller.js';
import { type FileServer, startFileServer } from '../helpers/file-server.js';

let c: TestController;
let server: FileServer;
beforeAll(async () => {
  c = await startTestController();
  server = await startFileServer();
});
afterAll(async () => {
  await server?.close();
  await c?.destroy();
});

it('downloads a file end to end', async () => {
  const data = Buffer.alloc(200_000, 7);
  server.addFile('/a.bin', data);
  const cookie = await c.adminCookie();
  const res = await c.app.inject({ method: 'POST', url: '/api/tasks', headers: { cookie }, payload: { uri: server.url('/a.bin') } });
  expect(res.statusCode, res.body).toBe(201);
  const id = res.json().id;
  const done = await waitFor(async () => {
    const t = (await c.app.inject({ method: 'GET', url: `/api/tasks/${id}`, headers: { cookie } })).json();
    if (t.status !== "complete") console.log(JSON.stringify(t));
    return t.status === "complete" ? t : null;
  });
  expect(done.artifact_path).toBe('a.bin');
  const file = await c.app.inject({ method: 'GET', url: `/api/tasks/artifacts/${done.artifact_token}`, headers: { cookie } });
  expect(file.statusCode).toBe(200);
  expect(file.rawPayload.equals(data)).toBe(true);
});
