import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, DuplicateError, TooManyRequestsError } from '../domain/errors.js';
import { publicMessage } from '../domain/messages.js';
import { GatewayError, isDatabaseFailure } from '../services/failures.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { issue?: { path?: PropertyKey[]; message?: string } };
}

/** "body.options.split: Too big…" from the first issue of a failed schema. */
function describeValidation(context: string | undefined, issues: ValidationIssue[]): string {
  const first = issues[0];
  const path =
    first?.params?.issue?.path?.map(String).join('.') ??
    first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ??
    '';
  const where = [context, path].filter(Boolean).join('.');
  const message = first?.params?.issue?.message ?? first?.message ?? 'is invalid';
  return `Invalid ${where || 'request'}: ${message}`;
}

/**
 * The one place errors become HTTP: DomainError -> its status and sentence; schema failures -> 422
 * naming the field; body limits -> 413; anything else -> 500 naming the failed dependency, never a
 * stack trace or a server path.
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof DomainError) {
        if (error instanceof TooManyRequestsError)
          reply.header('retry-after', String(error.retryAfterSeconds));
        if (error instanceof DuplicateError)
          return reply.status(409).send({ detail: error.detail, task_id: error.taskId });
        return reply.status(error.status).send({ detail: error.detail });
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        return reply.status(422).send({
          detail: describeValidation(error.validationContext, error.validation as ValidationIssue[]),
        });
      }
      if (error.validation) {
        return reply.status(422).send({
          detail: describeValidation(error.validationContext, error.validation as ValidationIssue[]),
        });
      }
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
        return reply.status(413).send({ detail: 'Request body is too large' });
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
        return reply.status(415).send({ detail: 'Unsupported content type; send application/json' });
      }
      if (error.statusCode === 429) {
        return reply.status(429).send({ detail: 'Too many requests; try again later' });
      }
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        // Fastify's own client errors (bad JSON, empty body with a JSON type, …) are bad input.
        const status = error.statusCode === 400 ? 422 : error.statusCode;
        return reply.status(status).send({ detail: `Invalid request: ${publicMessage(error.message)}` });
      }
      if (error instanceof GatewayError) {
        request.log.error(
          { node: error.node, operation: error.operation, reason: error.reason },
          'download daemon call failed',
        );
        return reply.status(503).send({ detail: `aria2 is unavailable: ${publicMessage(error.reason)}` });
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (isDatabaseFailure(error)) {
        request.log.error({ code }, 'database failure');
        return reply.status(503).send({ detail: 'The database is unavailable; nothing was changed' });
      }
      if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EIO') {
        request.log.error({ code }, 'disk failure');
        return reply.status(500).send({ detail: `Disk failure (${code}); nothing was changed` });
      }
      request.log.error({ err: error }, 'unexpected failure');
      return reply.status(500).send({ detail: 'Internal error' });
    });
  },
  { name: 'error-handler' },
);
