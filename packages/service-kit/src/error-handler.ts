import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorBody, REQUEST_ID_HEADER, type ErrorCode, type ErrorDetail } from '@eta/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, type ErrorFormat } from './errors.ts';

/** The longest path parameter the router takes (Fastify's default); longer is a 414 URI_TOO_LONG. */
export const MAX_PARAM_LENGTH = 100;

/** Said for every unexpected failure: the details are in the log under the request id, not in the answer. */
export const INTERNAL_MESSAGE = 'internal error; the request id identifies it in the logs';

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

interface ValidationItem {
  readonly instancePath?: string;
  readonly message?: string;
}

interface ErrorLike {
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly validation?: unknown;
  readonly validationContext?: unknown;
}

export interface ErrorAnswer {
  readonly statusCode: number;
  readonly body: ErrorBody;
  /** Unexpected failures are logged with their stack; client mistakes only with their code. */
  readonly unexpected: boolean;
}

/** `body` + `/destination/lat` -> `body.destination.lat`: the name a client developer sees in their payload. */
function fieldPath(context: string, instancePath: string | undefined): string {
  const segments = (instancePath ?? '').split('/').filter((s) => s !== '');
  return [context, ...segments].join('.');
}

function validationAnswer(err: ErrorLike): ErrorAnswer {
  const context = typeof err.validationContext === 'string' ? err.validationContext : 'request';
  const items = Array.isArray(err.validation) ? (err.validation as ValidationItem[]) : [];
  const details: ErrorDetail[] = items.map((item) => ({
    path: fieldPath(context, item.instancePath),
    message: item.message ?? 'is invalid',
  }));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  const message = first ? `${first.path}: ${first.message}${more}` : `invalid ${context}`;
  return { statusCode: 400, body: { code: 'VALIDATION_ERROR', message, details }, unexpected: false };
}

/**
 * Maps anything thrown in a request to the one error form. Pure, so the mapping is tested without a
 * server and the handler stays a thin adapter.
 */
export function toErrorAnswer(thrown: unknown): ErrorAnswer {
  if (thrown instanceof AppError) {
    return {
      statusCode: thrown.statusCode,
      body: {
        code: thrown.code,
        message: thrown.message,
        ...(thrown.details ? { details: [...thrown.details] } : {}),
      },
      // Deliberate, even as a 5xx (OVERLOADED, DEADLINE_EXCEEDED): a stack per shed request would flood
      // the log exactly when the process is busiest.
      unexpected: false,
    };
  }
  if (hasZodFastifySchemaValidationErrors(thrown)) return validationAnswer(thrown);
  const err: ErrorLike = typeof thrown === 'object' && thrown !== null ? thrown : {};
  if (Array.isArray(err.validation)) return validationAnswer(err);
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx errors (bad JSON, empty body, too large, bad media type) carry messages written
    // for the client, so they are passed on under a stable code.
    const message = typeof err.message === 'string' && err.message !== '' ? err.message : 'bad request';
    return {
      statusCode: status,
      body: { code: CODE_BY_STATUS[status] ?? 'BAD_REQUEST', message },
      unexpected: false,
    };
  }
  // Everything else, including a response that fails its own schema, is our bug: log it, hide it.
  return { statusCode: 500, body: { code: 'INTERNAL', message: INTERNAL_MESSAGE }, unexpected: true };
}

export function errorHandler(thrown: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = toErrorAnswer(thrown);
  if (answer.unexpected) {
    request.log.error({ err: thrown, code: answer.body.code }, 'request failed');
  } else if (answer.statusCode >= 500) {
    request.log.warn({ code: answer.body.code, statusCode: answer.statusCode }, answer.body.message);
  } else {
    request.log.info({ code: answer.body.code, statusCode: answer.statusCode }, answer.body.message);
  }
  return reply.code(answer.statusCode).send(errorFormatOf(request).format(answer.body));
}

// ---------------------------------------------------------------------------------------------------
// Error formats: the suite's `{ code, message, details? }` everywhere, unless a scope says otherwise

