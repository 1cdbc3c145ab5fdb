import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

/** The OpenAPI document, generated from the routes' zod schemas, at /api/openapi.json. */
export const openApiPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'aria2 controller API',
          description: 'A multi-user web controller for the aria2 download daemon.',
          version: '1.0.0',
        },
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'aria2_session' },
            token: { type: 'http', scheme: 'bearer', description: 'An API token (`/api/tokens`)' },
          },
        },
        // Either one: a session cookie, or an API token where the route takes one.
        security: [{ session: [] }, { token: [] }],
      },
      transform: jsonSchemaTransform,
    });
    app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
      app.swagger(),
    );
  },
  { name: 'openapi' },
);
