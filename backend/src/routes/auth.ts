import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { changePasswordBody, loginBody, user } from '../contracts/users.js';
import { actor, SESSION_COOKIE } from '../plugins/auth.js';
import { clearSessionCookie, setSessionCookie } from '../plugins/security.js';
import { errorResponses } from './errors.js';

const tags = ['auth'];

/** Sign-in is public; everything else here needs a session (each route's declared access). */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  const { auth, users } = app.deps.services;

  app.post(
    '/login',
    {
      config: { access: 'public' },
      schema: {
        tags,
        summary: 'Sign in; sets the aria2_session cookie',
        security: [],
        body: loginBody,
        response: { 200: user, ...errorResponses(401, 422, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user: signedIn, sessionId } = await auth.login(username, password, request.ip);
      // Any session the browser held before is replaced; the old one ends instead of lingering.
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await auth.logout(previous);
      setSessionCookie(request, reply, sessionId);
      return signedIn;
    },
  );

  app.post(
    '/logout',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: 'Sign out: ends this session and clears the cookie',
        response: { 204: z.undefined(), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      const sessionId = request.cookies[SESSION_COOKIE];
      if (sessionId) await auth.logout(sessionId);
      clearSessionCookie(request, reply);
      return reply.status(204).send();
    },
  );

  app.get(
    '/me',
    {
      config: { access: 'user' },
      schema: { tags, summary: 'The signed-in user', response: { 200: user, ...errorResponses(401) } },
    },
    async (request) => users.get(actor(request).id),
  );

  app.post(
    '/change-password',
    {
      config: { access: 'user' },
      schema: {
        tags,
        summary: "Change one's own password; ends the user's other sessions",
        description: 'A wrong current password is 403; repeated failures are 429 like failed sign-ins.',
        body: changePasswordBody,
        response: { 204: z.undefined(), ...errorResponses(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      const { current_password, new_password } = request.body;
      const sessionId = request.cookies[SESSION_COOKIE] ?? '';
      await auth.changePassword(actor(request), current_password, new_password, sessionId);
      return reply.status(204).send();
    },
  );
};
