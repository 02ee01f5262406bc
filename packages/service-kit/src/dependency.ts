/**
 * One mechanism for calls to a dependency: its HTTP client, its circuit breaker(s), the request's deadline,
 * at most one retry, request coalescing, and the metrics of all of it. A service's adapters describe the
 * calls (path, body, how to read the answer); everything between the call and the socket lives here, so
 * every dependency fails the same way and a domain keeps only its ports and its failure type.
 *
 *   const geo = dependency({ name: 'geo', http: { origin, timeoutMs }, breaker: {...}, minBudgetMs: 5,
 *     retryConnect: true, failure: DependencyFailure, metrics });
 *   const pair = await geo.call('features', deadline, (d) => geo.http.request({ ..., deadline: d }));
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { breakerStateValue, createBreaker, type BreakerState, type CircuitBreaker } from './breaker.ts';
import { createCoalescer, type CoalesceOptions, type Coalescer } from './coalesce.ts';
import type { DeadlineLike } from './deadline.ts';
import { createHttpClient, UpstreamError, type HttpClient, type HttpClientOptions } from './http-client.ts';

/** Why a dependency call did not produce a usable answer, as far as the kit can tell. */
export type CallFailureKind =
  | 'timeout'
  | 'connect'
  /** It answered 5xx. */
  | 'status'
  /** It answered 4xx: up, but it refused what we sent. */
  | 'rejected'
  | 'bad-body'
  /** The breaker is open: not even tried. */
  | 'breaker-open'
  /** Not enough of the request's budget left to try. */
  | 'no-budget';

/**
 * UpstreamError kinds to failure kinds. A 4xx is `rejected`: the dependency is up and refused what we sent,
 * which must not open its breaker; a 5xx is `status` and does. Anything else is our own bug and is
 * rethrown (undefined), never hidden behind a fallback.
 */
export function classifyUpstream(err: unknown): CallFailureKind | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  if (err.kind === 'status') return (err.statusCode ?? 500) >= 500 ? 'status' : 'rejected';
  return err.kind;
}

/**
 * The caller's failure error (a domain's `DependencyFailure`): every failed call rejects with one, and one
 * an attempt throws itself (an answer the caller cannot use) passes through with its own kind.
 */
export interface FailureClass<K extends string> {
  new (dependency: string, kind: K, message: string, cause?: unknown): Error & { readonly kind: K };
}

// ---------------------------------------------------------------------------------------------------
// Metrics

export interface DependencyObserver {
  /** One per attempt that went out, and one per call that did not (breaker, budget), with 0 s. */
  observe(dependency: string, operation: string, outcome: string, seconds: number): void;
}

export interface DependencyMetrics extends DependencyObserver {
  /** One coalesced call and how many requests it carried. */
  countBatch(dependency: string, operation: string, requests: number): void;
  /** Breakers are read when scraped; `label` is the gauge's `dependency` label. */
  watchBreaker(label: string, breaker: CircuitBreaker): void;
}

/** The metric names; a service passes its own (defined once in @eta/contracts). */
export interface DependencyMetricNames {
  /** Histogram of attempts, labels dependency, operation, outcome (`ok` or a failure kind). */
  readonly duration: string;
  /** Counter of calls that gave no usable answer, labels dependency, operation, kind. */
  readonly failures: string;
  /** Gauge per breaker, label dependency: 0 closed, 1 half-open, 2 open. */
  readonly breakerState: string;
  /** Histogram of requests per coalesced call, labels dependency, operation. */
  readonly coalesced: string;
}

export interface DependencyMetricsOptions {
  readonly names: DependencyMetricNames;
  /**
   * Outcomes that are failures but not latency samples: calls never sent. Default `breaker-open` and
   * `no-budget`; a service adds its own refusals (the BFF's `layout`).
   */
  readonly untimed?: readonly string[];
}

