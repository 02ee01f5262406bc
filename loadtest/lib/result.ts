import type { LatencyFigures } from './histogram.ts';
import type { ErrorKind } from './errors.ts';

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
  /** Which engine sent the load: `go` (loadtest/loadgen, the default) or `node` (in process). */
  readonly engine: 'go' | 'node';
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
  /**
   * Share of the run the generator was busy (0..1): the node engine's event-loop utilisation, the go
   * engine's CPU time over wall time (up to its GOMAXPROCS). Near 1 the generator is the bottleneck.
   */
  readonly generatorBusy: number;
  readonly perEntry: readonly EntryFigures[];
  readonly warnings: readonly string[];
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
