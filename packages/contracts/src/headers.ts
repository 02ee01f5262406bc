/**
 * Header names shared by every service and client. Lower case, because Node lower-cases incoming header
 * names and a constant compared against `req.headers[...]` must match exactly.
 */

/** Correlates log lines across services; taken from the caller when present, generated otherwise, echoed. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The caller's remaining time budget for this request, in whole milliseconds. A server answers within
 * min(its own REQUEST_TIMEOUT_MS, this value) and forwards what is left to its own upstream calls, so a
 * deadline set at the edge holds across the whole call chain. Relative rather than an absolute time so
 * that clock skew between pods does not matter.
 */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';
