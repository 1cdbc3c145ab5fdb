import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, NotAuthenticatedError } from '../domain/errors.js';
import type { Actor } from '../services/context.js';

export const SESSION_COOKIE = 'aria2_session';

/**
 * Who may call a route, declared in its own options (`config: { access }`): anyone (`public`), a
 * share link's holder (`share`: no session, the link's token decides), a user by session or API
 * token (`user`), an admin likewise, a user by session only (`session`: managing API tokens, so a
 * token cannot mint or revoke tokens), the task socket (it authenticates itself on upgrade), or the
 * aria2-compatible RPC (`rpc`: no session, the API token given as the secret of each call decides).
 */
export type Access = 'public' | 'share' | 'user' | 'admin' | 'session' | 'socket' | 'rpc';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, set by requireUser; null before it or without a session. */
    user: Actor | null;
    /** The API token the user was authenticated by; null for a session (or no user). */
    tokenId: number | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/**
 * The secret of an `Authorization: Bearer <token>` header ('' for a malformed one); undefined without
 * a Bearer header (another scheme, e.g. a reverse proxy's Basic, is not ours to judge).
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || !/^Bearer(\s|$)/i.test(header)) return undefined;
  return /^Bearer +([\x21-\x7e]+) *$/i.exec(header)?.[1] ?? '';
}

/** Resolves the session cookie to its user (sliding the expiry) or throws 401. */
export async function requireSession(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const sessionId = request.cookies[SESSION_COOKIE];
  const user = sessionId ? await request.server.deps.services.auth.authenticate(sessionId) : null;
  if (!user) throw new NotAuthenticatedError();
  request.user = user;
}

/**
 * An API token when the request carries one (a wrong or revoked one is 401 whatever cookie comes
 * with it), the session cookie otherwise.
 */
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const secret = bearerToken(request);
  if (secret === undefined) return requireSession(request, reply);
  const found = secret ? await request.server.deps.services.tokens.authenticate(secret) : null;
  if (!found) throw new NotAuthenticatedError();
  request.user = found.actor;
  request.tokenId = found.tokenId;
}

/** requireUser, then 403 unless an admin. */
export async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await requireUser(request, reply);
  if (!request.user?.is_admin) throw new ForbiddenError('Admin required');
}

/** The acting user inside a route guarded by requireUser. */
export function actor(request: FastifyRequest): Actor {
  if (!request.user) throw new NotAuthenticatedError();
  return request.user;
}

/** Each request is checked against its route's declared access before anything else of it runs. */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('user', null);
    app.decorateRequest('tokenId', null);
    app.addHook('onRequest', async (request, reply) => {
      const access = request.routeOptions.config.access;
      if (access === 'user') await requireUser(request, reply);
      else if (access === 'admin') await requireAdmin(request, reply);
      else if (access === 'session') await requireSession(request, reply);
    });
  },
  { name: 'auth' },
);
