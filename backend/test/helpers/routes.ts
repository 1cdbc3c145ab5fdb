import type { RouteEntry } from '../../src/plugins/route-table.js';
import type { TestController } from './controller.js';

/** A route table's entries may be variants of a route (same method and path, another query). */
export const routeKey = (key: string) => key.replace(/\?.*$/, '');

/**
 * Every route the controller serves, keyed "METHOD /path" (HEAD twins left out), as the routes declare
 * themselves (`app.routeTable`): tests that walk a route table compare it with this, so a new route
 * cannot escape them, and each entry carries the route's declared access and schemas.
 */
export function servedRoutes(c: TestController): Map<string, RouteEntry> {
  return new Map(c.app.routeTable.map((r) => [`${r.method} ${r.url}`, r]));
}
