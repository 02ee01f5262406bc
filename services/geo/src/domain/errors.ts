/**
 * Coded domain errors. The HTTP layer maps GeoInputError to a 400 with the same `code`; GeoDataError only
 * happens at start (a missing or corrupt data file) and should stop the process before it turns ready.
 */
export type GeoInputErrorCode = 'INVALID_COORDINATES' | 'BATCH_TOO_LARGE' | 'INVALID_BATCH';

export class GeoInputError extends Error {
  readonly code: GeoInputErrorCode;
  /** Where in the input the problem is, e.g. `origin.lat` or `others[12].lng`. */
  readonly field: string;

  constructor(code: GeoInputErrorCode, field: string, message: string) {
    super(message);
    this.name = 'GeoInputError';
    this.code = code;
    this.field = field;
  }
}

export class GeoDataError extends Error {
  readonly code = 'GEODATA_INVALID';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GeoDataError';
  }
}
