/**
 * Errors the inference domain raises. The V2 route plugin maps `kind` to an HTTP status and answers
 * `{ "error": message, "code": code }`: `error` is what the Open Inference Protocol asks for (V2 SDKs
 * show it), `code` is the suite's stable, machine-readable name of the problem; messages are written for
 * the caller and may change, codes do not.
 */
export type InferenceErrorKind =
  /** The request is wrong (tensor name, shape, datatype, values, row count): HTTP 400. */
  | 'bad_request'
  /** Unknown model or version: HTTP 404. */
  | 'not_found'
  /** Known but not (yet) servable, or the backend failed with no fallback allowed: HTTP 503. */
  | 'unavailable'
  /** The model missed its deadline and no fallback is allowed: HTTP 504. */
  | 'deadline';

/** Codes the domain gives; each kind has a default, and specific problems a code of their own. */
export type InferenceErrorCode =
  | 'BAD_REQUEST'
  | 'NOT_FOUND'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  /** A value outside the range the model's metadata declares for its feature (`valid_range`). */
  | 'INPUT_OUT_OF_RANGE'
  /** null / NaN ("unknown") for a feature whose metadata does not allow missing values. */
  | 'MISSING_VALUE_NOT_ALLOWED'
  /** A categorical feature's value that is not one of its codes (metadata `encoding`). */
  | 'UNKNOWN_CATEGORY'
  | 'MODEL_NOT_FOUND'
  | 'VERSION_NOT_FOUND';

const DEFAULT_CODE: Record<InferenceErrorKind, InferenceErrorCode> = {
  bad_request: 'BAD_REQUEST',
  not_found: 'NOT_FOUND',
  unavailable: 'UNAVAILABLE',
  deadline: 'DEADLINE_EXCEEDED',
};

export class InferenceError extends Error {
  readonly kind: InferenceErrorKind;
  readonly code: InferenceErrorCode;

  constructor(kind: InferenceErrorKind, message: string, code: InferenceErrorCode = DEFAULT_CODE[kind]) {
    super(message);
    this.name = 'InferenceError';
    this.kind = kind;
    this.code = code;
  }
}

export const badRequest = (message: string, code?: InferenceErrorCode) =>
  new InferenceError('bad_request', message, code);
export const notFound = (message: string, code?: InferenceErrorCode) =>
  new InferenceError('not_found', message, code);
export const unavailable = (message: string) => new InferenceError('unavailable', message);
export const deadlineExceeded = (message: string) => new InferenceError('deadline', message);
