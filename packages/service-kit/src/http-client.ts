import { performance } from 'node:perf_hooks';
import {
  ErrorBody,
  HTTP_CLIENT_REQUEST_DURATION_SECONDS,
  REQUEST_ID_HEADER,
  REQUEST_TIMEOUT_HEADER,
} from '@eta/contracts';
import { Histogram, type Registry } from 'prom-client';
import { Pool } from 'undici';
import type { z } from 'zod';
import type { DeadlineLike } from './deadline.ts';

/**
 * Why an upstream call failed, so a caller can pick its fallback: `timeout` (the budget ran out; a retry
 * has no budget either), `connect` (nothing answered: refused, reset, DNS), `status` (it answered 4xx/5xx),
 * `bad-body` (it answered 2xx with something that is not the expected JSON).
 */
export type UpstreamErrorKind = 'timeout' | 'connect' | 'status' | 'bad-body';

export class UpstreamError extends Error {
  readonly kind: UpstreamErrorKind;
  /** The client's name, i.e. which dependency failed. */
  readonly upstream: string;
  readonly statusCode: number | undefined;
  /** The upstream's error body when it answered in the suite's `{ code, message }` form. */
  readonly body: ErrorBody | undefined;

  constructor(
    kind: UpstreamErrorKind,
    upstream: string,
    message: string,
    extra: { statusCode?: number; body?: ErrorBody; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'UpstreamError';
    this.kind = kind;
    this.upstream = upstream;
    this.statusCode = extra.statusCode;
    this.body = extra.body;
  }
}

export interface HttpClientOptions {
  /** The dependency's name, e.g. `geo`; in errors and metrics. */
  readonly name: string;
  /** `http://geo:8080`; paths are relative to it. */
  readonly origin: string;
  /** Default per-call timeout; a call may ask for less, and an inbound deadline may cut it further. */
  readonly timeoutMs: number;
  /** Keep-alive connections to the origin at most; more concurrent calls queue. Default 16. */
  readonly connections?: number;
  /** Records `http_client_request_duration_seconds` here when given (usually `app.metricsRegistry`). */
  readonly metricsRegistry?: Registry;
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequestOptions {
  readonly method: HttpMethod;
  /** Starts with `/`; may carry a query string, or pass `query`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** At most this long for this call; defaults to the client's timeoutMs. */
  readonly timeoutMs?: number;
  /** The inbound request's deadline (`request.deadline`): the call never outlives it. */
  readonly deadline?: DeadlineLike;
  /** Forwarded as `x-request-id` so the upstream's log lines join ours. */
  readonly requestId?: string;
}

export interface HttpResponse<T> {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON (validated when a schema was given); undefined for an empty body. */
  readonly body: T;
}

export interface HttpClient {
  readonly name: string;
  request<S extends z.ZodType>(req: HttpRequestOptions & { schema: S }): Promise<HttpResponse<z.output<S>>>;
  request(req: HttpRequestOptions): Promise<HttpResponse<unknown>>;
  /** Waits for in-flight calls, then closes the connections; call it in the app's onClose hook. */
  close(): Promise<void>;
}

/** undici's own timeouts are timeouts too, not connection failures: the caller's fallback differs. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function clientHistogram(registry: Registry): Histogram<'client' | 'method' | 'outcome'> {
  // Several clients share one registry; the metric is registered once and labelled by client.
  const existing = registry.getSingleMetric(HTTP_CLIENT_REQUEST_DURATION_SECONDS);
  if (existing) return existing as Histogram<'client' | 'method' | 'outcome'>;
  return new Histogram({
    name: HTTP_CLIENT_REQUEST_DURATION_SECONDS,
    help: 'Outbound HTTP call duration, by upstream, method and outcome (status code or error kind).',
    labelNames: ['client', 'method', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}

function withQuery(path: string, query: HttpRequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const qs = params.toString();
  if (qs === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

/**
 * An HTTP client for one upstream on an undici keep-alive Pool. Every call has a deadline: the smallest of
 * its own timeout and the inbound request's remaining budget, and that budget is sent along in
 * `x-request-timeout-ms` so the upstream stops working when we stop waiting.
 */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const origin = new URL(opts.origin).origin;
  const pool = new Pool(origin, {
    connections: opts.connections ?? 16,
    // Shorter than Node's server keep-alive (5 s) and Fastify's (72 s): we drop idle sockets before the
    // upstream does, which avoids the request-on-a-closing-socket race (ECONNRESET).
    keepAliveTimeout: 4_000,
  });
  const histogram = opts.metricsRegistry ? clientHistogram(opts.metricsRegistry) : undefined;

