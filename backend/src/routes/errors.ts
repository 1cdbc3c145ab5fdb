import { errorBody } from '../contracts/common.js';

/** The error statuses a route may answer; each is a `{detail}` body. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 416 | 422 | 429 | 500 | 503;

/**
 * The `{detail}` response schemas of the statuses a route can answer, for its `schema.response`: the
 * one way routes declare their errors, so the OpenAPI document lists each of them.
 */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, typeof errorBody> {
  return Object.fromEntries(statuses.map((s) => [s, errorBody])) as Record<S, typeof errorBody>;
}
