import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParams } from '../contracts/common.js';
import { createUserBody, deleteUserQuery, updateUserBody, user } from '../contracts/users.js';
import { actor, SESSION_COOKIE } from '../plugins/auth.js';
import { errorResponses } from './errors.js';

const tags = ['users'];
const config = { access: 'admin' } as const;

/** Account management; every route here is admin-only (each declares it). */
export const userRoutes: FastifyPluginAsyncZod = async (app) => {
  const { users } = app.deps.services;

  app.get(
    '/',
    {
      config,
      schema: {
        tags,
        summary: 'All users (admin)',
        response: { 200: z.array(user), ...errorResponses(401, 403) },
      },
    },
    async () => users.list(),
  );

  app.post(
    '/',
    {
      config,
      schema: {
        tags,
        summary:
          'Create a user (admin); quota defaults to the default_quota setting, node to the node with the most free space',
        body: createUserBody,
        response: { 201: user, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => reply.status(201).send(await users.create(request.body)),
  );

  app.get(
    '/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One user (admin)',
        params: idParams,
        response: { 200: user, ...errorResponses(401, 403, 404, 422) },
      },
    },
    async (request) => users.get(request.params.id),
  );

  app.put(
    '/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Change a user (admin): only the given fields; a new password ends their sessions',
        description: 'An admin cannot remove their own admin flag (409).',
        params: idParams,
        body: updateUserBody,
        response: { 200: user, ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request) =>
      users.update(actor(request), request.params.id, request.body, request.cookies[SESSION_COOKIE]),
  );

  app.delete(
    '/:id',
    {
      config,
      schema: {
        tags,
        summary:
          'Delete a user (admin): stops and forgets their downloads; delete_files=true also removes their folder',
        description: 'An admin cannot delete themself (409).',
        params: idParams,
        querystring: deleteUserQuery,
        response: { 204: z.undefined(), ...errorResponses(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      await users.delete(actor(request), request.params.id, request.query.delete_files === 'true');
      return reply.status(204).send();
    },
  );
};