  async function request(req: HttpRequestOptions & { schema?: z.ZodType }): Promise<HttpResponse<unknown>> {
    if (!req.path.startsWith('/')) {
      throw new TypeError(`${opts.name}: path must start with "/", got ${JSON.stringify(req.path)}`);
    }
    const started = performance.now();
    const budgetMs = Math.floor(
      Math.min(req.timeoutMs ?? opts.timeoutMs, req.deadline ? req.deadline.remainingMs() : Infinity),
    );
    const label = `${opts.name}: ${req.method} ${req.path}`;
    const observe = (outcome: string) =>
      histogram?.observe(
        { client: opts.name, method: req.method, outcome },
        (performance.now() - started) / 1000,
      );
    if (!(budgetMs > 0)) {
      observe('timeout');
      throw new UpstreamError('timeout', opts.name, `${label}: no time budget left, not sent`);
    }

    const headers: Record<string, string> = {
      accept: 'application/json',
      ...req.headers,
      [REQUEST_TIMEOUT_HEADER]: String(budgetMs),
    };
    if (req.requestId !== undefined) headers[REQUEST_ID_HEADER] = req.requestId;
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }

    const abort = new AbortController();
    // The deadline aborts from the check phase (setImmediate), not from the timer itself: after a busy
    // turn the event loop runs expired timers BEFORE it polls the sockets, so an answer that arrived in
    // time, while this process was busy with other requests, would be thrown away as a timeout and its
    // request answered degraded. One poll phase in between lets such an answer through; a dependency that
    // really did not answer is cut one turn later.
    let finished = false;
    let cut: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => {
      cut = setImmediate(() => {
        if (!finished) abort.abort();
      });
    }, budgetMs);
    let statusCode: number;
    let responseHeaders: HttpResponse<unknown>['headers'];
    let text: string;
    try {
      const res = await pool.request({
        origin,
        method: req.method,
        path: withQuery(req.path, req.query),
        headers,
        body: payload ?? null,
        signal: abort.signal,
      });
      statusCode = res.statusCode;
      responseHeaders = res.headers;
      // Always read the body, error answers included: an unread body pins the socket.
      text = await res.body.text();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (abort.signal.aborted || (typeof code === 'string' && TIMEOUT_CODES.has(code))) {
        observe('timeout');
        throw new UpstreamError('timeout', opts.name, `${label}: no answer within ${budgetMs} ms`, {
          cause: err,
        });
      }
      observe('connect');
      throw new UpstreamError('connect', opts.name, `${label}: ${String(code ?? (err as Error).message)}`, {
        cause: err,
      });
    } finally {
      finished = true;
      clearTimeout(timer);
      if (cut !== undefined) clearImmediate(cut);
    }

    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      if (statusCode < 400) {
        observe('bad-body');
        throw new UpstreamError('bad-body', opts.name, `${label}: answer is not JSON`, {
          statusCode,
          cause: err,
        });
      }
    }

    if (statusCode >= 400) {
      observe(String(statusCode));
      const parsed = ErrorBody.safeParse(body);
      const code = parsed.success ? ` ${parsed.data.code}` : '';
      throw new UpstreamError('status', opts.name, `${label}: answered ${statusCode}${code}`, {
        statusCode,
        ...(parsed.success ? { body: parsed.data } : {}),
      });
    }

    if (req.schema) {
      const parsed = req.schema.safeParse(body);
      if (!parsed.success) {
        observe('bad-body');
        const issue = parsed.error.issues[0];
        const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
        throw new UpstreamError('bad-body', opts.name, `${label}: unexpected answer (${where})`, {
          statusCode,
          cause: parsed.error,
        });
      }
      body = parsed.data;
    }
    observe(String(statusCode));
    return { statusCode, headers: responseHeaders, body };
  }

  return {
    name: opts.name,
    request: request as HttpClient['request'],
    close: () => pool.close(),
  };
}
