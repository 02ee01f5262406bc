import type { ErrorCode, ErrorDetail } from '@eta/contracts';

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
