import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { routeTablePlugin } from '../../src/plugins/route-table.js';

describe('the route table', () => {
  it('lists each route once as it declares itself: HEAD twins left out, no trailing slash', async () => {
    const app = Fastify();
    await app.register(routeTablePlugin);
    await app.register(
      async (scope) => {
        scope.get('/', { config: { access: 'user' }, schema: { querystring: {} } }, async () => ({}));
        scope.post(
          '/:id',
          { config: { access: 'admin' }, schema: { body: {}, params: {} } },
          async () => ({}),
        );
      },
      { prefix: '/api/things' },
    );
    await app.ready();
    expect(app.routeTable.map((r) => `${r.method} ${r.url} ${r.access}`)).toEqual([
      'GET /api/things user',
      'POST /api/things/:id admin',
    ]);
    expect(app.routeTable[1]?.schema.body).toBeDefined();
    expect(app.routeTable[0]?.schema.body).toBeUndefined();
    await app.close();
  });

  it('refuses to start when a route declares no access', async () => {
    const app = Fastify();
    await app.register(routeTablePlugin);
    app.get('/forgotten', async () => ({}));
    await expect(app.ready()).rejects.toThrow('The route GET /forgotten declares no access');
    await app.close().catch(() => undefined);
  });
});
