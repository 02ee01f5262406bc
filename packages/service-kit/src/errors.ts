import type { ErrorBody, ErrorCode, ErrorDetail } from '@eta/contracts';
import type { z } from 'zod';

/**
 * An error the service means to answer with: its status, code and message reach the client as they are
 * (also for 5xx, so write the message for a client). Anything else that is thrown becomes a 500
 * `INTERNAL` with a generic message.
 */
export class AppError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode | (string & {});
  readonly details: readonly ErrorDetail[] | undefined;

  constructor(
    statusCode: number,
    code: ErrorCode | (string & {}),
    message: string,
    details?: readonly ErrorDetail[],
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

/**
 * How a group of routes writes the suite's errors, when its clients expect another body: the ML proxy's
 * /v2 routes answer `{ error, code }` because Open Inference Protocol clients (tritonclient, KServe's SDK)
 * read `error`. Set on a plugin scope with `setErrorFormat` (error-handler.ts) before its routes; from then
 * on every error the kit answers there (validation, 404/405, 413/414/415, load shedding, deadlines,
 * shutdown, 500) is `format(body)`, and `schema` is what its routes document for those statuses.
 */
export interface ErrorFormat {
  /** The zod schema of a formatted error body: documented in OpenAPI and checked by the serializer. */
  readonly schema: z.ZodType;
  /** The suite's `{ code, message, details? }` in this format. */
  format(body: ErrorBody): unknown;
}
