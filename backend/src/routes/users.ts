import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorBody, idParams } from '../contracts/common.js';
import { createUserBody, deleteUserQuery, updateUserBody, user } from '../contracts/users.js';
import { actor, requireAdmin, SESSION_COOKIE } from '../plugins/auth.js';

const tags = ['users'];
const guarded = { 401: errorBody, 403: errorBody };

/** Account management; every route of this scope is admin-only (an onRequest hook, not a URL check). */
export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook('onRequest', requireAdmin);
  const users = () => app.deps.services.users;

  app.get(
    '/',
    { schema: { tags, summary: 'All users (admin)', response: { 200: z.array(user), ...guarded } } },
    async () => users().list(),
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a user (admin); quota defaults to the default_quota setting',
        body: createUserBody,
        response: { 201: user, ...guarded, 409: errorBody, 422: errorBody },
      },
    },
    async (request, reply) => reply.status(201).send(await users().create(request.body)),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'One user (admin)',
        params: idParams,
        response: { 200: user, ...guarded, 404: errorBody, 422: errorBody },
      },
    },
    async (request) => users().get(request.params.id),
  );

  app.put(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change a user (admin): only the given fields; a new password ends their sessions',
        description: 'An admin cannot remove their own admin flag (409).',
        params: idParams,
        body: updateUserBody,
        response: { 200: user, ...guarded, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (request) =>
      users().update(actor(request), request.params.id, request.body, request.cookies[SESSION_COOKIE]),
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags,
        summary:
          'Delete a user (admin): stops and forgets their downloads; delete_files=true also removes their folder',
        description: 'An admin cannot delete themself (409).',
        params: idParams,
        querystring: deleteUserQuery,
        response: { 204: z.undefined(), ...guarded, 404: errorBody, 409: errorBody, 422: errorBody },
      },
    },
    async (request, reply) => {
      await users().delete(actor(request), request.params.id, request.query.delete_files === 'true');
      return reply.status(204).send();
    },
  );
};
