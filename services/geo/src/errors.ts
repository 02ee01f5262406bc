import { AppError } from '@eta/service-kit';
import { GeoInputError } from './domain/index.ts';

/**
 * The HTTP schemas reject bad coordinates before the domain sees them, so a GeoInputError reaching a
 * handler means the two disagree; it is still the client's input the domain refused, so it is answered as
 * the 400 it is (same form as a schema failure, the domain's code kept in the message) rather than a 500.
 */
export function toHttpError(err: unknown, bodyPath: string): unknown {
  if (!(err instanceof GeoInputError)) return err;
  const path = `${bodyPath}.${err.field}`;
  return new AppError(400, 'VALIDATION_ERROR', `${path}: ${err.message} (${err.code})`, [
    { path, message: err.message },
  ]);
}
