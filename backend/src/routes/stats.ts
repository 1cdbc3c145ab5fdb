import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBody } from '../contracts/common.js';
import { machineStats, stats } from '../contracts/stats.js';
import { actor, requireAdmin, requireUser } from '../plugins/auth.js';

export const statsRoutes: FastifyPluginAsyncZod = async (app) => {
  const { stats: service } = app.deps.services;
  app.get(
    '/',
    {
      onRequest: requireUser,
      schema: {
        tags: ['stats'],
        summary: "The caller's space and speeds",
        response: { 200: stats, 401: errorBody },
      },
    },
    async (request) => service.forUser(actor(request).id),
  );
  app.get(
    '/machine',
    {
      onRequest: requireAdmin,
      schema: {
        tags: ['stats'],
        summary: 'Disk and aria2 state (admin)',
        response: { 200: machineStats, 401: errorBody, 403: errorBody },
      },
    },
    async () => service.machine(),
  );
};
