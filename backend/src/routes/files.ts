import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  deleteResult,
  entry,
  fileList,
  folderBody,
  manyPathsQuery,
  moveBody,
  onePathQuery,
} from '../contracts/files.js';
import { actor } from '../plugins/auth.js';
import { sendDownload } from './download.js';
import { errorResponses } from './errors.js';

const tags = ['files'];
const config = { access: 'user' } as const;
const errors = errorResponses(401, 404, 422, 500);
const many = (p: string | string[]) => (Array.isArray(p) ? p : [p]);

/** The caller's own folder; every path is relative to it and checked by the files service. */
export const fileRoutes: FastifyPluginAsyncZod = async (app) => {
  const { files } = app.deps.services;

  app.get(
    '/',
    {
      config,
      schema: {
        tags,
        summary: 'List a folder: folders first, then by name; with used space and quota',
        description: 'Running downloads show under `.incomplete/` with their `task_id`.',
        querystring: onePathQuery,
        response: { 200: fileList, ...errors },
      },
    },
    // Sent as the service's JSON text: it keeps an unchanged folder's files serialised, and checking
    // 10,000 entries against the schema again on every answer would cost more than building them.
    async (request, reply) =>
      (reply as FastifyReply)
        .type('application/json; charset=utf-8')
        .send(await files.listJson(actor(request), request.query.path)),
  );

  app.get(
    '/content',
    {
      config,
      schema: {
        tags,
        summary: 'Download a file (HTTP Range) or a folder as a zip stream (stored, no compression)',
        querystring: onePathQuery,
        produces: ['application/octet-stream', 'application/zip'],
        response: errorResponses(401, 404, 416, 422),
      },
    },
    async (request, reply) =>
      sendDownload(request, reply, await files.content(actor(request), request.query.path)),
  );

  app.get(
    '/archive',
    {
      config,
      schema: {
        tags,
        summary: 'A zip stream of a selection: ?path=a&path=b… (at most 1000; stored, no compression)',
        querystring: manyPathsQuery,
        produces: ['application/zip'],
        response: errorResponses(401, 404, 422),
      },
    },
    async (request, reply) =>
      sendDownload(request, reply, await files.archive(actor(request), many(request.query.path))),
  );

  app.post(
    '/move',
    {
      config,
      schema: {
        tags,
        summary: 'Rename or move inside the folder; finished tasks and shares follow',
        description:
          "`to` is the new path; its parent must exist (404). 409 `A file with that name already exists`; 409 `In use by a running download` when `from` is or holds a current download's files.",
        body: moveBody,
        response: { 200: entry, ...errors, ...errorResponses(409) },
      },
    },
    async (request) => files.move(actor(request), request.body.from, request.body.to),
  );

  app.post(
    '/folder',
    {
      config,
      schema: {
        tags,
        summary: 'Create a folder (its parent must exist; 409 when the name is taken)',
        body: folderBody,
        response: { 201: entry, ...errors, ...errorResponses(409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await files.createFolder(actor(request), request.body.path)),
  );

  app.delete(
    '/',
    {
      config,
      schema: {
        tags,
        summary: 'Delete files or folders: ?path=a&path=b… (at most 1000); frees quota at once',
        description:
          '409 `In use by a running download` (nothing is deleted then). A finished task whose file is deleted keeps its row with `artifact_path` and `artifact_token` null; shares of deleted files end.',
        querystring: manyPathsQuery,
        response: { 200: deleteResult, ...errors, ...errorResponses(409) },
      },
    },
    async (request) => files.delete(actor(request), many(request.query.path)),
  );
};
