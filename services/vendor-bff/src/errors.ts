/**
 * The BFF's coded errors. Plain errors (no framework), so domain code can throw them; http/errors.ts maps
 * every one of them, in one place, to `{ code, message, details }` with its status. Codes are part of the
 * public contract (`ESTIMATE_ERROR_CODES`, `ADMIN_ERROR_CODES` and the shared `ERROR_CODES` in
 * @eta/contracts) and never renamed.
 */
import type { AdminErrorCode, ErrorCode, ErrorDetail, EstimateErrorCode } from '@eta/contracts';

/** What the HTTP layer answers with, as it is: status, stable code, a message for the client, details. */
export abstract class CodedError extends Error {
  abstract readonly code: string;
  readonly statusCode: number;
  readonly details: readonly ErrorDetail[] | undefined;

  constructor(statusCode: number, message: string, details?: readonly ErrorDetail[]) {
    super(message);
    this.statusCode = statusCode;
    this.details = details;
  }
}

// ---------------------------------------------------------------------------------------------------
// The estimate path

const ESTIMATE_STATUS: Readonly<Record<EstimateErrorCode, number>> = {
  STORE_NOT_FOUND: 404,
  OUT_OF_SERVICE_AREA: 422,
};

export class EstimateError extends CodedError {
  readonly code: EstimateErrorCode;
  /** The request field the error is about, dotted like validation paths (`body.storeId`). */
  readonly field: string;

  constructor(code: EstimateErrorCode, field: string, message: string) {
    super(ESTIMATE_STATUS[code], message, [{ path: field, message }]);
    this.name = 'EstimateError';
    this.code = code;
    this.field = field;
  }

  /** The same error about another request's field (a caller whose request names things differently). */
  about(field: string): EstimateError {
    return new EstimateError(this.code, field, this.message);
  }
}

export function storeNotFound(storeId: number, field = 'body.storeId'): EstimateError {
  return new EstimateError('STORE_NOT_FOUND', field, `no store with id ${storeId}`);
}

export function outOfServiceArea(): EstimateError {
  return new EstimateError(
    'OUT_OF_SERVICE_AREA',
    'body.destination',
    'the destination is outside the service area (Seoul)',
  );
}

// ---------------------------------------------------------------------------------------------------
// The store-owner admin API

const ADMIN_STATUS = {
  VALIDATION_ERROR: 400,
  FORBIDDEN: 403,
  STORE_NOT_FOUND: 404,
  PRECONDITION_REQUIRED: 428,
  UPSTREAM_ERROR: 503,
} as const satisfies Partial<Record<AdminErrorCode | ErrorCode, number>>;

export class AdminError extends CodedError {
  readonly code: keyof typeof ADMIN_STATUS;

  constructor(code: keyof typeof ADMIN_STATUS, message: string, details?: readonly ErrorDetail[]) {
    super(ADMIN_STATUS[code], message, details);
    this.name = 'AdminError';
    this.code = code;
  }
}

/** Another owner's store and a store that does not exist get this same answer, so ids cannot be probed. */
export function adminStoreNotFound(storeId: number): AdminError {
  return new AdminError('STORE_NOT_FOUND', `no store with id ${storeId}`, [
    { path: 'params.id', message: 'no such store' },
  ]);
}

/** A route for operators asked by an owner. */
export function operatorsOnly(): AdminError {
  return new AdminError('FORBIDDEN', 'only operators may read every store; ask for one of your stores');
}

/** A write without If-Match: a blind overwrite of somebody else's edit is refused. */
export function preconditionRequired(): AdminError {
  return new AdminError(
    'PRECONDITION_REQUIRED',
    "send If-Match with the ETag of the settings you edited, so nobody else's change is overwritten",
  );
}

/** 400 like a schema failure: the first problem in the message, all of them in `details`. */
export function invalidInput(details: readonly [ErrorDetail, ...ErrorDetail[]]): AdminError {
  return new AdminError('VALIDATION_ERROR', `${details[0].path}: ${details[0].message}`, details);
}

/** The store database failed (the message says what did not happen, for the client). */
export function databaseUnavailable(message: string): AdminError {
  return new AdminError('UPSTREAM_ERROR', message);
}
