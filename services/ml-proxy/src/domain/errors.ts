/**
 * Errors the inference domain raises. The V2 route plugin maps `kind` to an HTTP status and answers
 * `{ "error": message }` as the Open Inference Protocol asks; messages are written for the caller.
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

export class InferenceError extends Error {
  readonly kind: InferenceErrorKind;

  constructor(kind: InferenceErrorKind, message: string) {
    super(message);
    this.name = 'InferenceError';
    this.kind = kind;
  }
}

export const badRequest = (message: string) => new InferenceError('bad_request', message);
export const notFound = (message: string) => new InferenceError('not_found', message);
export const unavailable = (message: string) => new InferenceError('unavailable', message);
export const deadlineExceeded = (message: string) => new InferenceError('deadline', message);
