/**
 * Error kinds the generator reports. `http_<status>` covers every non-2xx response (`http_503`);
 * the others name where a request failed, which is what tells a server problem (`http_5xx`,
 * `timeout`) from a network or client one (`connect`, `socket`) when reading a run.
 */
export type ErrorKind =
  `http_${number}` | 'timeout' | 'connect' | 'socket' | 'body_check' | 'dropped_inflight_cap' | 'other';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const SOCKET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'HPE_INVALID_CONSTANT',
]);

/** Maps a transport error (from undici or the socket) to an error kind. */
export function classifyError(err: unknown): ErrorKind {
  const code = errorCode(err);
  if (code === undefined) return 'other';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (SOCKET_CODES.has(code) || code.startsWith('HPE_')) return 'socket';
  return 'other';
}

function errorCode(err: unknown): string | undefined {
  // Connection failures sometimes arrive wrapped (AggregateError for happy-eyeballs, or `cause`).
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner =
      (e as { errors?: unknown[]; cause?: unknown }).errors?.[0] ?? (e as { cause?: unknown }).cause;
    e = inner;
  }
  return undefined;
}

export function httpErrorKind(status: number): ErrorKind {
  return `http_${status}`;
}
