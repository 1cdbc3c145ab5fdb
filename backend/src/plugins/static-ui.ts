import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { contentSecurityPolicy } from './security.js';

/** Inline scripts of an HTML page: a `<script>` without `src`, with a body (its text is raw, not escaped). */
const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc\s*=)[^>]*>([\s\S]*?)<\/script\s*>/gi;

/** Base64 SHA-256 of each inline script of a page, as a Content-Security-Policy hash source. */
export function inlineScriptHashes(html: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(INLINE_SCRIPT)) {
    if (m[1]) out.add(createHash('sha256').update(m[1], 'utf8').digest('base64'));
  }
  return [...out];
}

/** Hashes per built page, read once per file version (its mtime and size). */
function pageHashes(): (file: string, stat: fs.Stats) => string[] {
  const cache = new Map<string, { version: string; hashes: string[] }>();
  return (file, stat) => {
    const version = `${stat.mtimeMs}:${stat.size}`;
    const hit = cache.get(file);
    if (hit?.version === version) return hit.hashes;
    const hashes = inlineScriptHashes(fs.readFileSync(file, 'utf8'));
    cache.set(file, { version, hashes });
    return hashes;
  };
}

/**
 * Serves the exported Next.js UI at `/`. A page path without extension maps to its `.html` file
 * (Next's export writes `tasks.html` for `/tasks`); unknown API paths stay JSON 404s.
 */
export async function staticUiPlugin(app: FastifyInstance, opts: { root: string | null }): Promise<void> {
  const root = opts.root;
  const apiNotFound = (reply: FastifyReply) => reply.status(404).send({ detail: 'Not found' });
  if (!root || !fs.existsSync(path.join(root, 'index.html'))) {
    app.setNotFoundHandler((_request, reply) => apiNotFound(reply));
    app.get('/', { config: { access: 'public' } }, async (_req, reply) =>
      reply
        .type('text/plain; charset=utf-8')
        .send('The aria2 controller API is running; the web UI has not been built (npm run build:ui).'),
    );
    return;
  }
  const hashesOf = pageHashes();
  // The built UI's files are public; @fastify/static takes no route config, so it is set here.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: 'public' };
  });
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: ['index.html'],
    extensions: ['html'],
    cacheControl: false,
    setHeaders: (reply, filePath, stat) => {
      // Each page allows exactly its own inline scripts; nothing else inline runs.
      if (filePath.endsWith('.html')) {
        reply.header(
          'content-security-policy',
          contentSecurityPolicy(reply.request.host, hashesOf(filePath, stat)),
        );
      }
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
