import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Pool, util, type Dispatcher } from 'undici';
import { classifyError, httpErrorKind, type ErrorKind } from './errors.ts';
import { MicrosHistogram, type LatencyFigures } from './histogram.ts';
import {
  seededRandom,
  weightedPicker,
  type BuildContext,
  type MixEntry,
  type RequestSpec,
  type ResponseInfo,
} from './mix.ts';

export interface LoadOptions {
  /** `http://127.0.0.1:<port>`: load is only ever sent to the local machine. */
  readonly origin: string;
  readonly mix: readonly MixEntry[];
  /** Offered arrival rate in requests per second. */
  readonly rate: number;
  /** Measured period, after the warm-up. */
  readonly durationMs: number;
  /** Sent at the same rate before the measured period but left out of every figure. Default 0. */
  readonly warmupMs?: number;
  /** Per-request deadline, counted from the moment the request is handed to the client. Default 2000. */
  readonly timeoutMs?: number;
  /** Keep-alive connections the client may open. Default: enough that the client is not the bottleneck. */
  readonly connections?: number;
  /** Requests outstanding at once; beyond it a request counts as `dropped_inflight_cap`. */
  readonly maxInFlight?: number;
  /** Validates a 2xx response; returning false or throwing counts it as `body_check`. */
  readonly check?: (res: ResponseInfo, req: RequestSpec) => boolean;
  /** Warn when the generator's own scheduling lag p99 exceeds this. Default 5 ms. */
  readonly lagWarnMs?: number;
  /** Seed for the mix and for BuildContext.random. Default 1. */
  readonly seed?: number;
  /** Prefix for the summary line, e.g. `kit@2000`. */
  readonly label?: string;
}

export interface EntryFigures {
  readonly name: string;
  readonly n: number;
  readonly ok: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
}

/** Every figure of one run. Latencies are milliseconds at microsecond resolution. */
export interface LoadResult {
  readonly label: string | null;
  readonly origin: string;
  readonly startedAt: string;
  readonly offeredRate: number;
  /** Successful responses per second over the measured window (stretched if its last request ended later). */
  readonly achievedRate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly maxInFlight: number;
  /** Requests scheduled in the measured window; every one ends as ok or as exactly one error. */
  readonly scheduled: number;
  readonly sent: number;
  /** Requests that received a complete HTTP response, whatever its status. */
  readonly completed: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorsByKind: Readonly<Partial<Record<ErrorKind, number>>>;
  /** First message seen per error kind, to tell what went wrong without re-running. */
  readonly errorSamples: Readonly<Partial<Record<ErrorKind, string>>>;
  /** Latency of successful requests, from each request's SCHEDULED time to the end of its response. */
  readonly latencyMs: LatencyFigures;
  /**
   * Latency of successful requests from when each was actually SENT. Not the headline figure (a stall
   * that delays sending is hidden here): it separates the server's time from the generator's own lag,
   * which on a 2-core machine with ~1 ms timer ticks adds up to a millisecond to `latencyMs`.
   */
  readonly serviceLatencyMs: LatencyFigures;
  /** How late the generator handed requests to the client, compared with their scheduled time. */
  readonly schedulingLagMs: LatencyFigures;
  readonly peakInFlight: number;
  /** Share of the run the generator's event loop was busy (0..1); near 1 it is the bottleneck. */
  readonly generatorEventLoopUtilization: number;
  readonly perEntry: readonly EntryFigures[];
  readonly warnings: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_LAG_WARN_MS = 5;
// While only draining, timeouts are swept this often; a late sweep only delays the end of the run.
const DRAIN_SWEEP_MS = 5;
// After the last deadline, anything still held by the client is cut off so a run always ends.
const DRAIN_GRACE_MS = 1000;

/**
 * Connections for a rate: Little's law at a pessimistic 50 ms per request, within [64, 1024]. The
 * client opens them only when all open ones are busy, so a generous cap costs nothing on a fast
 * server and keeps a slow one from being shielded by a queue inside the client.
 */
export function defaultConnections(rate: number): number {
  return Math.min(1024, Math.max(64, Math.ceil(rate * 0.05)));
}

/**
 * Sends `rate` requests per second for `warmupMs + durationMs` as an OPEN loop: request i is due at
 * t0 + i/rate whether or not earlier ones have finished, and its latency is measured from that due
 * time. A stall in the server (or in this process) therefore shows up in the percentiles with the
 * full waiting time of every request that was due during it, instead of as one slow sample the way a
 * closed-loop tool reports it (coordinated omission).
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const run = new Run(opts);
  try {
    await run.start();
  } finally {
    await run.closeClient();
  }
  return run.result();
}

class TimeoutError extends Error {
  readonly code = 'ETA_LOADTEST_TIMEOUT';
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * One request in flight, and also its undici handler. It implements undici's callback-style
 * handler because that is what the client calls natively: the controller-style API wraps every
 * request in an adapter and parses every response's headers, work the generator would steal from
 * the server on a shared machine.
 */
class Pending implements Dispatcher.DispatchHandler {
  readonly run: Run;
  readonly entry: number;
  readonly spec: RequestSpec;
  readonly scheduledAt: number;
  readonly sentAt: number;
  readonly deadline: number;
  readonly measured: boolean;
  status = 0;
  /** An outcome has been recorded (response, error or our own timeout). */
  settled = false;
  /** undici has called back for the last time, so the slot is free again. */
  released = false;
  abort: ((err?: Error) => void) | null = null;
  rawHeaders: Buffer[] | null = null;
  chunks: Buffer[] | null;

