import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Pool, util, type Dispatcher } from 'undici';
import { classifyError, httpErrorKind, type ErrorKind } from './errors.ts';
import {
  seededRandom,
  weightedPicker,
  type BuildContext,
  type MixEntry,
  type RequestSpec,
  type ResponseInfo,
} from './mix.ts';
import { runNative } from './native.ts';
import type { LoadResult } from './result.ts';
import { Tally, type RunShape } from './tally.ts';

export type Engine = LoadResult['engine'];

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
  /**
   * Open every one of `connections` before the run and send each request on the longest-idle one, so the
   * load arrives over all of them as from that many separate callers (Locust's users, or app-service
   * pods), instead of over the few a fast server keeps busy. Go engine only.
   */
  readonly spread?: boolean;
  /**
   * Told every measured request's fate, in no particular order: its scheduled time (ms after the measured
   * window's first request was due), latency from that time to its end, HTTP status (0 without a
   * response) and error kind (null when ok). For figures a LoadResult does not hold, such as the share
   * answered within an SLO or the latency of refusals. Go engine only.
   */
  readonly onRecord?: (r: RequestRecord) => void;
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
  /**
   * Who sends: `go` (the native engine in loadtest/loadgen, built with the machine's Go on first use)
   * or `node` (in this process, undici). Default: BENCH_ENGINE, else `go`.
   */
  readonly engine?: Engine;
}

export interface RequestRecord {
  readonly scheduledMs: number;
  readonly latencyMs: number;
  readonly status: number;
  readonly kind: ErrorKind | null;
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

/** The engine a run uses when its options name none: BENCH_ENGINE, else the native one. */
export function defaultEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  const e = env.BENCH_ENGINE;
  if (e === undefined || e === '') return 'go';
  if (e === 'go' || e === 'node') return e;
  throw new Error(`BENCH_ENGINE must be go or node, got ${e}`);
}

/** Options checked and defaulted into the shape both engines run and report. */
export function runShape(opts: LoadOptions): RunShape {
  const origin = new URL(opts.origin);
  if (origin.protocol !== 'http:') throw new Error(`origin must be http://, got ${opts.origin}`);
  if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new Error('rate must be > 0');
  if (!(opts.durationMs > 0)) throw new Error('durationMs must be > 0');
  const warmupMs = Math.max(0, opts.warmupMs ?? 0);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const warmupCount = Math.round((warmupMs * opts.rate) / 1000);
  // Validates the mix up front, whichever engine runs it.
  weightedPicker(opts.mix);
  return {
    engine: opts.engine ?? defaultEngine(),
    label: opts.label ?? null,
    origin: origin.origin,
    mix: opts.mix,
    rate: opts.rate,
    durationMs: opts.durationMs,
    warmupMs,
    timeoutMs,
    connections: opts.connections ?? defaultConnections(opts.rate),
    spread: opts.spread ?? false,
    // Default: the most requests that can legitimately be outstanding when every one runs into its
    // timeout, plus headroom, so the cap only bites when something is badly wrong.
    maxInFlight: opts.maxInFlight ?? Math.ceil((opts.rate * timeoutMs * 1.2) / 1000) + 16,
    lagWarnMs: opts.lagWarnMs ?? DEFAULT_LAG_WARN_MS,
    warmupCount,
    total: warmupCount + Math.round((opts.durationMs * opts.rate) / 1000),
  };
}

/**
 * The run's requests in order, with the entry each came from: the same for both engines and for the
 * same seed, because both draw them here.
 */
export class RequestSource {
  readonly #mix: readonly MixEntry[];
  readonly #pick: (u: number) => number;
  readonly #random: () => number;
  readonly #ctx: { i: number; random: () => number };

  constructor(mix: readonly MixEntry[], seed = 1) {
    this.#mix = mix;
    this.#pick = weightedPicker(mix);
    this.#random = seededRandom(seed);
    this.#ctx = { i: 0, random: seededRandom(seed ^ 0x9e3779b9) };
  }

