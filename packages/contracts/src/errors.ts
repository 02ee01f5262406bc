import { z } from 'zod';

/**
 * Error codes the service kit answers with. They are part of the public HTTP contract: clients (the
 * vendor apps, admin-web, sibling services) branch on `code`, never on `message`, so a code is never
 * renamed once shipped. Services may add their own codes next to their schemas; these are the shared ones.
 */
export const ERROR_CODES = [
  /** A request part (body, querystring, params, headers) failed its schema; `details` names the fields. */
  'VALIDATION_ERROR',
  /** The body is not valid JSON, is empty while a JSON content type was sent, or similar framing errors. */
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  /** No route matches the method and path. */
  'NOT_FOUND',
  /** The path exists, with other methods: HTTP 405, and `Allow` lists them. */
  'METHOD_NOT_ALLOWED',
  /** A path parameter is longer than the router takes (100 characters): HTTP 414. */
  'URI_TOO_LONG',
  /** The request's headers are larger than Node's limit (16 KiB): HTTP 431, and the connection is closed. */
  'HEADERS_TOO_LARGE',
  /** The request was not received completely within the server's time limit: HTTP 408. */
  'REQUEST_TIMEOUT',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  /** Anything the service did not expect; the message is generic on purpose. */
  'INTERNAL',
  /** A dependency failed and there was no fallback. */
  'UPSTREAM_ERROR',
  /** Load shedding: the process is saturated; retry after `Retry-After` seconds, ideally on another pod. */
  'OVERLOADED',
  /** The request's time budget ran out before an answer was ready (HTTP 504). */
  'DEADLINE_EXCEEDED',
  /** The pod is draining before exit; retry on another pod. */
  'SHUTTING_DOWN',
  /** `/readyz`: a readiness check failed; `details` names it. */
  'NOT_READY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const ErrorDetail = z.object({
  /** Where the problem is, dotted: `body.destination.lat`, `querystring.limit`, or a readiness check name. */
  path: z.string(),
  message: z.string(),
});
export type ErrorDetail = z.infer<typeof ErrorDetail>;

/**
 * The one error body every service answers with. `code` is a string rather than the ErrorCode union so
 * a client built against an older contract still parses codes added later.
 */
export const ErrorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.array(ErrorDetail).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