  constructor(
    run: Run,
    entry: number,
    spec: RequestSpec,
    scheduledAt: number,
    sentAt: number,
    deadline: number,
    measured: boolean,
  ) {
    this.run = run;
    this.entry = entry;
    this.spec = spec;
    this.scheduledAt = scheduledAt;
    this.sentAt = sentAt;
    this.deadline = deadline;
    this.measured = measured;
    this.chunks = run.wantsBody ? [] : null;
  }

  onConnect(abort: (err?: Error) => void): void {
    // Timed out while still queued in the pool: never put it on the wire.
    if (this.settled) abort(new TimeoutError(this.run.timeoutMs));
    else this.abort = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[]): boolean {
    this.status = statusCode;
    if (this.chunks !== null) this.rawHeaders = headers;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.chunks?.push(chunk);
    return true;
  }

  onComplete(): void {
    this.run.onResponse(this);
  }

  onError(err: Error): void {
    this.run.onFailure(this, err);
  }
}

class Run {
  readonly origin: string;
  readonly mix: readonly MixEntry[];
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly connections: number;
  readonly maxInFlight: number;
  readonly lagWarnMs: number;
  readonly check: LoadOptions['check'];
  readonly wantsBody: boolean;
  readonly label: string | null;

  readonly #pool: Pool;
  readonly #pick: (u: number) => number;
  readonly #random: () => number;
  readonly #ctx: { i: number; random: () => number };
  readonly #interval: number;
  readonly #total: number;
  readonly #warmupCount: number;

  #t0 = 0;
  #startedAt = '';
  #next = 0;
  #outstanding = 0;
  #peakInFlight = 0;
  // Outstanding requests in send order; deadlines are send time + timeout, so this is also deadline order.
  #fifo: Pending[] = [];
  #fifoHead = 0;
  #lastDeadline = 0;
  #elu: EventLoopUtilization | null = null;
  #eluUsed = 0;
  #done: (() => void) | null = null;
  #failed: ((err: unknown) => void) | null = null;

  #sent = 0;
  #completed = 0;
  #ok = 0;
  #lastMeasuredEnd = 0;
  readonly #errors = new Map<ErrorKind, number>();
  readonly #errorSamples = new Map<ErrorKind, string>();
  readonly #latency = new MicrosHistogram();
  readonly #lag = new MicrosHistogram();
  readonly #serviceLatency = new MicrosHistogram();
  readonly #entryLatency: MicrosHistogram[];
  readonly #entryN: number[];
  readonly #entryErrors: number[];

