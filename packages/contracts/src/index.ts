export { ERROR_CODES, ErrorBody, ErrorDetail, type ErrorCode } from './errors.ts';
export { REQUEST_ID_HEADER, REQUEST_TIMEOUT_HEADER } from './headers.ts';
export {
  HTTP_CLIENT_REQUEST_DURATION_SECONDS,
  HTTP_PARSER_ERRORS_TOTAL,
  HTTP_QUEUE_DELAY_SECONDS,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_REQUESTS_IN_FLIGHT,
  HTTP_REQUESTS_SHED_TOTAL,
} from './metrics.ts';
export * from './geo.ts';
export * from './estimates.ts';
export * from './stores.ts';
export * from './admin.ts';
export * from './v2.ts';
export * from './events/index.ts';
export * from './training.ts';
