import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { machineStats, stats } from '../contracts/stats.js';
import { actor } from '../plugins/auth.js';
import { errorResponses } from './errors.js';

export const statsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { stats: service } = app.deps.services;
  app.get(
    '/',
    {
      config: { access: 'user' },
      schema: {
        tags: ['stats'],
        summary: "The caller's space and speeds",
        response: { 200: stats, ...errorResponses(401) },
      },
    },
    async (request) => service.forUser(actor(request).id),
  );
  app.get(
    '/machine',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['stats'],
        summary: 'Disk and aria2 state (admin)',
        response: { 200: machineStats, ...errorResponses(401, 403) },
      },
    },
    async () => service.machine(),
  );
};
