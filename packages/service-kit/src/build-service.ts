import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { BaseServiceConfig } from '@eta/config';
import {
  ErrorBody,
  HTTP_REQUEST_DURATION_SECONDS,
  HTTP_QUEUE_DELAY_SECONDS,
  HTTP_REQUESTS_IN_FLIGHT,
  HTTP_PARSER_ERRORS_TOTAL,
  HTTP_REQUESTS_SHED_TOTAL,
  REQUEST_ID_HEADER,
  REQUEST_TIMEOUT_HEADER,
} from '@eta/contracts';
import underPressure from '@fastify/under-pressure';
import {
  fastify,
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { createAdmission, type Refusal } from './admission.ts';
import { Deadline, inboundBudgetMs } from './deadline.ts';
import {
  createClientErrorHandler,
  errorFormatForUrl,
  errorFormatOf,
  errorFormatOfScope,
  errorHandler,
  frameworkErrorHandler,
  initErrorFormats,
  MAX_PARAM_LENGTH,
  type ParserErrorAnswer,
  notFoundHandler,
  pathOf,
} from './error-handler.ts';
import { AppError, type ErrorFormat } from './errors.ts';
import { createCloseSteps, type CloseProgress } from './close-steps.ts';
import { createLogger } from './logger.ts';
import { registerOpenApi, type OpenApiOptions } from './openapi.ts';
import { createReadiness, type Readiness } from './readiness.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** `/readyz` checks; adapters add theirs when created. */
    readiness: Readiness;
    /** Register service metrics here; `/metrics` exposes this registry. */
    metricsRegistry: Registry;
    /**
     * Work that makes the first requests as fast as the later ones (caches filled, code paths compiled,
     * connections open). runService runs it before listening, so the pod is not in the Service (nor past
     * its startup probe) until it is warm; tests that inject never run it.
     */
    warmUps: WarmUp[];
    /** Every route registered so far, as Fastify's onRoute hook saw it (HEAD twins of GET routes included). */
    registeredRoutes(): readonly RegisteredRoute[];
    /**
     * Registers a close as a named onClose step (adapters, clients, pools), so a shutdown that runs past
     * its timeout logs which step it was in, and a clean one how long each took. Fastify runs onClose
     * hooks last-registered first, after the listener closed and the last connection ended.
     */
    closeStep(name: string, close: () => unknown): void;
    /** Where closing stands: the listener, its connections, requests in flight and each close step. */
    closeProgress(): CloseProgress;
  }
  interface FastifyRequest {
    /** When the answer is due; pass it to outbound calls so they give up when nobody waits any more. */
    deadline: Deadline;
  }
  interface FastifyContextConfig {
    /** Probe and metrics routes: no request log line, no latency sample, never shed. */
    probe?: boolean;
  }
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

export interface WarmUp {
  readonly name: string;
  /** Must give up by the deadline; a failure is logged and start-up goes on. */
  run(deadline: Deadline): Promise<void>;
}

export type ServiceApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface LoadSheddingOptions {
  /** Shed when heap in use exceeds this many bytes. Off when omitted. */
  readonly maxHeapUsedBytes?: number;
  /** Shed when resident memory exceeds this many bytes. Off when omitted. */
  readonly maxRssBytes?: number;
  /** Shed when event loop utilisation (0..1) exceeds this. Off when omitted. */
  readonly maxEventLoopUtilization?: number;
  /** Extra signal: shed while this returns false (for example a saturated connection pool). */
  readonly healthCheck?: () => Promise<boolean> | boolean;
  readonly healthCheckIntervalMs?: number;
  /** How often pressure is sampled. Default 1000 ms. */
  readonly sampleIntervalMs?: number;
  /** Seconds in the `Retry-After` of a shed request. Default 1: saturation is usually brief. */
  readonly retryAfterSeconds?: number;
}

