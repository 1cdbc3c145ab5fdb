import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError } from '../domain/errors.js';
import { bearerToken, SESSION_COOKIE } from './auth.js';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** A Host header we are willing to echo into the CSP (no spaces, semicolons or quotes). */
const SAFE_HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The UI is a Next.js static export from this origin; nothing is loaded from anywhere else. Scripts run
 * only from this origin: a page's own inline bootstrap scripts are allowed by their SHA-256 (see
 * `static-ui.ts`), never by 'unsafe-inline'. Styles keep 'unsafe-inline' (Next writes style attributes).
 */
const CSP_BASE = [
  "default-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
];

/**
 * The policy for a host; `scriptHashes` are base64 SHA-256 digests of the inline scripts the answer
 * carries (an HTML page of the UI). connect-src 'self' covers ws(s) of this host in current browsers;
 * the explicit entries help older ones.
 */
export function contentSecurityPolicy(host: string, scriptHashes: readonly string[] = []): string {
  const script = ["script-src 'self'", ...scriptHashes.map((h) => `'sha256-${h}'`)].join(' ');
  const connect = SAFE_HOST.test(host)
    ? `connect-src 'self' ws://${host} wss://${host}`
    : "connect-src 'self'";
  return [...CSP_BASE, script, connect].join('; ');
}

/** scheme://host[:port] in URL's normal form (default ports dropped, lower case), or null. */
function normalizeOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** The cookie is Secure over HTTPS (request.protocol honours X-Forwarded-Proto with TRUST_PROXY) or when configured. */
function cookieOptions(request: FastifyRequest) {
  const { config } = request.server.deps;
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: config.cookieSecure || request.protocol === 'https',
    maxAge: Math.floor(config.sessionTtlMs / 1000),
  };
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string): void {
  reply.setCookie(SESSION_COOKIE, sessionId, cookieOptions(request));
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const { maxAge: _maxAge, ...options } = cookieOptions(request);
  reply.clearCookie(SESSION_COOKIE, options);
}

function setsSessionCookie(reply: FastifyReply): boolean {
  const header = reply.getHeader('set-cookie');
  const values = Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
  return values.some((v) => v.startsWith(`${SESSION_COOKIE}=`));
}

/**
 * CSRF defence and response headers:
 * - an unsafe method, or a WebSocket upgrade, that carries an Origin must come from this controller's
 *   own origin or one of ALLOWED_ORIGINS (403 otherwise); requests without Origin (scripts) pass, and
 *   so do those that carry an API token and no session cookie (a browser extension's): nothing a
 *   browser sends on its own authenticates them, so a foreign page cannot forge one;
 * - security headers on every response;
 * - the session cookie's Max-Age slides with the session on every authenticated response.
 */
export const securityPlugin = fp(
  async (app: FastifyInstance) => {
    const allowed = new Set(
      app.deps.config.allowedOrigins.map(normalizeOrigin).filter((o): o is string => o !== null),
    );

    app.addHook('onRequest', async (request, reply) => {
      reply.header('content-security-policy', contentSecurityPolicy(request.host));
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('cross-origin-resource-policy', 'same-origin');
      reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
      if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=15552000');
      // Per-user answers must not be kept by shared caches; a route may still choose its own policy.
      if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');

      const origin = request.headers.origin;
      if (origin === undefined) return;
      // The RPC takes no cookie (each call carries its token): aria2 clients on other origins may call it.
      if (request.routeOptions.config.access === 'rpc') return;
      const isUpgrade = request.method === 'GET' && request.headers.upgrade?.toLowerCase() === 'websocket';
      if (!UNSAFE_METHODS.has(request.method) && !isUpgrade) return;
      if (bearerToken(request) && request.cookies[SESSION_COOKIE] === undefined) return;
      const given = normalizeOrigin(origin);
      const own = normalizeOrigin(`${request.protocol}://${request.host}`);
      if (given !== null && (given === own || allowed.has(given))) return;
      request.log.warn(
        { origin, method: request.method, url: request.url },
        'request from a foreign origin refused',
      );
      if (isUpgrade) {
        // Refused before @fastify/websocket's own hook marks the request, so its cleanup will not run:
        // close the upgrade socket once the 403 is written, or it stays open and blocks shutdown.
        reply.raw.once('finish', () => request.raw.socket?.destroy());
      }
      throw new ForbiddenError('Origin not allowed');
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const sessionId = request.cookies?.[SESSION_COOKIE];
      if (
        request.user &&
        request.tokenId === null &&
        sessionId &&
        reply.statusCode < 400 &&
        !setsSessionCookie(reply)
      ) {
        setSessionCookie(request, reply, sessionId);
      }
      return payload;
    });
  },
  { name: 'security', dependencies: ['@fastify/cookie'] },
);
