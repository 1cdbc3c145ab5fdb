import { TASK_MESSAGES } from './task-rules.js';

/**
 * Named failures of the controller's rules. Services throw these; one plugin maps them to HTTP.
 * Each carries the human sentence the client sees as `detail`.
 */
export abstract class DomainError extends Error {
  abstract readonly status: number;
  constructor(readonly detail: string) {
    super(detail);
    this.name = new.target.name;
  }
}

export class InvalidInputError extends DomainError {
  readonly status = 422;
}
export class BadRequestError extends DomainError {
  readonly status = 400;
}
export class NotAuthenticatedError extends DomainError {
  readonly status = 401;
  constructor(detail = 'Not authenticated') {
    super(detail);
  }
}
export class ForbiddenError extends DomainError {
  readonly status = 403;
}
export class NotFoundError extends DomainError {
  readonly status = 404;
}
export class ConflictError extends DomainError {
  readonly status = 409;
}
export class GoneError extends DomainError {
  readonly status = 410;
}
/** An add of what one of the caller's current tasks already downloads; the body names that task. */
export class DuplicateError extends ConflictError {
  constructor(readonly taskId: number) {
    super(TASK_MESSAGES.duplicate);
  }
}
export class TooManyRequestsError extends DomainError {
  readonly status = 429;
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
  ) {
    super(detail);
  }
}
/** A dependency (aria2, the disk, the database) failed; the sentence names it. */
export class DependencyError extends DomainError {
  readonly status: number;
  constructor(detail: string, status = 500) {
    super(detail);
    this.status = status;
  }
}

export const taskNotFound = () => new NotFoundError('Task not found');
export const userNotFound = () => new NotFoundError('User not found');
export const tooManyCurrentTasks = (limit: number) =>
  new ForbiddenError(`You have too many downloads in progress (limit ${limit})`);
