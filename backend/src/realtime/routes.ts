import type { FastifyInstance } from 'fastify';
import { hashSessionId } from '../domain/passwords.js';
import { SESSION_COOKIE } from '../plugins/auth.js';

export const MAX_SOCKETS_PER_USER = 100;

/** `/ws/tasks`: authenticated by the session cookie; without one the socket closes with 4401. */
export async function socketRoutes(app: FastifyInstance): Promise<void> {
  const { hub } = app.deps;
  const { auth } = app.deps.services;
  app.get(
    '/ws/tasks',
    { websocket: true, config: { access: 'socket' }, schema: { hide: true } },
    async (socket, request) => {
      const sessionId = request.cookies[SESSION_COOKIE];
      const user = sessionId ? await auth.authenticate(sessionId).catch(() => null) : null;
      if (!user) {
        socket.close(4401, 'Not authenticated');
        return;
      }
      // One user cannot hold the server's sockets: past the cap, new sockets are refused.
      if (hub.count(user.id) >= MAX_SOCKETS_PER_USER) {
        socket.close(1008, 'Too many live connections');
        return;
      }
      hub.add(user.id, socket, hashSessionId(sessionId!));
    },
  );
}
