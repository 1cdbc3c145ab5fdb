import multipart from '@fastify/multipart';
import { type FastifyPluginAsyncZod, serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TORRENT_BODY_LIMIT } from '../config/limits.js';
import { idParams, safeText } from '../contracts/common.js';
import {
  type AddExtras,
  batchCreateBody,
  batchCreateResponse,
  bulkDeleteBody,
  bulkResponse,
  bulkStatusBody,
  changeOptionsBody,
  createTaskBody,
  deleteFilesQuery,
  duplicateBody,
  fileIndexes,
  listTasksQuery,
  positionBody,
  retryBatchBody,
  retryBatchResponse,
  retryOneBody,
  selectFileOption,
  selectFilesBody,
  statusChangeBody,
  type TaskOptions,
  task,
  taskDetail,
  taskFile,
  taskList,
  taskOptions,
  torrentBody,
} from '../contracts/tasks.js';
import { DomainError, InvalidInputError } from '../domain/errors.js';
import { MAX_TORRENT_BYTES } from '../domain/task-rules.js';
import { bulkResult } from '../services/tasks/control.js';

/** The add's extras as multipart fields of a torrent upload. */
const multipartExtras = torrentBody.pick({ auto_retry: true, allow_duplicate: true });

import { actor } from '../plugins/auth.js';
import { contentDisposition, sendDownload } from './download.js';
import { errorResponses } from './errors.js';

const config = { access: 'user' } as const;
const errors = errorResponses(401, 404, 409, 422, 500, 503);
const TORRENT_FILE_LIMIT = MAX_TORRENT_BYTES;

/** `select_files` travels to aria2 as its `select-file` option, stored with the others. */
function withSelection(
  options: TaskOptions | undefined,
  selected: number[] | undefined,
): TaskOptions | undefined {
  if (!selected) return options;
  return { ...options, 'select-file': selectFileOption(selected) };
}

/**
 * The list's 200 answer as plain JSON: a page is built field by field by toTask (repositories/tasks.ts),
 * the only way a row becomes a Task, and checking up to 1000 of them against the schema again on every
 * call cost more than the page's query. Other answers (errors) go through the schema as everywhere.
 */
const pageSerializer: typeof serializerCompiler = (route) =>
  route.httpStatus === '200' ? (data) => JSON.stringify(data) : serializerCompiler(route);

