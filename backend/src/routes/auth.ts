import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody } from '../contracts/common.js';
import { changePasswordBody, loginBody, user } from '../contracts/users.js';
import { actor, requireUser, SESSION_COOKIE } from '../plugins/auth.js';
import { clearSessionCookie, setSessionCookie } from '../plugins/security.js';

const tags = ['auth'];

/** Sign-in is public; everything else here needs a session (a hook on the inner scope, not a URL check). */
export const authRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/login',
    {
      schema: {
        tags,
        summary: 'Sign in; sets the aria2_session cookie',
        security: [],
        body: loginBody,
        response: { 200: user, 401: errorBody, 422: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user: signedIn, sessionId } = await app.deps.services.auth.login(
        username,
        password,
        request.ip,
      );
      // Any session the browser held before is replaced; the old one ends instead of lingering.
      const previous = request.cookies[SESSION_COOKIE];
      if (previous) await app.deps.services.auth.logout(previous);
      setSessionCookie(request, reply, sessionId);
      return signedIn;
    },
  );

  const sessionScope: FastifyPluginAsyncZod = async (scope) => {
    scope.addHook('onRequest', requireUser);

    scope.post(
      '/logout',
      {
        schema: {
          tags,
          summary: 'Sign out: ends this session and clears the cookie',
          response: { 204: z.undefined(), 401: errorBody },
        },
      },
      async (request, reply) => {
        const sessionId = request.cookies[SESSION_COOKIE];
        if (sessionId) await app.deps.services.auth.logout(sessionId);
        clearSessionCookie(request, reply);
        return reply.status(204).send();
      },
    );

    scope.get(
      '/me',
      { schema: { tags, summary: 'The signed-in user', response: { 200: user, 401: errorBody } } },
      async (request) => app.deps.services.users.get(actor(request).id),
    );

    scope.post(
      '/change-password',
      {
        schema: {
          tags,
          summary: "Change one's own password; ends the user's other sessions",
          description: 'A wrong current password is 403; repeated failures are 429 like failed sign-ins.',
          body: changePasswordBody,
          response: { 204: z.undefined(), 401: errorBody, 403: errorBody, 422: errorBody, 429: errorBody },
        },
      },
      async (request, reply) => {
        const { current_password, new_password } = request.body;
        const sessionId = request.cookies[SESSION_COOKIE] ?? '';
        await app.deps.services.auth.changePassword(
          actor(request),
          current_password,
          new_password,
          sessionId,
        );
        return reply.status(204).send();
      },
    );
  };
  await app.register(sessionScope);
};
