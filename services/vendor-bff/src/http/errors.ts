import { AppError } from '@eta/service-kit';
import { CodedError } from '../errors.ts';

/**
 * The one mapping of the BFF's coded errors (errors.ts: EstimateError, AdminError) to the kit's error
 * form, for the estimate and the admin routes alike: status, code, message and details as they are.
 * Anything else is returned unchanged for the kit's handler (a 500 unless it is already an AppError).
 */
export function toHttpError(err: unknown): unknown {
  if (!(err instanceof CodedError)) return err;
  return new AppError(err.statusCode, err.code, err.message, err.details);
}
