import type { FastifyInstance, FastifySchema, HTTPMethods, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Access } from './auth.js';

/** One route as it declared itself: who may call it and the schemas of what it takes. */
export interface RouteEntry {
  method: HTTPMethods;
  /** The full path, without a trailing slash (`/api/tasks`, `/api/tasks/:id`). */
  url: string;
  access: Access;
  schema: Pick<FastifySchema, 'body' | 'params' | 'querystring'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route served (HEAD twins left out), from the routes' own options; filled once ready. */
    routeTable: RouteEntry[];
  }
}

/**
 * Collects the routes as they are added. A route that declares no access fails the start: nobody can
 * add one and forget to say who may call it.
 */
export const routeTablePlugin = fp(
  async (app: FastifyInstance) => {
    const seen: { route: RouteOptions; url: string }[] = [];
    const table: RouteEntry[] = [];
    app.decorate('routeTable', table);
    app.addHook('onRoute', (route) => {
      seen.push({ route, url: route.url });
    });
    // Read when ready, not in onRoute: a scope's own onRoute hook (the static UI's) runs after this one.
    app.addHook('onReady', async () => {
      const keys = new Set<string>();
      for (const { route, url: raw } of seen) {
        const url = raw.replace(/(.)\/$/, '$1');
        const access = route.config?.access;
        if (!access) throw new Error(`The route ${route.method} ${url} declares no access`);
        for (const method of [route.method].flat()) {
          const key = `${method} ${url}`;
          if (method === 'HEAD' || keys.has(key)) continue;
          keys.add(key);
          const { body, params, querystring } = route.schema ?? {};
          table.push({ method, url, access, schema: { body, params, querystring } });
        }
      }
    });
  },
  { name: 'route-table' },
);