export const taskRoutes: FastifyPluginAsyncZod = async (app) => {
  await app.register(multipart, { limits: { fileSize: TORRENT_FILE_LIMIT, files: 1, fields: 4, parts: 5 } });
  const { tasks, retry, files, autoRetry } = app.deps.services;
  const { add, control, remove, query } = tasks;

  app.post(
    '/',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Add a download by URI',
        body: createTaskBody,
        response: { 201: task, ...errorResponses(403), ...errors, 409: duplicateBody },
      },
    },
    async (request, reply) => {
      const { uri, options, select_files, ...extras } = request.body;
      const created = await add.create(actor(request), uri, withSelection(options, select_files), extras);
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/batch',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Add many downloads, each succeeding or failing on its own',
        body: batchCreateBody,
        response: { 200: batchCreateResponse, ...errors },
      },
    },
    async (request) => {
      const { uris, options, ...extras } = request.body;
      return add.createBatch(actor(request), uris, options, extras);
    },
  );

  app.post(
    '/torrent',
    {
      bodyLimit: TORRENT_BODY_LIMIT,
      config,
      schema: {
        tags: ['tasks'],
        summary:
          'Add a download from a .torrent file (base64 JSON, or multipart with a `torrent` file field)',
        consumes: ['application/json', 'multipart/form-data'],
        // A multipart request arrives with a null body (the parts are read in the handler).
        body: torrentBody.nullish(),
        response: { 201: task, ...errorResponses(403, 413), ...errors, 409: duplicateBody },
      },
    },
    async (request, reply) => {
      let torrentBuf: Buffer;
      let options: z.infer<typeof taskOptions> | undefined;
      let extras: AddExtras = {};
      let selected: number[] | undefined;
      if (request.isMultipart()) {
        let file: Buffer | null = null;
        try {
          for await (const part of request.parts()) {
            if (part.type === 'file') {
              if (part.fieldname !== 'torrent')
                throw new InvalidInputError('Invalid body: the file field must be named torrent');
              file = await part.toBuffer();
            } else if (part.fieldname === 'select_files') {
              let raw: unknown;
              try {
                raw = JSON.parse(String(part.value || 'null'));
              } catch {
                throw new InvalidInputError('Invalid select_files: not a JSON list of file indexes');
              }
              const parsed = fileIndexes.safeParse(raw);
              if (!parsed.success)
                throw new InvalidInputError(`Invalid select_files: ${parsed.error.issues[0]?.message}`);
              selected = parsed.data;
            } else if (part.fieldname === 'options') {
              let raw: unknown;
              try {
                raw = JSON.parse(String(part.value || '{}'));
              } catch {
                throw new InvalidInputError('Invalid options: not a JSON object');
              }
              const parsed = taskOptions.safeParse(raw);
              if (!parsed.success)
                throw new InvalidInputError(
                  `Invalid options${parsed.error.issues[0]?.path.map((k) => `.${String(k)}`).join('') ?? ''}: ${parsed.error.issues[0]?.message}`,
                );
              options = parsed.data;
            } else if (part.fieldname === 'auto_retry' || part.fieldname === 'allow_duplicate') {
              const raw = String(part.value ?? '');
              const parsed = multipartExtras.safeParse({
                [part.fieldname]: part.fieldname === 'auto_retry' ? Number(raw) : raw === 'true',
              });
              if (!parsed.success || !/^(\d{1,2}|true|false)$/.test(raw))
                throw new InvalidInputError(`Invalid ${part.fieldname}: ${raw.slice(0, 40)}`);
              extras = { ...extras, ...parsed.data };
            }
          }
        } catch (err) {
          if (err instanceof DomainError || (err as { statusCode?: number }).statusCode) throw err;
          // The form parser's own errors (no boundary, a cut-off body) are bad input, not a server failure.
          throw new InvalidInputError(`Invalid body: a malformed multipart form (${(err as Error).message})`);
        }
        if (!file) throw new InvalidInputError('Invalid body: a torrent file field is required');
        torrentBuf = file;
      } else {
        const body = request.body;
        if (!body) throw new InvalidInputError('Invalid body: torrent is required');
        if (!/^[A-Za-z0-9+/=\s]+$/.test(body.torrent))
          throw new InvalidInputError('Invalid torrent: not base64');
        torrentBuf = Buffer.from(body.torrent, 'base64');
        options = body.options;
        extras = { auto_retry: body.auto_retry, allow_duplicate: body.allow_duplicate };
        selected = body.select_files;
      }
      if (torrentBuf.length > TORRENT_FILE_LIMIT) {
        return reply.status(413).send({ detail: 'The torrent file is larger than 16 MiB' });
      }
      return reply
        .status(201)
        .send(await add.createTorrent(actor(request), torrentBuf, withSelection(options, selected), extras));
    },
  );

  app.get(
    '/',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "List the caller's tasks",
        querystring: listTasksQuery,
        response: { 200: taskList, ...errors },
      },
      // Fastify types the compiler's schema as the whole route schema; it is given the response's.
      serializerCompiler: pageSerializer as never,
    },
    async (request) => query.list(actor(request), request.query),
  );

  app.delete(
    '/',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "Clear the caller's history (complete, error, removed)",
        querystring: deleteFilesQuery,
        response: { 200: z.object({ deleted: z.number().int() }), ...errors },
      },
    },
    async (request) => ({
      deleted: await remove.clearHistory(actor(request), request.query.delete_files === 'true'),
    }),
  );

  app.post(
    '/retry',
    {
      config,
      schema: {
        tags: ['retry'],
        summary:
          'Retry many tasks: by ids (each succeeding or failing on its own) or by filter (every matching retryable task, no limit)',
        body: retryBatchBody,
        response: { 200: retryBatchResponse, ...errors },
      },
    },
    async (request) => {
      const body = request.body;
      if (body.filter) return retry.retryByFilter(actor(request), body.filter);
      return { results: await retry.retryBatch(actor(request), body.ids ?? []) };
    },
  );

  app.post(
    '/status',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Pause, resume or stop many downloads, each succeeding or failing on its own',
        body: bulkStatusBody,
        response: { 200: bulkResponse, ...errors },
      },
    },
    async (request) => {
      const outcomes = await control.changeStatusMany(actor(request), request.body.ids, request.body.status);
      return { results: outcomes.map((o) => bulkResult(o, (task) => task)) };
    },
  );

  app.post(
    '/delete',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Delete many tasks (stopping them), optionally with their files, each on its own',
        body: bulkDeleteBody,
        response: { 200: bulkResponse, ...errors },
      },
    },
    async (request) => {
      const { ids, delete_files } = request.body;
      const outcomes = await remove.deleteMany(actor(request), ids, delete_files === true);
      return { results: outcomes.map((o) => bulkResult(o, () => undefined)) };
    },
  );

  app.get(
    '/artifacts/:token',
    {
      config,
      schema: {
        tags: ['files'],
        summary: 'Download a finished file (Range supported) or folder (zip)',
        params: z.object({ token: safeText().min(1).max(200) }),
        response: errorResponses(401, 404, 422),
      },
    },
    async (request, reply) =>
      sendDownload(request, reply, await files.artifact(actor(request), request.params.token)),
  );

  app.get(
    '/:id',
    {
      config,
      schema: { tags: ['tasks'], summary: 'One task', params: idParams, response: { 200: task, ...errors } },
    },
    async (request) => query.get(actor(request), request.params.id),
  );

  app.get(
    '/:id/detail',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "A task with aria2's detail",
        params: idParams,
        response: { 200: taskDetail, ...errors },
      },
    },
    async (request) => query.detail(actor(request), request.params.id),
  );

  app.get(
    '/:id/files',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "A task's files",
        params: idParams,
        response: { 200: z.array(taskFile), ...errors },
      },
    },
    async (request) => query.files(actor(request), request.params.id),
  );

  app.put(
    '/:id/status',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Pause, resume or stop a download',
        params: idParams,
        body: statusChangeBody,
        response: { 200: task, ...errors },
      },
    },
    async (request) => control.changeStatus(actor(request), request.params.id, request.body.status),
  );

  app.put(
    '/:id/position',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "Move a waiting download in aria2's queue",
        params: idParams,
        body: positionBody,
        response: { 200: z.object({ position: z.number().int() }), ...errors },
      },
    },
    async (request) => ({
      position: await control.changePosition(
        actor(request),
        request.params.id,
        request.body.position,
        request.body.how,
      ),
    }),
  );

  app.put(
    '/:id/options',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "Change a current download's options (speed limits, seeding) at once",
        params: idParams,
        body: changeOptionsBody,
        response: { 200: task, ...errors },
      },
    },
    async (request) => control.changeOptions(actor(request), request.params.id, request.body),
  );

  app.put(
    '/:id/files',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: "Choose which of a torrent's files to download; size and quota are checked again",
        params: idParams,
        body: selectFilesBody,
        response: { 200: z.array(taskFile), ...errorResponses(403), ...errors },
      },
    },
    async (request) => control.selectFiles(actor(request), request.params.id, request.body.selected),
  );

  app.delete(
    '/:id',
    {
      config,
      schema: {
        tags: ['tasks'],
        summary: 'Delete a task (stopping it), optionally with its files',
        params: idParams,
        querystring: deleteFilesQuery,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await remove.delete(actor(request), request.params.id, request.query.delete_files === 'true');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/:id/retry',
    {
      config,
      schema: {
        tags: ['retry'],
        summary:
          'Replace a failed or stopped task by a new download of the same source, or of a new `uri`; a planned automatic retry happens now',
        params: idParams,
        body: retryOneBody,
        response: { 200: task, ...errorResponses(400, 403), ...errors },
      },
    },
    async (request) => retry.retry(actor(request), request.params.id, request.body?.uri),
  );

  app.get(
    '/:id/torrent',
    {
      config,
      schema: {
        tags: ['retry'],
        summary: "An uploaded torrent task's stored .torrent file",
        params: idParams,
        produces: ['application/x-bittorrent'],
        response: { 200: z.any().describe('the .torrent file'), ...errors },
      },
    },
    async (request, reply) => {
      const file = await query.torrentFile(actor(request), request.params.id);
      reply.header('content-type', 'application/x-bittorrent');
      reply.header('content-disposition', contentDisposition(file.name));
      reply.header('cache-control', 'private, no-store');
      return reply.send(file.data);
    },
  );

  app.post(
    '/:id/reupload',
    {
      config,
      schema: {
        tags: ['retry'],
        summary: 'Replace a failed or stopped torrent task by a new download of its stored .torrent file',
        params: idParams,
        response: { 200: task, ...errorResponses(400, 403), ...errors },
      },
    },
    async (request) => retry.reupload(actor(request), request.params.id),
  );

  app.delete(
    '/:id/auto-retry',
    {
      config,
      schema: {
        tags: ['retry'],
        summary: "Cancel a task's planned automatic retry (no more automatic retries for it)",
        params: idParams,
        response: { 200: task, ...errors },
      },
    },
    async (request) => autoRetry.cancel(actor(request), request.params.id),
  );
};