export interface BuildServiceOptions {
  /** The service name: logs, metrics, traces (conventions: one name everywhere). */
  readonly name: string;
  readonly config: BaseServiceConfig;
  readonly version?: string;
  /** Where log lines go; stdout when omitted. Tests pass a stream to read lines back. */
  readonly logStream?: DestinationStream;
  /** Load shedding beyond MAX_EVENT_LOOP_DELAY_MS from config. */
  readonly loadShedding?: LoadSheddingOptions;
  /** Per-check timeout for `/readyz`. Default 1000 ms, below the kubelet's 1 s probe timeout default. */
  readonly readinessCheckTimeoutMs?: number;
  /**
   * How long a connection may take to send a request's head (method, path, headers) before it is answered
   * 408 and closed; counted from the connection's start for its first request. Default 10 s.
   */
  readonly headersTimeoutMs?: number;
  /** Largest accepted request body. Default 1 MiB. */
  readonly bodyLimit?: number;
  /** Node's default process metrics (CPU, heap, GC, event loop lag). Default true. */
  readonly defaultMetrics?: boolean;
  /**
   * The OpenAPI 3.1 document at `GET /openapi.json`, generated from the routes' zod schemas when the app is
   * ready (info.version is `version`). On by default; `false` turns it off.
   */
  readonly openapi?: OpenApiOptions | false;
}

/** BuildServiceOptions.headersTimeoutMs' default (HAProxy's usual `timeout http-request`). */
const HEADERS_TIMEOUT_MS = 10_000;

/** What a shed request is told, by admission control and by the pressure signals alike. */
const OVERLOADED_MESSAGE = 'server is overloaded; retry later';

/** Milliseconds suit an ETA service: most answers take single-digit ms, the budget is seconds. */
const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Request ids are written into every log line and echoed to clients, so a caller's id is only taken when
 * it is short and plain; anything else (log injection, megabyte headers) gets a fresh one.
 */
const SAFE_REQUEST_ID = /^[\w.:@+=/-]{1,128}$/;

function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

const deadlineTimers = new WeakMap<FastifyRequest, NodeJS.Timeout>();

/** Set on a raw request once admission in front of Fastify has decided it (admitted, or passed as a probe). */
const kAdmissionDecided = Symbol('eta.admissionDecided');
type AdmittedMessage = IncomingMessage & { [kAdmissionDecided]?: true };

/** The duration histogram's `route` for requests refused before routing (no route known yet). */
const REFUSED_ROUTE = '(refused)';

/** Methods that carry a body Fastify parses: their routes can also answer 413 and 415. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * The error statuses the kit itself may answer on a route, whatever its handler does: 400 (validation, a
 * negative x-request-timeout-ms, malformed JSON), 500, 503 (shedding, shutdown) and 504 (deadline); 413
 * and 415 where a body is read; 414 where the path has parameters.
 */
function kitErrorStatuses(methods: readonly string[], url: string): number[] {
  const statuses = [400, 500, 503, 504];
  if (methods.some((m) => !BODYLESS_METHODS.has(m))) statuses.push(413, 415);
  if (/(^|[^:]):[^:]/.test(url)) statuses.push(414);
  return statuses.sort((a, b) => a - b);
}

/**
 * The route's response schemas with the kit's error statuses added where the route declares none (nor a
 * `4xx`/`5xx` range), in the error format of its scope: the serializer checks those answers too, and the
 * OpenAPI document lists every status a client can get. A route without response schemas gets only these.
 */
function withKitErrors(
  response: unknown,
  methods: readonly string[],
  url: string,
  format: ErrorFormat,
): Record<string, unknown> {
  const declared: Record<string, unknown> =
    typeof response === 'object' && response !== null ? { ...(response as Record<string, unknown>) } : {};
  for (const status of kitErrorStatuses(methods, url)) {
    const key = String(status);
    if (key in declared || `${key[0]}xx` in declared || `${key[0]}XX` in declared) continue;
    declared[key] = format.schema;
  }
  return declared;
}

/**
 * An answer sent before the body was read (a refused credential, a shed or invalid request, a GET with a
 * body) leaves Node to read the rest off the wire and discard it, to keep the connection: one small
 * answer could cost a 50 MB, or an endless chunked, upload. Such an answer closes the connection instead
 * when the body is chunked or declared over the route's limit, as Fastify's own 413 does; a small body is
 * drained and the connection kept.
 */
function unreadBodyTooLarge(raw: IncomingMessage, bodyLimit: number): boolean {
  if (raw.complete) return false;
  const length = Number(raw.headers['content-length'] ?? 0);
  return raw.headers['transfer-encoding'] !== undefined || length > bodyLimit;
}

/**
 * How long a connection closed with an unread body stays half-open after its answer (nginx's
 * lingering_timeout is the same 5 s): enough for any client to read the answer, short enough that a
 * refused upload holds its socket's buffers briefly.
 */
