import type { FastifyInstance } from 'fastify';
import { hashSessionId } from '../domain/passwords.js';
import { bearerToken, SESSION_COOKIE } from '../plugins/auth.js';
import type { Actor } from '../services/context.js';
import { limitClientMessages, type SocketAuth } from './hub.js';

export const MAX_SOCKETS_PER_USER = 100;

/**
 * `/ws/tasks`: authenticated by an `Authorization: Bearer` API token (scripts) or else the session
 * cookie; without either, or with a wrong one, the socket closes with 4401.
 */
export async function socketRoutes(app: FastifyInstance): Promise<void> {
  const { hub } = app.deps;
  const { auth, tokens } = app.deps.services;
  const authenticate = async (
    secret: string | undefined,
    sessionId: string | undefined,
  ): Promise<{ user: Actor; with: SocketAuth } | null> => {
    if (secret !== undefined) {
      const found = secret ? await tokens.authenticate(secret) : null;
      return found && { user: found.actor, with: { tokenId: found.tokenId } };
    }
    const user = sessionId ? await auth.authenticate(sessionId) : null;
    return user && { user, with: { sessionIdHash: hashSessionId(sessionId!) } };
  };
  app.get(
    '/ws/tasks',
    { websocket: true, config: { access: 'socket' }, schema: { hide: true } },
    async (socket, request) => {
      limitClientMessages(socket);
      const found = await authenticate(bearerToken(request), request.cookies[SESSION_COOKIE]).catch(
        () => null,
      );
      if (!found) {
        socket.close(4401, 'Not authenticated');
        return;
      }
      // Closed while it was being authenticated: its close is past, so the hub would never drop it.
      if (socket.readyState !== socket.OPEN) return;
      // One user cannot hold the server's sockets: past the cap, new sockets are refused.
      const { user } = found;
      if (hub.count(user.id) >= MAX_SOCKETS_PER_USER) {
        socket.close(1008, 'Too many live connections');
        return;
      }
      hub.add(user.id, socket, found.with, request.raw.socket);
      // A token revoked while it was being checked was revoked before the hub knew this socket, so its
      // revocation closed nothing: it is looked up once more now that the hub would hear one.
      if ('tokenId' in found.with) {
        const still = await tokens.authenticate(bearerToken(request) ?? '').catch(() => null);
        if (still?.tokenId !== found.with.tokenId) socket.close(4401, 'Not authenticated');
      }
    },
  );
}
