import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_FILE, openApiText } from '../../scripts/openapi.js';
import { startTestController, type TestController } from '../helpers/controller.js';

const GUIDE_FILE = path.join(path.dirname(OPENAPI_FILE), 'api.md');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Routes the app serves but keeps out of the document (`schema.hide`): the socket and the document. */
const HIDDEN = new Set(['/ws/tasks', '/api/openapi.json']);

interface Named {
  methods: string[];
  path: string;
  text: string;
}

/** `/api/tasks/` and `/api/tasks` are one route; `<token>` is written `{token}` in the document. */
function normalize(p: string): string {
  const bare = p.split('?')[0]!.replace(/<([^>]+)>/g, '{$1}');
  return bare.length > 1 ? bare.replace(/\/+$/, '') : bare;
}

/**
 * Every route the guide names in a code span (`/api/…`, `/s/…`, `/ws/…`, with its methods if given);
 * the bare base path `/api` is a prefix, not a route.
 */
function routesNamed(markdown: string): Named[] {
  const named: Named[] = [];
  const method = `(?:${METHODS.join('|')})`;
  const route = new RegExp(`(?:(${method}(?:\\|${method})*)\\s+)?(/(?:api|s|ws)/[^\\s\`]+)`, 'g');
  // Fenced examples (curl lines) are left out: their triple backticks would pair up the spans wrongly.
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
  for (const span of prose.matchAll(/`([^`]+)`/g)) {
    for (const m of span[1]!.matchAll(route)) {
      named.push({ methods: m[1] ? m[1].split('|') : [], path: normalize(m[2]!), text: m[0] });
    }
  }
  return named;
}

let c: TestController;
let generated: string;

beforeAll(async () => {
  c = await startTestController();
  generated = await openApiText(c.app);
});
afterAll(async () => {
  await c?.destroy();
});

describe('the API documents in the repository', () => {
  it('docs/openapi.json is the document the app generates from its routes', () => {
    const committed = fs.existsSync(OPENAPI_FILE) ? fs.readFileSync(OPENAPI_FILE, 'utf8') : '';
    expect(
      committed,
      'docs/openapi.json differs from what the app generates: run `npm run openapi` and commit it',
    ).toBe(generated);
  });

  it('every route docs/api.md names is one the app serves, with the methods it names', () => {
    const doc = JSON.parse(generated) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Map<string, string[]>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      documented.set(
        normalize(p),
        Object.keys(ops).map((m) => m.toUpperCase()),
      );
    }
    const named = routesNamed(fs.readFileSync(GUIDE_FILE, 'utf8'));
    // The guide is read at all: it names the routes of every resource.
    expect(named.length).toBeGreaterThan(30);

    const wrong: string[] = [];
    for (const n of named) {
      if (HIDDEN.has(n.path)) {
        const served = (n.methods.length ? n.methods : ['GET']).every((method) =>
          c.app.hasRoute({ method: method as (typeof METHODS)[number], url: n.path }),
        );
        if (!served) wrong.push(`${n.text} (not served)`);
        continue;
      }
      const methods = documented.get(n.path);
      if (!methods) wrong.push(`${n.text} (no such path in docs/openapi.json)`);
      else if (!n.methods.every((m) => methods.includes(m))) wrong.push(`${n.text} (served: ${methods})`);
    }
    expect(wrong, 'routes named in docs/api.md that the app does not serve').toEqual([]);
  });
});