  constructor(opts: LoadOptions) {
    const origin = new URL(opts.origin);
    if (origin.protocol !== 'http:') throw new Error(`origin must be http://, got ${opts.origin}`);
    if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new Error('rate must be > 0');
    if (!(opts.durationMs > 0)) throw new Error('durationMs must be > 0');
    this.origin = origin.origin;
    this.mix = opts.mix;
    this.rate = opts.rate;
    this.durationMs = opts.durationMs;
    this.warmupMs = Math.max(0, opts.warmupMs ?? 0);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connections = opts.connections ?? defaultConnections(opts.rate);
    // Default: the most requests that can legitimately be outstanding when every one runs into its
    // timeout, plus headroom, so the cap only bites when something is badly wrong.
    this.maxInFlight = opts.maxInFlight ?? Math.ceil((opts.rate * this.timeoutMs * 1.2) / 1000) + 16;
    this.lagWarnMs = opts.lagWarnMs ?? DEFAULT_LAG_WARN_MS;
    this.check = opts.check;
    this.wantsBody = opts.check !== undefined;
    this.label = opts.label ?? null;

    this.#pick = weightedPicker(opts.mix);
    const seed = opts.seed ?? 1;
    const mixRandom = seededRandom(seed);
    this.#random = mixRandom;
    this.#ctx = { i: 0, random: seededRandom(seed ^ 0x9e3779b9) };
    this.#interval = 1000 / opts.rate;
    this.#warmupCount = Math.round((this.warmupMs * opts.rate) / 1000);
    this.#total = this.#warmupCount + Math.round((opts.durationMs * opts.rate) / 1000);
    this.#entryLatency = opts.mix.map(() => new MicrosHistogram());
    this.#entryN = opts.mix.map(() => 0);
    this.#entryErrors = opts.mix.map(() => 0);

    this.#pool = new Pool(this.origin, {
      connections: this.connections,
      pipelining: 1,
      // Backstops only: our own sweep enforces timeoutMs and classifies it.
      headersTimeout: this.timeoutMs + DRAIN_GRACE_MS,
      bodyTimeout: this.timeoutMs + DRAIN_GRACE_MS,
      keepAliveTimeout: 30_000,
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#done = resolve;
      this.#failed = reject;
      this.#startedAt = new Date().toISOString();
      this.#elu = performance.eventLoopUtilization();
      this.#t0 = performance.now();
      this.#tick();
    });
  }

  readonly #tick = (): void => {
    try {
      const now = performance.now();
      this.#sweep(now);
      // Everything whose time has come goes out now: timers fire at ~1 ms granularity, so at 5,000/s
      // each tick sends a small burst; each request still keeps its own exact scheduled time.
      while (this.#next < this.#total) {
        const scheduledAt = this.#t0 + this.#next * this.#interval;
        if (scheduledAt > now) break;
        this.#dispatch(this.#next, scheduledAt);
        this.#next++;
      }
      if (this.#next < this.#total) {
        const wait = this.#t0 + this.#next * this.#interval - performance.now();
        setTimeout(this.#tick, wait > 1 ? Math.floor(wait) : 1);
        return;
      }
      if (this.#elu !== null) {
        this.#eluUsed = performance.eventLoopUtilization(this.#elu).utilization;
        this.#elu = null;
      }
      if (this.#outstanding === 0 || now > this.#lastDeadline + DRAIN_GRACE_MS) {
        this.#done?.();
        return;
      }
      setTimeout(this.#tick, DRAIN_SWEEP_MS);
    } catch (err) {
      this.#failed?.(err);
    }
  };

  #dispatch(i: number, scheduledAt: number): void {
    const entry = this.#pick(this.#random());
    const measured = i >= this.#warmupCount;
    this.#ctx.i = i;
    const spec = this.mix[entry]!.build(this.#ctx as BuildContext);
    const sentAt = performance.now();
    if (measured) {
      this.#lag.recordMs(sentAt - scheduledAt);
      this.#entryN[entry]!++;
    }
    const pending = new Pending(this, entry, spec, scheduledAt, sentAt, sentAt + this.timeoutMs, measured);
    if (this.#outstanding >= this.maxInFlight) {
      pending.released = true;
      this.#settle(
        pending,
        'dropped_inflight_cap',
        sentAt,
        `more than ${this.maxInFlight} requests in flight`,
      );
      return;
    }
    this.#outstanding++;
    if (measured) {
      this.#sent++;
      // Warm-up is left out here too: a cold server's first hundred milliseconds say nothing about the run.
      if (this.#outstanding > this.#peakInFlight) this.#peakInFlight = this.#outstanding;
    }
    this.#fifo.push(pending);
    this.#lastDeadline = pending.deadline;
    const options: Dispatcher.DispatchOptions = {
      method: spec.method ?? 'GET',
      path: spec.path,
      headers: spec.headers ?? null,
      body: spec.body ?? null,
    };
    try {
      this.#pool.dispatch(options, pending);
    } catch (err) {
      this.onFailure(pending, err as Error);
    }
  }

  /** Times out overdue requests. Cheap per tick: it stops at the first request not yet due. */
  #sweep(now: number): void {
    const fifo = this.#fifo;
    let head = this.#fifoHead;
    while (head < fifo.length) {
      const p = fifo[head]!;
      if (!p.released) {
        if (p.deadline > now) break;
        if (!p.settled) {
          this.#settle(p, 'timeout', now, `no complete response within ${this.timeoutMs} ms`);
          p.abort?.(new TimeoutError(this.timeoutMs));
        }
      }
      head++;
    }
    if (head > 4096 && head * 2 > fifo.length) {
      this.#fifo = fifo.slice(head);
      head = 0;
    }
    this.#fifoHead = head;
  }

  onResponse(p: Pending): void {
    this.#release(p);
    if (p.settled) return;
    const end = performance.now();
    this.#completed += p.measured ? 1 : 0;
    // Sweeps run once per tick (up to 1/rate apart at low rates): a response that beat the sweep
    // but not the deadline is still a timeout, so no success is ever slower than timeoutMs.
    if (end > p.deadline) {
      this.#settle(p, 'timeout', end, `response after the ${this.timeoutMs} ms deadline`);
      return;
    }
    if (p.status < 200 || p.status > 299) {
      this.#settle(
        p,
        httpErrorKind(p.status),
        end,
        `HTTP ${p.status} for ${p.spec.method ?? 'GET'} ${p.spec.path}`,
      );
      return;
    }
    if (this.check !== undefined && p.chunks !== null) {
      const body = Buffer.concat(p.chunks).toString('utf8');
      let passed: boolean;
      let why = '';
      try {
        passed = this.check(
          { status: p.status, headers: util.parseHeaders(p.rawHeaders ?? []), body },
          p.spec,
        );
      } catch (err) {
        passed = false;
        why = ` (${err instanceof Error ? err.message : String(err)})`;
      }
      if (!passed) {
        this.#settle(p, 'body_check', end, `check failed for ${p.spec.path}${why}: ${body.slice(0, 200)}`);
        return;
      }
    }
    this.#settle(p, null, end, '');
  }

  onFailure(p: Pending, err: Error): void {
    this.#release(p);
    if (p.settled) return;
    this.#settle(p, classifyError(err), performance.now(), `${err.name}: ${err.message}`);
  }

  #release(p: Pending): void {
    if (p.released) return;
    p.released = true;
    this.#outstanding--;
  }

  #settle(p: Pending, kind: ErrorKind | null, end: number, message: string): void {
    p.settled = true;
    p.chunks = null;
    if (!p.measured) return;
    if (end > this.#lastMeasuredEnd) this.#lastMeasuredEnd = end;
    if (kind === null) {
      this.#ok++;
      this.#latency.recordMs(end - p.scheduledAt);
      this.#serviceLatency.recordMs(end - p.sentAt);
      this.#entryLatency[p.entry]!.recordMs(end - p.scheduledAt);
      return;
    }
    this.#entryErrors[p.entry]!++;
    this.#errors.set(kind, (this.#errors.get(kind) ?? 0) + 1);
    if (!this.#errorSamples.has(kind)) this.#errorSamples.set(kind, message);
  }

  async closeClient(): Promise<void> {
    // Anything still held by the client has already been counted as a timeout; cut it off.
    if (this.#outstanding > 0) await this.#pool.destroy();
    else await this.#pool.close();
  }

  result(): LoadResult {
    const scheduled = this.#total - this.#warmupCount;
    const errors = scheduled - this.#ok;
    const measureStart = this.#t0 + this.#warmupCount * this.#interval;
    const spanMs = Math.max(this.durationMs, this.#lastMeasuredEnd - measureStart);
    const achievedRate = Math.round((this.#ok / spanMs) * 1000 * 10) / 10;
    const latencyMs = this.#latency.figures();
    const schedulingLagMs = this.#lag.figures();
    const errorsByKind = Object.fromEntries([...this.#errors].sort((a, b) => b[1] - a[1]));
    const perEntry = this.mix.map((m, i) => {
      const f = this.#entryLatency[i]!.figures();
      return {
        name: m.name,
        n: this.#entryN[i]!,
        ok: f.count,
        errors: this.#entryErrors[i]!,
        p50: f.p50,
        p99: f.p99,
      };
    });
    const dropped = this.#errors.get('dropped_inflight_cap') ?? 0;
    const warnings: string[] = [];
    if (schedulingLagMs.p99 > this.lagWarnMs) {
      warnings.push(
        `generator fell behind: its scheduling lag p99=${fmtMs(schedulingLagMs.p99)} (max ${fmtMs(schedulingLagMs.max)}) ` +
          `exceeds ${fmtMs(this.lagWarnMs)}; latencies still count from the scheduled time, but part of them is ` +
          `the generator's own delay and the server saw bursts instead of an even rate`,
      );
    }
    if (this.#eluUsed > 0.9) {
      warnings.push(
        `generator event loop was ${Math.round(this.#eluUsed * 100)}% busy: it is close to being the bottleneck`,
      );
    }
    if (dropped > 0) {
      warnings.push(
        `${dropped} of ${scheduled} requests could not be sent: ${this.maxInFlight} were already in flight ` +
          `(counted as dropped_inflight_cap errors)`,
      );
    }
    if (this.#peakInFlight > this.connections) {
      warnings.push(
        `all ${this.connections} connections were busy at peak (${this.#peakInFlight} requests outstanding): ` +
          `requests queued inside the client; raise connections unless the server is meant to be saturated`,
      );
    }
    if (scheduled > 0 && achievedRate < this.rate * 0.95) {
      warnings.push(`achieved ${achievedRate}/s of ${this.rate}/s offered: the server did not keep up`);
    }
    return {
      label: this.label,
      origin: this.origin,
      startedAt: this.#startedAt,
      offeredRate: this.rate,
      achievedRate,
      durationMs: this.durationMs,
      warmupMs: this.warmupMs,
      timeoutMs: this.timeoutMs,
      connections: this.connections,
      maxInFlight: this.maxInFlight,
      scheduled,
      sent: this.#sent,
      completed: this.#completed,
      ok: this.#ok,
      errors,
      errorsByKind,
      errorSamples: Object.fromEntries(this.#errorSamples),
      latencyMs,
      serviceLatencyMs: this.#serviceLatency.figures(),
      schedulingLagMs,
      peakInFlight: this.#peakInFlight,
      generatorEventLoopUtilization: Math.round(this.#eluUsed * 1000) / 1000,
      perEntry,
      warnings,
    };
  }
}

/** 0.41ms, 12.3ms, 304ms: three significant figures are all a latency reading needs. */
export function fmtMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  return `${Math.round(ms)}ms`;
}

/** The one-line human summary of a run. */
export function formatSummary(r: LoadResult): string {
  const l = r.latencyMs;
  const kinds = Object.entries(r.errorsByKind)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return (
    (r.label === null ? '' : `[${r.label}] `) +
    `rate=${r.offeredRate}/s achieved=${Math.round(r.achievedRate)}/s n=${r.scheduled} ` +
    `p50=${fmtMs(l.p50)} p95=${fmtMs(l.p95)} p99=${fmtMs(l.p99)} p99.9=${fmtMs(l.p999)} max=${fmtMs(l.max)} ` +
    `errors=${r.errors}${kinds === '' ? '' : ` (${kinds})`} lag_p99=${fmtMs(r.schedulingLagMs.p99)} ` +
    `sent_to_done_p99=${fmtMs(r.serviceLatencyMs.p99)}`
  );
}

/** Prints the summary line and its warnings right under it, on the same stream so they stay together. */
export function printSummary(r: LoadResult, out: (line: string) => void = console.log): void {
  out(formatSummary(r));
  for (const w of r.warnings) out(`WARNING${r.label === null ? '' : ` [${r.label}]`}: ${w}`);
}
