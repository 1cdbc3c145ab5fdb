import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { health } from '../contracts/stats.js';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  const { aria2 } = app.deps;
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
    async () => {
      const state = aria2.state;
      return { status: state.connected ? ('ok' as const) : ('degraded' as const), aria2: state };
    },
  );
};