/** The suite's own error body, as it is. */
export const SUITE_ERROR_FORMAT: ErrorFormat = { schema: ErrorBody, format: (body) => body };

const kErrorFormat = Symbol('eta.errorFormat');
const kScopedFormats = Symbol('eta.scopedErrorFormats');
const kRouteMethods = Symbol('eta.routeMethods');

interface ScopedFormat {
  readonly prefix: string;
  readonly format: ErrorFormat;
}

/**
 * What the kit keeps on Fastify instances. A plugin scope is an `Object.create` of its parent, so a value
 * set on a scope shadows the parent's for that scope and its children only (as Fastify's own settings do),
 * while the arrays and sets created on the root are shared by every scope.
 */
interface KitState {
  [kErrorFormat]?: ErrorFormat;
  [kScopedFormats]?: ScopedFormat[];
  [kRouteMethods]?: Set<string>;
}

const stateOf = (instance: FastifyInstance): KitState => instance as unknown as KitState;

/** Called once by buildService on the root instance. */
export function initErrorFormats(app: FastifyInstance): { readonly routeMethods: Set<string> } {
  const state = stateOf(app);
  state[kScopedFormats] = [];
  state[kRouteMethods] = new Set();
  return { routeMethods: state[kRouteMethods] };
}

/** The error format of the routes registered on `instance` from now on (set on it or on an ancestor). */
export function errorFormatOfScope(instance: FastifyInstance): ErrorFormat {
  return stateOf(instance)[kErrorFormat] ?? SUITE_ERROR_FORMAT;
}

/**
 * Makes every error the kit answers in this plugin scope (`scope.prefix` and below) take `format`:
 * validation and framework errors, 404 and 405, 414, load shedding and admission refusals, deadlines,
 * shutdown and 500s; and documents `format.schema` for those statuses on the scope's routes. Call it
 * first in the scope, before its routes. It sets the scope's not-found handler (404, or 405 with
 * `Allow`); an error handler of the scope that rethrows what it does not handle itself gets the same
 * format from the kit's handler.
 */
export function setErrorFormat(scope: FastifyInstance, format: ErrorFormat): void {
  const state = stateOf(scope);
  state[kErrorFormat] = format;
  const scoped = state[kScopedFormats];
  if (scoped === undefined) throw new Error('setErrorFormat needs an app made by buildService');
  scoped.push({ prefix: scope.prefix, format });
  // Longest prefix first: the most specific scope wins, as for Fastify's own not-found handlers.
  scoped.sort((a, b) => b.prefix.length - a.prefix.length);
  scope.setNotFoundHandler(notFoundHandler);
}

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The format for a URL no route matched: that of the longest scope prefix it lies under. */
function formatForPath(server: FastifyInstance, path: string): ErrorFormat {
  for (const { prefix, format } of stateOf(server)[kScopedFormats] ?? []) {
    if (prefix === '' || path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) {
      return format;
    }
  }
  return SUITE_ERROR_FORMAT;
}

/**
 * The format of the errors for `url` before it is routed (admission's refusals in front of Fastify): that of
 * the longest scope prefix it lies under, which is every route's own format (onRoute gives a route its
 * scope's).
 */
export function errorFormatForUrl(server: FastifyInstance, url: string): ErrorFormat {
  return formatForPath(server, pathOf(url));
}

/** The format of a request's errors: its route's, or by path for a request no route matched. */
export function errorFormatOf(request: FastifyRequest): ErrorFormat {
  return request.routeOptions.config?.errorFormat ?? formatForPath(request.server, pathOf(request.url));
}

/** The methods registered for this concrete path other than `method` (HEAD comes with every GET). */
function allowedMethods(server: FastifyInstance, path: string, method: string): string[] {
  const allowed: string[] = [];
  for (const m of stateOf(server)[kRouteMethods] ?? []) {
    if (m === method) continue;
    try {
      if (server.findRoute({ method: m as 'GET', url: path }) !== null) allowed.push(m);
    } catch {
      // A path the router cannot decode matches nothing.
    }
  }
  return allowed.sort();
}

