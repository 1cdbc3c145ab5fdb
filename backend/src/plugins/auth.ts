import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, NotAuthenticatedError } from '../domain/errors.js';
import type { Actor } from '../services/context.js';

export const SESSION_COOKIE = 'aria2_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, set by requireUser; null before it or without a session. */
    user: Actor | null;
  }
}

/** Resolves the session cookie to its user (sliding the expiry) or throws 401. Use as a scope's onRequest hook. */
export async function requireUser(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const sessionId = request.cookies[SESSION_COOKIE];
  const user = sessionId ? await request.server.deps.services.auth.authenticate(sessionId) : null;
  if (!user) throw new NotAuthenticatedError();
  request.user = user;
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

export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest('user', null);
  },
  { name: 'auth' },
);