const LINGER_MS = 5_000;

/**
 * Closes `socket`, once its answer is written, the way servers have to when the client may still be sending
 * (RFC 9112 section 9.6, "lingering close"): a FIN after the answer, then no more reading, then the close
 * once the linger is over. Node's own close (`destroySoon`: end, then close) leaves the rest of the upload
 * unread in the kernel, and closing a socket with unread bytes makes the kernel send a reset instead of a
 * FIN; a reset can reach the client before it has read the answer, and a client that is still writing (as
 * every uploader is) then sees ECONNRESET or EPIPE and never the 413 (seen in CI). Not reading any more is
 * what keeps the rest of the upload unread: the client's writes stall once the socket buffers fill, so it
 * reads the answer and the FIN and leaves. Node's http server calls `destroySoon` on a connection whose
 * answer said `Connection: close`; this replaces it on that one socket. `lingering` holds the sockets
 * lingering now, which the app's close ends at once (their answers are written).
 */
function closeLingering(socket: Socket, lingering: Set<Socket>): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket): void {
    if (this.destroyed) return;
    lingering.add(this);
    const stopReading = () => {
      if (!this.destroyed) this.pause();
    };
    // The http server resumes a consumed socket asynchronously ('resume' is emitted on the next tick) after
    // dumping the request: pause again once that has run.
    stopReading();
    setImmediate(stopReading);
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => {
      clearTimeout(timer);
      lingering.delete(this);
    });
  };
}

function disarmDeadline(request: FastifyRequest): void {
  const timer = deadlineTimers.get(request);
  if (timer !== undefined) {
    clearTimeout(timer);
    deadlineTimers.delete(request);
  }
}

/**
 * Builds a Fastify instance with the suite's cross-cutting behaviour (logs, request ids, deadlines,
 * errors, probes, metrics, load shedding). It does not listen: main.ts hands it to runService, tests
 * use `inject`. Register routes on it after it resolves.
 */