/**
 * 404 for a path no route has, 405 with `Allow` for a path that exists with other methods (RFC 9110
 * 15.5.6): a client that sent GET to a POST route learns the method is wrong, not that the path is.
 */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = pathOf(request.url);
  const shown = path.slice(0, 200);
  const format = errorFormatOf(request);
  const allowed = allowedMethods(request.server, path, request.method);
  if (allowed.length > 0) {
    const allow = allowed.join(', ');
    return reply
      .code(405)
      .header('allow', allow)
      .send(
        format.format({
          code: 'METHOD_NOT_ALLOWED',
          message: `${request.method} is not allowed on ${shown}; allowed: ${allow}`,
        }),
      );
  }
  return reply
    .code(404)
    .send(format.format({ code: 'NOT_FOUND', message: `no route for ${request.method} ${shown}` }));
}

/**
 * Fastify's router errors, answered before any route or hook runs (`frameworkErrors`): a path parameter
 * longer than the router takes (414) and a path that is not valid percent-encoding (400). Fastify's own
 * answers are in its format, without a request id.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  reply.header(REQUEST_ID_HEADER, request.id);
  const format = formatForPath(request.server, pathOf(request.url));
  const path = pathOf(request.url).slice(0, 200);
  let statusCode: number;
  let body: ErrorBody;
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    statusCode = 414;
    body = {
      code: 'URI_TOO_LONG',
      message: `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
    };
  } else if (error.code === 'FST_ERR_BAD_URL') {
    statusCode = 400;
    body = { code: 'BAD_REQUEST', message: `the path ${path} is not valid percent-encoding` };
  } else {
    const answer = toErrorAnswer(error);
    statusCode = answer.statusCode;
    body = answer.body;
  }
  request.log.info({ code: body.code, statusCode, url: path }, body.message);
  return reply.code(statusCode).send(format.format(body));
}

/** What the HTTP parser's error handler answered, for the service's count and log summary. */
export interface ParserErrorAnswer {
  readonly statusCode: 400 | 408 | 431;
  readonly code: ErrorCode;
}

/**
 * The server's 'clientError' handler: a request Node's HTTP parser refused before Fastify saw it (headers
 * over Node's limit 431, a request or its head not received in time 408, bytes that are not HTTP 400),
 * answered in the suite's form with a fresh request id (no request exists to carry one), and the
 * connection closed: after a parse error the rest of the stream cannot be framed. Each answer gets a
 * debug line of its own and is passed to `answered`, which counts it and sums it up in the log: a
 * slowloris attack, or an overflowing accept queue, brings them by the hundred at once.
 */
export function createClientErrorHandler(
  answered: (answer: ParserErrorAnswer) => void,
): (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) => void {
  return function clientErrorHandler(this: FastifyInstance, err, socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    let statusCode: ParserErrorAnswer['statusCode'];
    let code: ErrorCode;
    let message: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      statusCode = 431;
      code = 'HEADERS_TOO_LARGE';
      message = 'the request headers are too large';
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      statusCode = 408;
      code = 'REQUEST_TIMEOUT';
      message = 'the request was not received in time';
    } else {
      statusCode = 400;
      code = 'BAD_REQUEST';
      message = 'the request is not valid HTTP/1.1';
    }
    const requestId = randomUUID();
    this.log.debug({ requestId, code, statusCode, parseError: err.code }, message);
    answered({ statusCode, code });
    // A response already being written on this connection (a pipelined request) cannot be followed by ours.
    const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || current?.headersSent === true) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify({ code, message });
    socket.end(
      `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? ''}\r\n` +
        'content-type: application/json; charset=utf-8\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        `${REQUEST_ID_HEADER}: ${requestId}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
    // end() sends the answer and a FIN; a client that never closes its side must not hold the socket.
    setTimeout(() => socket.destroy(), 5000).unref();
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by the kit on every route: the error format of the scope it was registered in. */
    errorFormat?: ErrorFormat;
  }
}
