import type { TestController } from './controller.js';

/** A route table's entries may be variants of a route (same method and path, another query). */
export const routeKey = (key: string) => key.replace(/\?.*$/, '');

/**
 * Every "METHOD /path" Fastify serves, read from its route tree (HEAD twins left out): tests that walk
 * a route table compare it with this, so a new route cannot escape them.
 */
export function servedRoutes(c: TestController): Set<string> {
  const stack: string[] = [];
  const out = new Set<string>();
  for (const line of c.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    if (!m[3]) continue;
    const path = stack.join('').replace(/(.)\/$/, '$1');
    for (const method of m[3].split(', ')) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  return out;
}
