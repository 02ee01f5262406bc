import type { ErrorBody, ErrorCode, ErrorDetail } from '@eta/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from './errors.ts';

/** Said for every unexpected failure: the details are in the log under the request id, not in the answer. */
export const INTERNAL_MESSAGE = 'internal error; the request id identifies it in the logs';

const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
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
  return reply.code(answer.statusCode).send(answer.body);
}
