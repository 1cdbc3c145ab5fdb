// `npm run openapi`: writes docs/openapi.json, the OpenAPI document the app serves at /api/openapi.json,
// so that the repository carries the contract of every route. A test fails when the file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { startTestController } from '../test/helpers/controller.js';

export const OPENAPI_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../docs/openapi.json',
);

/** Objects with their keys sorted, at every depth; arrays keep their order (it carries meaning). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}

/** The document as the app serves it, in a stable text: sorted keys, 2-space indent, a final newline. */
export async function openApiText(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`/api/openapi.json answered ${res.statusCode}`);
  return `${JSON.stringify(sortKeys(res.json()), null, 2)}\n`;
}

/** Builds the app as the tests do (a throw-away data folder, no port) and renders its document. */
export async function renderOpenApi(): Promise<string> {
  const controller = await startTestController();
  try {
    return await openApiText(controller.app);
  } finally {
    await controller.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = await renderOpenApi();
  fs.writeFileSync(OPENAPI_FILE, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
}
