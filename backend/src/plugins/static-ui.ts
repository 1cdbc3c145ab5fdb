import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Serves the exported Next.js UI at `/`. A page path without extension maps to its `.html` file
 * (Next's export writes `tasks.html` for `/tasks`); unknown API paths stay JSON 404s.
 */
export async function staticUiPlugin(app: FastifyInstance, opts: { root: string | null }): Promise<void> {
  const root = opts.root;
  const apiNotFound = (reply: FastifyReply) => reply.status(404).send({ detail: 'Not found' });
  if (!root || !fs.existsSync(path.join(root, 'index.html'))) {
    app.setNotFoundHandler((_request, reply) => apiNotFound(reply));
    app.get('/', async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The aria2 controller API is running; the web UI has not been built (npm run build:ui).'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: ['index.html'],
    extensions: ['html'],
    cacheControl: false,
    setHeaders: (reply, filePath) => {
      const immutable = filePath.includes(`${path.sep}_next${path.sep}static${path.sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    if (
      (request.method !== 'GET' && request.method !== 'HEAD') ||
      url.startsWith('/api/') ||
      url.startsWith('/ws/') ||
      path.extname(url)
    ) {
      return apiNotFound(reply);
    }
    const page = path.join(
      root,
      `${path
        .normalize(url)
        .replace(/^(\.\.[/\\])+/, '')
        .replace(/\/+$/, '')}.html`,
    );
    if (page.startsWith(root) && fs.existsSync(page)) return reply.sendFile(path.relative(root, page));
    return reply.status(404).sendFile('404.html');
  });
}
