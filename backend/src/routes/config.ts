import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorBody } from '../contracts/common.js';
import { settings, settingsPatch } from '../contracts/stats.js';
import { requireAdmin } from '../plugins/auth.js';

export const configRoutes: FastifyPluginAsyncZod = async (app) => {
  app.addHook('onRequest', requireAdmin);
  const { settings: service } = app.deps.services;
  const errors = { 401: errorBody, 403: errorBody, 422: errorBody };
  app.get(
    '/',
    { schema: { tags: ['settings'], summary: 'The admin settings', response: { 200: settings, ...errors } } },
    async () => service.get(),
  );
  app.put(
    '/',
    {
      schema: {
        tags: ['settings'],
        summary: 'Change some admin settings; applies at once',
        body: settingsPatch,
        response: { 200: settings, ...errors },
      },
    },
    async (request) => service.update(request.body),
  );
};
