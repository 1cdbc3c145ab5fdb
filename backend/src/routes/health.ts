import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { health } from '../contracts/stats.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const { stats } = app.deps.services;
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness and aria2 connection (public)',
        response: { 200: health },
      },
    },
    async () => stats.health(),
  );
};