export async function buildService(opts: BuildServiceOptions): Promise<ServiceApp> {
  const { config } = opts;
  const logger = createLogger({
    name: opts.name,
    level: config.LOG_LEVEL,
    version: opts.version,
    stream: opts.logStream,
  });

  const bodyLimit = opts.bodyLimit ?? 1024 * 1024;
  // Counted and summed up once the registry and the app's log exist (below); nothing is served before.
  let parserErrorAnswered = (_answer: ParserErrorAnswer): void => undefined;
  const app = fastify({
    loggerInstance: logger,
    // Fastify's own two lines per request are replaced by one line in onResponse that probes skip.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's 414 and bad-URL answers, and Node's parser's 431/408/400, in the suite's error form.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: createClientErrorHandler((answer) => parserErrorAnswered(answer)),
    // Fastify's own closing answer is not in our error form; the onRequest hook below answers instead.
    return503OnClosing: false,
    // Node's whole-request receive limit, a backstop for slow uploads behind the per-request deadline.
    requestTimeout: config.REQUEST_TIMEOUT_MS + 1000,
    http: {
      // A connection that sends no complete request head within this is answered 408 and closed: a
      // caller on the cluster network sends its head in one packet, so only a connection left behind by
      // an overflowing accept queue or a slow-header client (slowloris) waits this long. Node's defaults
      // (60 s, checked every 30 s) let such a connection live 30-90 s; checked every second it lives
      // at most a second past the limit, and the same check enforces requestTimeout on time.
      headersTimeout: Math.min(opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS + 1000),
      connectionsCheckingInterval: 1_000,
    },
  }).withTypeProvider<ZodTypeProvider>() as unknown as ServiceApp;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // First of all hooks, so it sees every route (the kit's own included) before anything else reads them.
  const { routeMethods } = initErrorFormats(app);
  const registeredRoutes: RegisteredRoute[] = [];
  // The URL each route was registered with. Fastify registers `/` under a prefix twice (`/v2` and `/v2/`)
  // from one options object, whose `url` ends as the second; the document names the first, as onRoute saw it.
  const registeredUrls = new WeakMap<object, string>();
  /** Paths of the probe routes, which admission never refuses (it decides before routing). */
  const probePaths = new Set<string>();
  app.addHook('onRoute', function kitRoute(this: FastifyInstance, route) {
    registeredUrls.set(route, route.url);
    if (route.config?.probe === true) probePaths.add(route.url);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      routeMethods.add(method);
      registeredRoutes.push({ method, url: route.url });
    }
    const format = route.config?.errorFormat ?? errorFormatOfScope(this);
    route.config = { ...route.config, errorFormat: format };
    route.schema = {
      ...route.schema,
      response: withKitErrors(route.schema?.response, methods, route.url, format),
    };
  });
  app.decorate('registeredRoutes', () => registeredRoutes);

  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: HTTP_REQUEST_DURATION_SECONDS,
    help: 'Time from request arrival to the end of the response, by route pattern.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: DURATION_BUCKETS_SECONDS,
    registers: [registry],
  });
  const shed = new Counter({
    name: HTTP_REQUESTS_SHED_TOTAL,
    help: 'Requests answered 503 OVERLOADED by load shedding, by the pressure that triggered it.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const readiness = createReadiness(opts.readinessCheckTimeoutMs ?? 1000, ({ name, err }) =>
    app.log.warn({ err, check: name }, 'readiness check failed'),
  );
  app.decorate('readiness', readiness);
  app.decorate('metricsRegistry', registry);
  app.decorate('warmUps', [] as WarmUp[]);
  app.decorateRequest('deadline', null as unknown as Deadline);

  const shedding = opts.loadShedding ?? {};
  const retryAfter = shedding.retryAfterSeconds ?? 1;
  const admission = createAdmission({ maxInFlight: config.MAX_IN_FLIGHT, maxQueueMs: config.MAX_QUEUE_MS });
  /** Both limits off: no per-request bookkeeping at all (the in-flight gauge then stays 0). */
  const admissionOn = config.MAX_IN_FLIGHT > 0 || config.MAX_QUEUE_MS > 0;
  const release = (): void => admission.done();
  /**
   * Admits one request, or says why not. An admitted one is released when its response closes: sent, or its
   * connection gone (Node emits 'close' on every ServerResponse either way). Fastify's onResponse and
   * onRequestAbort hooks together missed requests whose client left mid-handler under overload, and the
   * leaked slots refused all traffic after it. 'close' comes once per response, so `on` with one shared
   * function: no wrapper per request.
   */
  const admit = (res: ServerResponse): Refusal | null => {
    const refused = admission.tryAdmit();
    if (refused === null) res.on('close', release);
    return refused;
  };
  const closeSteps = createCloseSteps();
  app.decorate('closeStep', function closeStep(name: string, close: () => unknown) {
    app.addHook('onClose', closeSteps.wrap(name, close));
  });
  let serverClosed = false;
  app.server.once('close', () => {
    serverClosed = true;
  });
  // Every open connection: its count for closeProgress, and the sweep of silent ones in preClose below (a
  // Set add and delete per connection, nothing per request).
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.decorate('closeProgress', function closeProgress(): CloseProgress {
    return {
      serverClosed,
      connections: connections.size,
      requestsInFlight: admission.inFlight(),
      steps: closeSteps.progress(),
    };
  });
  app.closeStep('admission', () => admission.close());
  new Gauge({
    name: HTTP_REQUESTS_IN_FLIGHT,
    help: 'Requests admitted and not yet answered (limited by MAX_IN_FLIGHT).',
    registers: [registry],
    collect() {
      this.set(admission.inFlight());
    },
  });
  new Gauge({
    name: HTTP_QUEUE_DELAY_SECONDS,
    help: "The event loop's latest lag sample: how long a request waits before its handler runs.",
    registers: [registry],
    collect() {
      this.set(admission.queuedMs() / 1000);
    },
  });

  // Planned refusals (503 OVERLOADED from admission or a pressure signal, 503 SHUTTING_DOWN while closing)
  // are counted on /metrics and summed up in the log, never written one line each: they come by the
  // thousand exactly when the process has the least CPU to spare, and each line is a write.
  const refusedRequests = new WeakSet<FastifyRequest>();
  const refusals = summedLog((counts, sinceMs) =>
    app.log.warn(
      { refused: counts, sinceMs },
      'requests refused (503): counts since the last such line; every refusal is on /metrics',
    ),
  );
  app.closeStep('refusal log', () => refusals.flush());

  // The HTTP parser's 408/431/400 answers (silent and slow-header connections, oversized heads, bytes that
  // are not HTTP) are summed up the same way: a slowloris attack, or the connections an overflowing accept
  // queue left behind, bring hundreds within the same second.
  const parserErrors = new Counter({
    name: HTTP_PARSER_ERRORS_TOTAL,
    help: "Connections answered by the HTTP parser's error handler and closed (408, 431, 400), by code.",
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const parserErrorLog = summedLog((counts, sinceMs) =>
    app.log.info(
      { connectionsClosed: counts, sinceMs },
      'connections answered by the HTTP parser and closed: counts since the last such line; each is on /metrics',
    ),
  );
  parserErrorAnswered = ({ statusCode, code }) => {
    parserErrors.inc({ code });
    parserErrorLog.note(`${statusCode} ${code}`);
  };
  app.closeStep('parser error log', () => parserErrorLog.flush());

  /** 503 OVERLOADED with Retry-After, in the route's error format (a V2 client finds its `error` too). */
  const refuseOverloaded = (request: FastifyRequest, reply: FastifyReply, reason: string): FastifyReply => {
    shed.inc({ reason });
    refusedRequests.add(request);
    refusals.note(`OVERLOADED/${reason}`);
    return reply
      .code(503)
      .header('retry-after', String(retryAfter))
      .send(errorFormatOf(request).format({ code: 'OVERLOADED', message: OVERLOADED_MESSAGE }));
  };

  let closing = false;
  const lingering = new Set<Socket>();
  app.addHook('preClose', async () => {
    closing = true;
    readiness.beginShutdown();
    for (const socket of lingering) socket.destroy();
    // Connections that never sent a byte. Node's server.close() ends the idle keep-alive ones, but it
    // counts a connection with nothing received yet as waiting for its first request's headers, and waits
    // for it (headersTimeout: 60 s). After an overload with the accept queue full, hundreds of those are
    // left whose client is long gone (seen: 192-233 after the chain bench's 15,000/s row, holding the
    // drain past SHUTDOWN_TIMEOUT_MS). Past the drain delay no client opens a connection here to send
    // nothing; one racing the close is the race the delay leaves for an idle socket (README, Shutdown).
    for (const socket of connections) {
      if (socket.bytesRead === 0) socket.destroy();
    }
  });

  // Admission decides in front of Fastify, on the server's own 'request' event: a refusal is then a
  // fixed answer written by node:http, without the request and reply objects, routing and hooks that
  // Fastify's onRequest would cost first, and refusals come by the thousand exactly when the event loop has
  // the least to spare. Scratch probe, one process answering only 503s at 2,000 / 4,000/s, CPU per
  // refusal: 141 / 107 µs in onRequest, 130 / 90 µs here, 105 / 74-76 µs for a bare node:http server.
  // Requests that do not come through the server (inject(), in tests) are admitted in onRequest below,
  // by the same rules.
  const overloadedBodies = new Map<ErrorFormat, Buffer>();
  const retryAfterHeader = String(retryAfter);
  const refuseBeforeRouting = (req: IncomingMessage, res: ServerResponse, reason: Refusal): void => {
    shed.inc({ reason });
    refusals.note(`OVERLOADED/${reason}`);
    duration.observe({ method: req.method ?? '', route: REFUSED_ROUTE, status_code: '503' }, 0);
    const format = errorFormatForUrl(app, req.url ?? '/');
    let body = overloadedBodies.get(format);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify(format.format({ code: 'OVERLOADED', message: OVERLOADED_MESSAGE })));
      overloadedBodies.set(format, body);
    }
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
      'retry-after': retryAfterHeader,
      [REQUEST_ID_HEADER]: requestIdOf(req),
    };
    // As onSend does for Fastify's answers: an upload too large to read past is cut off with a lingering
    // close (a smaller unread body Node reads and drops, keeping the connection), and a draining pod tells
    // its client to reconnect elsewhere.
    if (unreadBodyTooLarge(req, bodyLimit)) {
      headers['connection'] = 'close';
      closeLingering(req.socket, lingering);
    } else if (readiness.shuttingDown) {
      headers['connection'] = 'close';
    }
    res.writeHead(503, headers).end(body);
  };
  if (admissionOn) {
    const server = app.server;
    const routed = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    if (routed.length !== 1)
      throw new Error(`expected Fastify's one request listener, found ${routed.length}`);
    const fastifyHandler = routed[0]!;
    server.removeListener('request', fastifyHandler);
    server.on('request', function admitThenRoute(req: IncomingMessage, res: ServerResponse) {
      (req as AdmittedMessage)[kAdmissionDecided] = true;
      // Probes are never refused; while closing, onRequest answers SHUTTING_DOWN instead.
      if (closing || probePaths.has(pathOf(req.url ?? '/'))) return fastifyHandler(req, res);
      const refused = admit(res);
      if (refused !== null) return refuseBeforeRouting(req, res, refused);
      return fastifyHandler(req, res);
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (closing) {
      // Past the drain delay a request comes only on a new connection (the Service no longer routes here)
      // or on a keep-alive one its client left unused for the whole delay. It is not run: a coded 503 the
      // client may safely retry elsewhere, and `Connection: close` (onSend) so it reconnects to another pod.
      // Requests already in flight when closing began are answered as usual; app.close() waits for them.
      refusedRequests.add(request);
      refusals.note('SHUTTING_DOWN');
      return reply.code(503).send(
        errorFormatOf(request).format({
          code: 'SHUTTING_DOWN',
          message: 'server is shutting down; retry on another instance',
        }),
      );
    }
    const budgetMs = inboundBudgetMs(request.headers[REQUEST_TIMEOUT_HEADER], config.REQUEST_TIMEOUT_MS);
    // The time it waited for the event loop before this hook ran is already spent.
    request.deadline = new Deadline(Math.max(0, budgetMs), admission.queuedMs());
    if (budgetMs < 0) {
      // A budget below zero is a caller's bug, not a spent deadline: 400, so it is fixed rather than retried.
      const path = `headers.${REQUEST_TIMEOUT_HEADER}`;
      const message = 'must be a whole number of milliseconds, 0 or more';
      throw new AppError(400, 'VALIDATION_ERROR', `${path}: ${message}`, [{ path, message }]);
    }
    if (
      admissionOn &&
      request.routeOptions.config.probe !== true &&
      (request.raw as AdmittedMessage)[kAdmissionDecided] !== true
    ) {
      // A request that did not come through the server's listener (inject()): admitted here instead, by
      // the same rules, before the body is read and without the error handler's log line.
      const refused = admit(reply.raw);
      if (refused !== null) return refuseOverloaded(request, reply, refused);
    }
    if (budgetMs <= 0) {
      throw new AppError(504, 'DEADLINE_EXCEEDED', 'the caller sent no time budget left for this request');
    }
    deadlineTimers.set(
      request,
      setTimeout(() => {
        deadlineTimers.delete(request);
        if (reply.sent || reply.raw.headersSent || request.raw.destroyed) return;
        reply.send(
          new AppError(504, 'DEADLINE_EXCEEDED', `no answer within the request's ${budgetMs} ms budget`),
        );
      }, request.deadline.remainingMs()),
    );
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    // From the moment readiness fails (runService's drain, or app.close()), every answer, including one to
    // a request that was already in flight, says `Connection: close`, and Node closes the socket once it is
    // written. The client learns from the answer itself that the connection is finished, before it could
    // write another request on it: the one way to end a keep-alive connection that no request can race.
    // Its next request opens a new connection, which the Service routes to a pod still in its endpoints
    // (kube-proxy keeps an open connection on its pod after the pod left the endpoints, so without this a
    // pooled client goes on sending here until the listener closes, and loses what it sends then).
    //
    // Idle keep-alive sockets are deliberately NOT closed when the drain begins (no closeIdleConnections()
    // here): the socket a busy client left idle a moment ago is the one its next request is being written
    // to, and closing it loses that request (ECONNRESET / socket hang up; neither Node's http.Agent nor
    // undici retries a request whose socket closed under it). Every connection that carries a request
    // during SHUTDOWN_DELAY_MS is moved off by that request's answer; a connection its client left unused
    // for the whole delay is closed by Node's server.close() in app.close() (which closes idle sockets).
    // That last close is the only step that can race a request, and only one on such a long-idle socket.
    // Answers finished while closing need it too: the server only finishes closing when every socket is
    // gone, so an idle keep-alive one would hold shutdown to its timeout.
    if (unreadBodyTooLarge(request.raw, request.routeOptions.bodyLimit)) {
      reply.header('connection', 'close');
      closeLingering(request.raw.socket, lingering);
    } else if (readiness.shuttingDown) {
      reply.header('connection', 'close');
    }
    done(null, payload);
  });

  app.addHook('onRequestAbort', async (request) => disarmDeadline(request));

  const accessLog = opts.config.ACCESS_LOG;
  const slowMs = opts.config.SLOW_REQUEST_MS;
  const wantsAccessLog = (statusCode: number, elapsedMs: number): boolean =>
    accessLog === 'all' || (accessLog === 'errors-and-slow' && (statusCode >= 400 || elapsedMs >= slowMs));

  app.addHook('onResponse', async (request, reply) => {
    disarmDeadline(request);
    if (request.routeOptions.config.probe === true) return;
    const route = request.routeOptions.url ?? '(unmatched)';
    duration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (!wantsAccessLog(reply.statusCode, reply.elapsedTime) || refusedRequests.has(request)) return;
    request.log.info(
      {
        method: request.method,
        route,
        url: request.url,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request completed',
    );
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  const healthCheck = shedding.healthCheck;
  await app.register(underPressure, {
    // 0 turns a threshold off, matching MAX_EVENT_LOOP_DELAY_MS=0.
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: shedding.maxHeapUsedBytes ?? 0,
    maxRssBytes: shedding.maxRssBytes ?? 0,
    maxEventLoopUtilization: shedding.maxEventLoopUtilization ?? 0,
    sampleInterval: shedding.sampleIntervalMs ?? 1000,
    ...(healthCheck
      ? {
          healthCheck: async () => healthCheck(),
          healthCheckInterval: shedding.healthCheckIntervalMs ?? 1000,
        }
      : {}),
    // Sent here; under-pressure then calls the hook's next(), and Fastify runs nothing more for a reply
    // already sent (route.js runPreParsing).
    pressureHandler: async (request, reply, type) => {
      // Probes must keep answering under load: a liveness failure would restart a merely busy pod and
      // make the overload worse.
      if (request.routeOptions.config.probe === true) return;
      await refuseOverloaded(request, reply, type);
    },
  });

  if (opts.openapi !== false) {
    await registerOpenApi(app, {
      name: opts.name,
      version: opts.version ?? '0.0.0',
      urlOf: (route) => registeredUrls.get(route),
      ...opts.openapi,
    });
  }

  const probe = { probe: true };
  app.get(
    '/livez',
    { config: probe, schema: { response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: probe,
      schema: {
        response: {
          200: z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }),
          503: ErrorBody,
        },
      },
    },
    async (_request, reply) => {
      if (readiness.shuttingDown) {
        return reply.code(503).send({ code: 'SHUTTING_DOWN', message: 'server is shutting down' });
      }
      const report = await readiness.run();
      if (report.shuttingDown) {
        return reply.code(503).send({ code: 'SHUTTING_DOWN', message: 'server is shutting down' });
      }
      if (!report.ready) {
        const names = report.failures.map((f) => f.path).join(', ');
        return reply
          .code(503)
          .send({ code: 'NOT_READY', message: `not ready: ${names}`, details: [...report.failures] });
      }
      return { status: 'ok' as const, checks: report.checks };
    },
  );

  app.get(
    '/metrics',
    {
      config: probe,
      schema: {
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    },
  );

  return app;
}

/** How often the log sums up repeated events (refusals, the parser's answers) while they go on. */
const SUMMED_LOG_EVERY_MS = 10_000;

/**
 * One line when events of a kind begin, then at most one per SUMMED_LOG_EVERY_MS while they go on, each
 * with the counts since the line before by kind (`OVERLOADED/in-flight`, `408 REQUEST_TIMEOUT`, ...);
 * `flush` writes what is left (at close).
 */
function summedLog(write: (counts: Record<string, number>, sinceMs: number) => void) {
  let counts = new Map<string, number>();
  let lastLineAt = -Infinity;
  const writeNow = (now: number) => {
    if (counts.size === 0) return;
    write(Object.fromEntries(counts), Number.isFinite(lastLineAt) ? Math.round(now - lastLineAt) : 0);
    counts = new Map();
    lastLineAt = now;
  };
  return {
    note(kind: string): void {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      const now = performance.now();
      if (now - lastLineAt >= SUMMED_LOG_EVERY_MS) writeNow(now);
    },
    flush(): void {
      writeNow(performance.now());
    },
  };
}
