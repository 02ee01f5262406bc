/** Metric names shared by every service, defined once so dashboards and alerts match all of them. */

/** Histogram by `method`, `route` (the route pattern, never the raw URL) and `status_code`. */
export const HTTP_REQUEST_DURATION_SECONDS = 'http_request_duration_seconds';

/** Counter by `reason` (eventLoopDelay, heapUsedBytes, rssBytes, healthCheck ...): requests shed with 503. */
export const HTTP_REQUESTS_SHED_TOTAL = 'http_requests_shed_total';
/**
 * Counter by `code` (REQUEST_TIMEOUT, HEADERS_TOO_LARGE, BAD_REQUEST): connections the HTTP parser's error
 * handler answered and closed.
 */
export const HTTP_PARSER_ERRORS_TOTAL = 'http_parser_errors_total';
/** Gauge: requests admitted and not yet answered (what MAX_IN_FLIGHT limits). */
export const HTTP_REQUESTS_IN_FLIGHT = 'http_requests_in_flight';
/** Gauge: the event loop's latest lag sample, seconds (what a request waits before its handler runs). */
export const HTTP_QUEUE_DELAY_SECONDS = 'http_queue_delay_seconds';

/** Histogram by `client` (upstream name), `method` and `outcome` (a status code or an error kind). */
export const HTTP_CLIENT_REQUEST_DURATION_SECONDS = 'http_client_request_duration_seconds';
