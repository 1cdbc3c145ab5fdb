import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { health } from '../contracts/stats.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness and aria2 connection (public)',
        response: { 200: health },
      },
    },
    async () => {
      const state = app.deps.aria2.state;
      return { status: state.connected ? ('ok' as const) : ('degraded' as const), aria2: state };
    },
  );
};
