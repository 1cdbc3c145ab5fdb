import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Download } from '../services/files.js';

/** RFC 6266 Content-Disposition: an ASCII fallback and the UTF-8 name. */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** One `bytes=` range of a file of `size` bytes; null to serve it whole; 'unsatisfiable' for a 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: RFC 9110 lets a server ignore Range and send the whole file.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends a download: a file read from its open handle (Range, ETag, Last-Modified, If-None-Match,
 * If-Range), or a zip stream. `cache` is the Cache-Control of the answer.
 */
export async function sendDownload(
  request: FastifyRequest,
  reply: FastifyReply,
  download: Download,
  cache = 'private, no-cache',
): Promise<FastifyReply> {
  reply.header('content-disposition', contentDisposition(download.name));
  reply.header('cache-control', cache);
  if (download.kind === 'zip') {
    reply.header('content-type', 'application/zip');
    if (request.method === 'HEAD') {
      download.stream.destroy();
      return reply.send();
    }
    return reply.send(download.stream);
  }
  const { handle, stat } = download.file;
  const size = stat.size;
  const etag = `W/"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const lastModified = stat.mtime.toUTCString();
  reply.header('accept-ranges', 'bytes');
  reply.header('etag', etag);
  reply.header('last-modified', lastModified);

  const close = () => handle.close().catch(() => undefined);
  const noneMatch = request.headers['if-none-match'];
  if (noneMatch?.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    await close();
    return reply.status(304).send();
  }
  const ifRange = request.headers['if-range'];
  const rangeAllowed = !ifRange || ifRange === etag || ifRange === lastModified;
  const range = rangeAllowed ? parseRange(request.headers.range, size) : null;
  if (range === 'unsatisfiable') {
    await close();
    reply.header('content-range', `bytes */${size}`);
    return reply.status(416).send({ detail: 'Range not satisfiable' });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  if (range) {
    reply.status(206);
    reply.header('content-range', `bytes ${start}-${end}/${size}`);
  }
  reply.header('content-type', 'application/octet-stream');
  reply.header('content-length', String(Math.max(0, end - start + 1)));
  if (request.method === 'HEAD' || size === 0) {
    await close();
    return reply.send();
  }
  return reply.send(handle.createReadStream({ start, end }));
}