export function createDependencyMetrics(
  registry: Registry,
  opts: DependencyMetricsOptions,
): DependencyMetrics {
  const untimed = new Set(opts.untimed ?? ['breaker-open', 'no-budget']);
  const duration = new Histogram({
    name: opts.names.duration,
    help: 'Dependency call attempts by dependency, operation and outcome (ok or a failure kind).',
    labelNames: ['dependency', 'operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const failures = new Counter({
    name: opts.names.failures,
    help: 'Dependency calls that gave no usable answer, by dependency, operation and kind.',
    labelNames: ['dependency', 'operation', 'kind'] as const,
    registers: [registry],
  });
  const batches = new Histogram({
    name: opts.names.coalesced,
    help: 'Requests per coalesced dependency call, by dependency and operation.',
    labelNames: ['dependency', 'operation'] as const,
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
    registers: [registry],
  });
  const breakers = new Map<string, CircuitBreaker>();
  new Gauge({
    name: opts.names.breakerState,
    help: 'Circuit breaker per dependency: 0 closed, 1 half-open, 2 open.',
    labelNames: ['dependency'] as const,
    registers: [registry],
    collect() {
      for (const [dependency, b] of breakers) this.set({ dependency }, breakerStateValue[b.state]);
    },
  });

  return {
    observe(dependency, operation, outcome, seconds) {
      if (!untimed.has(outcome)) duration.observe({ dependency, operation, outcome }, seconds);
      if (outcome !== 'ok') failures.inc({ dependency, operation, kind: outcome });
    },
    countBatch(dependency, operation, requests) {
      batches.observe({ dependency, operation }, requests);
    },
    watchBreaker(label, breaker) {
      breakers.set(label, breaker);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The dependency

export interface DependencyBreakerOptions {
  /** Consecutive failures (timeout, connect, 5xx) that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  readonly resetAfterMs: number;
  /**
   * One breaker per listed operation instead of one for the whole dependency (the ML proxy's models: a
   * slow eta-precise must not stop the eta-rough calls that stand in for it). A call for an operation not
   * listed is a bug and throws.
   */
  readonly perOperation?: readonly string[];
  readonly now?: () => number;
  /** `operation` is set for per-operation breakers. */
  readonly onStateChange?: (to: BreakerState, from: BreakerState, operation: string | undefined) => void;
  /**
   * A cheap health call on the dependency's own client (`GET /readyz`, a model's ready route), resolving
   * when it is healthy. An open breaker then finds out in the background that its dependency is back
   * (breaker.ts: backoff with jitter, one probe at a time), so its state, the breaker metric and the
   * first request after a recovery tell the truth; none is answered degraded just to find out. Without
   * it, one request is let through as the probe after resetAfterMs. `operation` is set for per-operation
   * breakers. The client's timeoutMs bounds each probe.
   */
  readonly probe?: (http: HttpClient, operation: string | undefined) => Promise<unknown>;
  /** Longest wait between failed probes (default 4 x resetAfterMs). */
  readonly maxProbeIntervalMs?: number;
}

export interface DependencyOptions<K extends string> {
  /** The dependency's name (`geo`): its HTTP client's, and the `dependency` label of its metrics. */
  readonly name: string;
  /** The HTTP client's settings; the dependency creates the client and closes it in `close()`. */
  readonly http: Omit<HttpClientOptions, 'name'>;
  readonly breaker: DependencyBreakerOptions;
  /** Below this many ms left a call is not started: it could not finish anyway. */
  readonly minBudgetMs: number;
  /** Retry once after a connection failure (refused/reset), which fails fast and is safe to repeat. */
  readonly retryConnect: boolean;
  readonly failure: FailureClass<K | CallFailureKind>;
  /** Maps a thrown error to its kind; errors it returns undefined for are rethrown as they are (bugs). */
  readonly classify?: (err: unknown) => K | CallFailureKind | undefined;
  /** Calls, coalesced batches and breaker states; breakers are watched as `<name>` or `<name>/<operation>`. */
  readonly metrics?: DependencyMetrics;
}

export interface Dependency<K extends string> {
  readonly name: string;
  /** For calls outside the guard (start-up metadata, readiness); estimate-path calls go through `call`. */
  readonly http: HttpClient;
  /** The breakers, by the label they are watched under. */
  readonly breakers: ReadonlyMap<string, CircuitBreaker>;
  /**
   * Runs `attempt` under the operation's breaker and the request's deadline. Timeouts are never retried (a
   * retry has no budget either), connection failures at most once and only while budget remains, so an
   * outage costs each request one fast failure and, once the breaker opens, nothing at all. Rejects with
   * the failure class, or with the attempt's own error when `classify` does not know it.
   */
  call<T>(
    operation: string,
    deadline: DeadlineLike,
    attempt: (deadline: DeadlineLike) => Promise<T>,
  ): Promise<T>;
  /** A call refused before it went out (a precondition failed): counted like an open breaker, returned to throw. */
  refuse(operation: string, kind: K | CallFailureKind, message: string): Error;
  /** A coalescer for one operation whose batch sizes are counted under it. */
  coalescer<I, R>(operation: string, opts: Omit<CoalesceOptions<I, R>, 'onBatch'>): Coalescer<I, R>;
  close(): Promise<void>;
}

export function dependency<K extends string = CallFailureKind>(opts: DependencyOptions<K>): Dependency<K> {
  const { name, metrics } = opts;
  const Failure = opts.failure;
  const classify = opts.classify ?? classifyUpstream;
  const http = createHttpClient({ ...opts.http, name });

  const newBreaker = (operation: string | undefined) => {
    const { onStateChange, probe, maxProbeIntervalMs } = opts.breaker;
    return createBreaker({
      failureThreshold: opts.breaker.failureThreshold,
      resetAfterMs: opts.breaker.resetAfterMs,
      ...(opts.breaker.now ? { now: opts.breaker.now } : {}),
      ...(onStateChange ? { onStateChange: (to, from) => onStateChange(to, from, operation) } : {}),
      ...(probe
        ? {
            probe: {
              check: () => probe(http, operation),
              // A backstop only: the client gives up at its own timeoutMs.
              timeoutMs: Math.max(1_000, 2 * opts.http.timeoutMs),
              ...(maxProbeIntervalMs !== undefined ? { maxIntervalMs: maxProbeIntervalMs } : {}),
            },
          }
        : {}),
    });
  };
  const breakers = new Map<string, CircuitBreaker>();
  const byOperation = new Map<string, CircuitBreaker>();
  let shared: CircuitBreaker | undefined;
  if (opts.breaker.perOperation === undefined) {
    shared = newBreaker(undefined);
    breakers.set(name, shared);
  } else {
    for (const operation of opts.breaker.perOperation) {
      const breaker = newBreaker(operation);
      byOperation.set(operation, breaker);
      breakers.set(`${name}/${operation}`, breaker);
    }
  }
  for (const [label, breaker] of breakers) metrics?.watchBreaker(label, breaker);

  const breakerFor = (operation: string): CircuitBreaker => {
    const breaker = shared ?? byOperation.get(operation);
    if (breaker === undefined) throw new Error(`${name}: no breaker for operation ${operation}`);
    return breaker;
  };
  const observe = (operation: string, outcome: string, seconds: number) =>
    metrics?.observe(name, operation, outcome, seconds);

  async function call<T>(
    operation: string,
    deadline: DeadlineLike,
    attempt: (deadline: DeadlineLike) => Promise<T>,
  ): Promise<T> {
    const breaker = breakerFor(operation);
    for (let tries = 0; ; tries++) {
      if (deadline.remainingMs() < opts.minBudgetMs) {
        observe(operation, 'no-budget', 0);
        throw new Failure(name, 'no-budget', `${name}: no budget left for ${operation}`);
      }
      if (!breaker.tryAcquire()) {
        observe(operation, 'breaker-open', 0);
        throw new Failure(name, 'breaker-open', `${name}: circuit open`);
      }
      const started = performance.now();
      try {
        const result = await attempt(deadline);
        breaker.success();
        observe(operation, 'ok', (performance.now() - started) / 1000);
        return result;
      } catch (err) {
        const kind = err instanceof Failure ? err.kind : classify(err);
        if (kind === undefined) {
          // Not the dependency's fault; the breaker must still hear back or a half-open probe never ends.
          breaker.success();
          throw err;
        }
        // A 4xx or a body we cannot read says the dependency is up and we asked wrongly; only failures to
        // answer at all count towards opening the breaker.
        if (kind === 'timeout' || kind === 'connect' || kind === 'status') breaker.failure();
        else breaker.success();
        observe(operation, kind, (performance.now() - started) / 1000);
        if (kind === 'connect' && opts.retryConnect && tries === 0) continue;
        throw err instanceof Failure
          ? err
          : new Failure(name, kind, `${name} ${operation}: ${String((err as Error).message)}`, err);
      }
    }
  }

  return {
    name,
    http,
    breakers,
    call,
    refuse(operation, kind, message) {
      observe(operation, kind, 0);
      return new Failure(name, kind, message);
    },
    coalescer<I, R>(operation: string, coalesce: Omit<CoalesceOptions<I, R>, 'onBatch'>) {
      return createCoalescer<I, R>({
        ...coalesce,
        ...(metrics ? { onBatch: (n: number) => metrics.countBatch(name, operation, n) } : {}),
      });
    },
    close: () => {
      // No probe may start (or re-arm) on a client that is closing.
      for (const breaker of breakers.values()) breaker.stop();
      return http.close();
    },
  };
}
