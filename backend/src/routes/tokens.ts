import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idParams } from '../contracts/common.js';
import { apiToken, createdApiToken, createTokenBody } from '../contracts/tokens.js';
import { actor } from '../plugins/auth.js';
import { errorResponses } from './errors.js';

const tags = ['tokens'];
/** In the OpenAPI document: these take the session cookie, not a token. */
const security = [{ session: [] }];

/** The caller's API tokens. Managed with a session only: a token cannot mint or revoke tokens. */
export const tokenRoutes: FastifyPluginAsyncZod = async (app) => {
  const { tokens } = app.deps.services;
  const config = { access: 'session' } as const;

  app.get(
    '/',
    {
      config,
      schema: {
        tags,
        security,
        summary: "The caller's API tokens, newest first (never their secrets)",
        response: { 200: z.array(apiToken), ...errorResponses(401) },
      },
    },
    async (request) => tokens.list(actor(request)),
  );

  app.post(
    '/',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Create an API token; its secret is in this answer only',
        description:
          'Use it as `Authorization: Bearer <token>` on the API, or as the secret of an aria2 client on `/jsonrpc`. Only its hash is kept. At most 100 per user (409).',
        body: createTokenBody,
        response: { 201: createdApiToken, ...errorResponses(401, 409, 422) },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.create(actor(request), request.body.name)),
  );

  app.delete(
    '/:id',
    {
      config,
      schema: {
        tags,
        security,
        summary: 'Revoke an API token: its next request is 401 and its sockets close',
        params: idParams,
        response: { 204: z.undefined(), ...errorResponses(401, 404, 422) },
      },
    },
    async (request, reply) => {
      await tokens.revoke(actor(request), request.params.id);
      return reply.status(204).send();
    },
  );
};
