import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { settings, settingsPatch } from '../contracts/stats.js';
import { errorResponses } from './errors.js';

/** The admin settings; admin-only. */
export const configRoutes: FastifyPluginAsyncZod = async (app) => {
  const { settings: service } = app.deps.services;
  const config = { access: 'admin' } as const;
  app.get(
    '/',
    {
      config,
      schema: {
        tags: ['settings'],
        summary: 'The admin settings',
        response: { 200: settings, ...errorResponses(401, 403) },
      },
    },
    async () => ({ ...service.get(), pinned: service.pinned() }),
  );
  app.put(
    '/',
    {
      config,
      schema: {
        tags: ['settings'],
        summary: 'Change some admin settings; applies at once',
        body: settingsPatch,
        response: { 200: settings, ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => ({ ...(await service.update(request.body)), pinned: service.pinned() }),
  );
};