  next(i: number): { entry: number; spec: RequestSpec } {
    const entry = this.#pick(this.#random());
    this.#ctx.i = i;
    return { entry, spec: this.#mix[entry]!.build(this.#ctx as BuildContext) };
  }
}

/**
 * How a complete HTTP response counts, the same for both engines: null for a success, else its error
 * kind and message. A response later than `timeoutMs` after its send is a timeout whatever it says, so no
 * success is ever slower than the deadline. `read` gives the body and headers, and is only called when
 * there is a check to run.
 */
export function judgeResponse(
  status: number,
  sinceSendMs: number,
  spec: RequestSpec,
  timeoutMs: number,
  check: LoadOptions['check'],
  read: () => ResponseInfo,
): { kind: ErrorKind; message: string } | null {
  if (sinceSendMs > timeoutMs) {
    return { kind: 'timeout', message: `response after the ${timeoutMs} ms deadline` };
  }
  if (status < 200 || status > 299) {
    return {
      kind: httpErrorKind(status),
      message: `HTTP ${status} for ${spec.method ?? 'GET'} ${spec.path}`,
    };
  }
  if (check === undefined) return null;
  const res = read();
  let passed: boolean;
  let why = '';
  try {
    passed = check(res, spec);
  } catch (err) {
    passed = false;
    why = ` (${err instanceof Error ? err.message : String(err)})`;
  }
  return passed
    ? null
    : { kind: 'body_check', message: `check failed for ${spec.path}${why}: ${res.body.slice(0, 200)}` };
}

/**
 * Sends `rate` requests per second for `warmupMs + durationMs` as an OPEN loop: request i is due at
 * t0 + i/rate whether or not earlier ones have finished, and its latency is measured from that due
 * time. A stall in the server (or in the generator) therefore shows up in the percentiles with the
 * full waiting time of every request that was due during it, instead of as one slow sample the way a
 * closed-loop tool reports it (coordinated omission).
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const shape = runShape(opts);
  if ((shape.spread || opts.onRecord !== undefined) && shape.engine !== 'go') {
    throw new Error('spread and onRecord need the go engine');
  }
  if (shape.engine === 'go')
    return runNative(shape, new RequestSource(opts.mix, opts.seed), opts.check, opts.onRecord);
  const run = new Run(shape, opts);
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
  readonly shape: RunShape;
  readonly timeoutMs: number;
  readonly check: LoadOptions['check'];
  readonly wantsBody: boolean;

  readonly #pool: Pool;
  readonly #source: RequestSource;
  readonly #tally: Tally;
  readonly #interval: number;

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

  constructor(shape: RunShape, opts: LoadOptions) {
    this.shape = shape;
    this.timeoutMs = shape.timeoutMs;
    this.check = opts.check;
    this.wantsBody = opts.check !== undefined;
    this.#source = new RequestSource(opts.mix, opts.seed);
    this.#tally = new Tally(shape);
    this.#interval = 1000 / shape.rate;

    this.#pool = new Pool(shape.origin, {
      connections: shape.connections,
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
      const total = this.shape.total;
      this.#sweep(now);
      // Everything whose time has come goes out now: timers fire at ~1 ms granularity, so at 5,000/s
      // each tick sends a small burst; each request still keeps its own exact scheduled time.
      while (this.#next < total) {
        const scheduledAt = this.#t0 + this.#next * this.#interval;
        if (scheduledAt > now) break;
        this.#dispatch(this.#next, scheduledAt);
        this.#next++;
      }
      if (this.#next < total) {
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
    const { entry, spec } = this.#source.next(i);
    const measured = i >= this.shape.warmupCount;
    const sentAt = performance.now();
    if (measured) this.#tally.due(entry, sentAt - scheduledAt);
    const pending = new Pending(this, entry, spec, scheduledAt, sentAt, sentAt + this.timeoutMs, measured);
    if (this.#outstanding >= this.shape.maxInFlight) {
      pending.released = true;
      this.#settle(
        pending,
        'dropped_inflight_cap',
        sentAt,
        `more than ${this.shape.maxInFlight} requests in flight`,
      );
      return;
    }
    this.#outstanding++;
    if (measured) {
      this.#tally.sent();
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
    if (p.measured) this.#tally.completed();
    // Sweeps run once per tick (up to 1/rate apart at low rates): a response that beat the sweep
    // but not the deadline is still judged a timeout here.
    const failed = judgeResponse(p.status, end - p.sentAt, p.spec, this.timeoutMs, this.check, () => ({
      status: p.status,
      headers: util.parseHeaders(p.rawHeaders ?? []),
      body: Buffer.concat(p.chunks ?? []).toString('utf8'),
    }));
    this.#settle(p, failed?.kind ?? null, end, failed?.message ?? '');
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
    if (p.measured) this.#tally.settle(p.entry, p.scheduledAt, p.sentAt, end, kind, message);
  }

  async closeClient(): Promise<void> {
    // Anything still held by the client has already been counted as a timeout; cut it off.
    if (this.#outstanding > 0) await this.#pool.destroy();
    else await this.#pool.close();
  }

  result(): LoadResult {
    return this.#tally.result({
      startedAt: this.#startedAt,
      t0: this.#t0,
      peakInFlight: this.#peakInFlight,
      busy: this.#eluUsed,
    });
  }
}
