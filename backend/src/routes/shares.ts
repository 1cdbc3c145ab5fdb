import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParams } from '../contracts/common.js';
import { createShareBody, share, sharePasswordBody, shareTokenParams } from '../contracts/shares.js';
import { DomainError, TooManyRequestsError } from '../domain/errors.js';
import { actor } from '../plugins/auth.js';
import { sendDownload } from './download.js';
import { errorResponses } from './errors.js';

const tags = ['shares'];

/** The caller's own links. */
export const shareRoutes: FastifyPluginAsyncZod = async (app) => {
  const { shares } = app.deps.services;
  const config = { access: 'user' } as const;

  app.post(
    '/',
    {
      config,
      schema: {
        tags,
        summary: 'Share a file or folder by a link that works without an account',
        description:
          'Optional password, expiry (ISO 8601, in the future) and download count. `url` is `/s/<token>` (256 bits; the database keeps only its hash).',
        body: createShareBody,
        response: { 201: share, ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => reply.status(201).send(await shares.create(actor(request), request.body)),
  );

  app.get(
    '/',
    {
      config,
      schema: {
        tags,
        summary: "The caller's links (revoked ones are gone; expired and used-up ones stay listed)",
        response: { 200: z.array(share), ...errorResponses(401) },
      },
    },
    async (request) => shares.list(actor(request)),
  );

  app.delete(
    '/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Revoke a link: it answers 410 from now on',
        params: idParams,
        response: { 204: z.undefined(), ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => {
      await shares.revoke(actor(request), request.params.id);
      return reply.status(204).send();
    },
  );
};

export const SHARE_COOKIE = 'aria2_share';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A small self-contained page (no script, inline style only, allowed by the CSP). */
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font:16px system-ui,sans-serif;display:flex;min-height:90vh;align-items:center;justify-content:center;background:#f5f5f5;color:#222}main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;max-width:22rem;width:100%}input,button{font:inherit;width:100%;box-sizing:border-box;padding:.5rem;margin-top:.5rem}button{cursor:pointer}.error{color:#b00020}</style></head><body><main>${body}</main></body></html>`;
}

function passwordPage(action: string, error: string | null): string {
  return page(
    'Password required',
    `<h1>Password required</h1><p>This link is protected by a password.</p>${
      error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''
    }<form method="post" action="${escapeHtml(action)}"><label>Password<input type="password" name="password" autocomplete="current-password" required autofocus></label><button type="submit">Open</button></form>`,
  );
}

/** Browsers asking for a page get one; scripts get `{detail}` like everywhere else. */
const wantsHtml = (request: FastifyRequest) => /\btext\/html\b/.test(request.headers.accept ?? '');
const isForm = (request: FastifyRequest) =>
  (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

function answerError(reply: FastifyReply, err: unknown, html: boolean) {
  if (!(err instanceof DomainError) || !html) throw err;
  if (err instanceof TooManyRequestsError) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply
    .status(err.status)
    .type('text/html; charset=utf-8')
    .send(page(err.detail, `<h1>${escapeHtml(err.detail)}</h1>`));
}

/** `/s/<token>`: public, no session. The file with Range (a folder as zip), behind a password if set. */
export const publicShareRoutes: FastifyPluginAsyncZod = async (app) => {
  const { shares } = app.deps.services;
  const { cookieSecure } = app.deps.config;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.addHook('onRequest', async (_request, reply) => {
    // A link's answers are for whoever holds it: never kept by a shared cache.
    reply.header('cache-control', 'private, no-store');
  });
  const cookieOptions = (request: FastifyRequest, token: string, maxAgeMs: number) => ({
    path: `/s/${token}`,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookieSecure || request.protocol === 'https',
    maxAge: Math.floor(maxAgeMs / 1000),
  });

  app.get(
    '/:token',
    {
      config: { access: 'share' },
      schema: {
        tags,
        summary: 'Open a shared link (public): the file with Range, a folder as zip',
        description:
          'With a password and no access yet: a small HTML page that asks for it. 410 `This link has expired` for an expired, revoked or used-up link; 404 for an unknown one or when its file is gone.',
        security: [],
        params: shareTokenParams,
        produces: ['application/octet-stream', 'application/zip', 'text/html'],
        response: errorResponses(404, 410, 416),
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      try {
        const row = await shares.find(token);
        if (!shares.hasAccess(row, request.cookies[SHARE_COOKIE])) {
          return (reply as FastifyReply)
            .status(200)
            .type('text/html; charset=utf-8')
            .send(passwordPage(`/s/${token}`, null));
        }
        // A download is counted once per whole fetch: a HEAD or a resumed range does not use one up.
        const range = request.headers.range;
        const count = request.method === 'GET' && (!range || /^bytes=0-/.test(range.trim()));
        return await sendDownload(request, reply, await shares.open(row, count), 'private, no-store');
      } catch (err) {
        return answerError(reply, err, wantsHtml(request));
      }
    },
  );

  app.post(
    '/:token',
    {
      config: { access: 'share' },
      schema: {
        tags,
        summary: "Give a link's password (JSON or a form); grants this browser access for an hour",
        description:
          'JSON: 204 with a cookie scoped to the link. A form: 303 back to the link. Wrong: 403 `Wrong password`; repeated failures 429 like sign-in.',
        security: [],
        params: shareTokenParams,
        consumes: ['application/json', 'application/x-www-form-urlencoded'],
        body: sharePasswordBody,
        response: { 204: z.undefined(), ...errorResponses(403, 404, 410, 422, 429) },
      },
    },
    async (request, reply) => {
      const { token } = request.params;
      const form = isForm(request);
      try {
        const row = await shares.find(token);
        const access = await shares.unlock(row, request.body.password, request.ip);
        reply.setCookie(SHARE_COOKIE, access.value, cookieOptions(request, token, access.maxAgeMs));
        if (form) return reply.redirect(`/s/${token}`, 303);
        return reply.status(204).send();
      } catch (err) {
        if (form && err instanceof DomainError && err.status === 403) {
          return (reply as FastifyReply)
            .status(403)
            .type('text/html; charset=utf-8')
            .send(passwordPage(`/s/${token}`, err.detail));
        }
        return answerError(reply, err, form || wantsHtml(request));
      }
    },
  );
};
