/**
 * The estimate path's coded errors. Plain errors (no framework), so domain code can throw them; the HTTP
 * layer maps them to `{ code, message, details }` with their status. Codes are part of the public contract
 * (`ESTIMATE_ERROR_CODES` in @eta/contracts) and never renamed.
 */
import type { EstimateErrorCode } from '@eta/contracts';

const STATUS: Readonly<Record<EstimateErrorCode, number>> = {
  STORE_NOT_FOUND: 404,
  OUT_OF_SERVICE_AREA: 422,
};

export class EstimateError extends Error {
  readonly code: EstimateErrorCode;
  readonly statusCode: number;
  /** The request field the error is about, dotted like validation paths (`body.storeId`). */
  readonly field: string;

  constructor(code: EstimateErrorCode, field: string, message: string) {
    super(message);
    this.name = 'EstimateError';
    this.code = code;
    this.statusCode = STATUS[code];
    this.field = field;
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
