/**
 * What a failure of the controller's own dependencies looks like, for the error handler (which may not
 * reach into the database layer itself): the dialect module knows how each database reports it.
 */
export { isDatabaseFailure } from '../db/dialect.js';
export { GatewayError } from '../gateway/types.js';
