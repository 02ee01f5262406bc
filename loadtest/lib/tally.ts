import type { ErrorKind } from './errors.ts';
import { MicrosHistogram } from './histogram.ts';
import type { MixEntry } from './mix.ts';
import { fmtMs, type LoadResult } from './result.ts';

/** What a run was asked to do, as both engines report it. */
export interface RunShape {
  readonly engine: LoadResult['engine'];
  readonly label: string | null;
  readonly origin: string;
  readonly mix: readonly MixEntry[];
  readonly rate: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly connections: number;
  /** Every connection opened up front and used in turn (LoadOptions.spread). */
  readonly spread: boolean;
  readonly maxInFlight: number;
  readonly lagWarnMs: number;
  /** Requests in the warm-up; request i is measured when i >= warmupCount. */
  readonly warmupCount: number;
  /** Requests in the whole run, warm-up included. */
  readonly total: number;
}

/** How the run went for the generator itself, known only at the end. */
export interface RunEnd {
  readonly startedAt: string;
  /** Due time of request 0, on the same clock as every time passed to the tally. */
  readonly t0: number;
  readonly peakInFlight: number;
  /** Share of the run the generator was busy (0..1): the Node engine's event loop, the native one's CPU. */
  readonly busy: number;
}

/**
 * Every figure of a run, fed one request at a time. Both engines (the in-process one and the native
 * one) count through this, so a figure means the same whichever sent the load. Times are milliseconds
 * on one clock; latency counts from the scheduled time, `serviceLatency` from the send.
 */
export class Tally {
  readonly shape: RunShape;
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

  constructor(shape: RunShape) {
    this.shape = shape;
    this.#entryLatency = shape.mix.map(() => new MicrosHistogram());
    this.#entryN = shape.mix.map(() => 0);
    this.#entryErrors = shape.mix.map(() => 0);
  }

  /** A measured request was due (sent, or dropped at the in-flight cap). */
  due(entry: number, lagMs: number): void {
    this.#lag.recordMs(lagMs);
    this.#entryN[entry]!++;
  }

  /** A measured request was handed to the client. */
  sent(): void {
    this.#sent++;
  }

  /** A measured request received a complete HTTP response, whatever its status. */
  completed(): void {
    this.#completed++;
  }

  /** The one outcome of a measured request: `kind` null for a success. */
  settle(
    entry: number,
    scheduledAt: number,
    sentAt: number,
    end: number,
    kind: ErrorKind | null,
    message: string,
  ): void {
    if (end > this.#lastMeasuredEnd) this.#lastMeasuredEnd = end;
    if (kind === null) {
      this.#ok++;
      this.#latency.recordMs(end - scheduledAt);
      this.#serviceLatency.recordMs(end - sentAt);
      this.#entryLatency[entry]!.recordMs(end - scheduledAt);
      return;
    }
    this.#entryErrors[entry]!++;
    this.#errors.set(kind, (this.#errors.get(kind) ?? 0) + 1);
    if (!this.#errorSamples.has(kind)) this.#errorSamples.set(kind, message);
  }

  result(end: RunEnd): LoadResult {
    const s = this.shape;
    const scheduled = s.total - s.warmupCount;
    const errors = scheduled - this.#ok;
    const measureStart = end.t0 + (s.warmupCount * 1000) / s.rate;
    const spanMs = Math.max(s.durationMs, this.#lastMeasuredEnd - measureStart);
    const achievedRate = Math.round((this.#ok / spanMs) * 1000 * 10) / 10;
    const latencyMs = this.#latency.figures();
    const schedulingLagMs = this.#lag.figures();
    const errorsByKind = Object.fromEntries([...this.#errors].sort((a, b) => b[1] - a[1]));
    const perEntry = s.mix.map((m, i) => {
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
    if (schedulingLagMs.p99 > s.lagWarnMs) {
      warnings.push(
        `generator fell behind: its scheduling lag p99=${fmtMs(schedulingLagMs.p99)} (max ${fmtMs(schedulingLagMs.max)}) ` +
          `exceeds ${fmtMs(s.lagWarnMs)}; latencies still count from the scheduled time, but part of them is ` +
          `the generator's own delay and the server saw bursts instead of an even rate`,
      );
    }
    if (end.busy > 0.9) {
      warnings.push(
        `generator (${s.engine} engine) was ${Math.round(end.busy * 100)}% busy: it is close to being the bottleneck`,
      );
    }
    if (dropped > 0) {
      warnings.push(
        `${dropped} of ${scheduled} requests could not be sent: ${s.maxInFlight} were already in flight ` +
          `(counted as dropped_inflight_cap errors)`,
      );
    }
    if (end.peakInFlight > s.connections) {
      warnings.push(
        `all ${s.connections} connections were busy at peak (${end.peakInFlight} requests outstanding): ` +
          `requests queued inside the client; raise connections unless the server is meant to be saturated`,
      );
    }
    if (scheduled > 0 && achievedRate < s.rate * 0.95) {
      warnings.push(`achieved ${achievedRate}/s of ${s.rate}/s offered: the server did not keep up`);
    }
    return {
      engine: s.engine,
      label: s.label,
      origin: s.origin,
      startedAt: end.startedAt,
      offeredRate: s.rate,
      achievedRate,
      durationMs: s.durationMs,
      warmupMs: s.warmupMs,
      timeoutMs: s.timeoutMs,
      connections: s.connections,
      maxInFlight: s.maxInFlight,
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
      peakInFlight: end.peakInFlight,
      generatorBusy: Math.round(end.busy * 1000) / 1000,
      perEntry,
      warnings,
    };
  }
}
