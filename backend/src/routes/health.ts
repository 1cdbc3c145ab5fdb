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
      const { aria2 } = app.deps;
      return {
        status: aria2.connected ? ('ok' as const) : ('degraded' as const),
        aria2: { connected: aria2.connected, version: aria2.version },
      };
    },
  );
};
