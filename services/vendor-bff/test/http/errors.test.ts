import { AppError, toErrorAnswer } from '@eta/service-kit';
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../src/http/errors.ts';
import {
  adminStoreNotFound,
  outOfServiceArea,
  preconditionRequired,
  storeNotFound,
} from '../../src/errors.ts';

// The one mapping of coded errors to HTTP, for the estimate and the admin routes alike.
describe('toHttpError', () => {
  const answer = (err: unknown) => {
    const mapped = toHttpError(err);
    expect(mapped).toBeInstanceOf(AppError);
    const { statusCode, body } = toErrorAnswer(mapped);
    return { statusCode, body };
  };

  it.each<[string, unknown, ReturnType<typeof answer>]>([
    [
      'an EstimateError, naming its field like a validation error',
      storeNotFound(7),
      {
        statusCode: 404,
        body: {
          code: 'STORE_NOT_FOUND',
          message: 'no store with id 7',
          details: [{ path: 'body.storeId', message: 'no store with id 7' }],
        },
      },
    ],
    [
      'an EstimateError about another request’s field',
      outOfServiceArea().about('querystring.lat'),
      {
        statusCode: 422,
        body: {
          code: 'OUT_OF_SERVICE_AREA',
          message: 'the destination is outside the service area (Seoul)',
          details: [
            { path: 'querystring.lat', message: 'the destination is outside the service area (Seoul)' },
          ],
        },
      },
    ],
    [
      'an AdminError with its details as they are',
      adminStoreNotFound(7),
      {
        statusCode: 404,
        body: {
          code: 'STORE_NOT_FOUND',
          message: 'no store with id 7',
          details: [{ path: 'params.id', message: 'no such store' }],
        },
      },
    ],
    [
      'an AdminError without details',
      preconditionRequired(),
      {
        statusCode: 428,
        body: { code: 'PRECONDITION_REQUIRED', message: preconditionRequired().message },
      },
    ],
  ])('%s: its status, code, message and details', (_name, err, expected) => {
    expect(answer(err)).toEqual(expected);
  });

  it('anything else passes through unchanged for the kit’s handler', () => {
    const plain = new Error('bug');
    const app = new AppError(409, 'CONFLICT', 'taken');
    expect(toHttpError(plain)).toBe(plain);
    expect(toHttpError(app)).toBe(app);
    expect(toHttpError('thrown string')).toBe('thrown string');
  });
});
