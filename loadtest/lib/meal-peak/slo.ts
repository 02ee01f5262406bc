/**
 * The meal-peak verdict: per-route SLOs judged in every slot and over the whole run, and the guard that tells
 * a run where the generator itself fell behind (invalid: says nothing about the suite) from one where the
 * suite missed its SLO (failed). Pure functions over figures, so fabricated figures test them.
 */
import type { RouteSlo } from './options.ts';
import { ROUTES, type Route } from './routes.ts';

/** A route's figures in a slot or over the run. Latencies of successful requests, from the scheduled time. */
export interface RouteFigures {
  readonly scheduled: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorsByKind: Readonly<Record<string, number>>;
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  /** Estimates in the answers (one per precise answer, one per store of a rough one; admin: answers). */
  readonly answers: number;
  readonly degraded: number;
  readonly degradedShare: number | null;
  readonly bySource: Readonly<Record<string, number>>;
  /** Requests per second scheduled, and answered successfully, over the slot (or run). */
  readonly offeredRate: number;
  readonly achievedRate: number;
}

export interface JudgedSlot {
  readonly index: number;
  readonly label: string;
  readonly routes: Readonly<
    Record<Route, Pick<RouteFigures, 'scheduled' | 'ok' | 'errors' | 'p99Ms' | 'answers' | 'degraded'>>
  >;
}

export interface Breach {
  /** `slot`: in one 15-minute slot; `run`: over the whole run. */
  readonly scope: 'slot' | 'run';
  readonly slot: string | null;
  readonly route: Route;
  readonly metric: 'p99' | 'error rate' | 'degraded share';
  readonly value: number;
  readonly limit: number;
  /** Requests of the route judged. */
  readonly samples: number;
}

function judge(
  scope: Breach['scope'],
  slot: string | null,
  route: Route,
  f: JudgedSlot['routes'][Route],
  slo: RouteSlo,
): Breach[] {
  const out: Breach[] = [];
  const base = { scope, slot, route, samples: f.scheduled };
  if (f.ok > 0 && f.p99Ms !== null && f.p99Ms > slo.p99Ms) {
    out.push({ ...base, metric: 'p99', value: f.p99Ms, limit: slo.p99Ms });
  }
  if (f.scheduled > 0 && f.errors / f.scheduled > slo.maxErrorRate) {
    out.push({ ...base, metric: 'error rate', value: f.errors / f.scheduled, limit: slo.maxErrorRate });
  }
  if (f.answers > 0 && f.degraded / f.answers > slo.maxDegradedShare) {
    out.push({
      ...base,
      metric: 'degraded share',
      value: f.degraded / f.answers,
      limit: slo.maxDegradedShare,
    });
  }
  return out;
}

/**
 * Every SLO breach: in each slot, for each route with at least `minSamples` requests in it (fewer make a
 * p99 that is only the slowest request, and an error rate that one error decides), and over the whole run
 * for each route with any request.
 */
export function evaluateSlo(
  slots: readonly JudgedSlot[],
  run: JudgedSlot['routes'],
  slo: Readonly<Record<Route, RouteSlo>>,
  minSamples: number,
): { breaches: Breach[]; judged: number; notJudged: number } {
  const breaches: Breach[] = [];
  let judged = 0;
  let notJudged = 0;
  for (const s of slots) {
    for (const route of ROUTES) {
      const f = s.routes[route];
      if (f.scheduled === 0) continue;
      if (f.scheduled < minSamples) {
        notJudged += 1;
        continue;
      }
      judged += 1;
      breaches.push(...judge('slot', s.label, route, f, slo[route]));
    }
  }
  for (const route of ROUTES) {
    if (run[route].scheduled > 0) breaches.push(...judge('run', null, route, run[route], slo[route]));
  }
  return { breaches, judged, notJudged };
}

// ---------------------------------------------------------------------------------------------------
// The generator's own keep-up

export interface GeneratorSlot {
  readonly index: number;
  readonly label: string;
  readonly durationMs: number;
  readonly scheduled: number;
  readonly sent: number;
  /** How late the generator handed requests to its client, compared with their scheduled time. */
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** Share of the slot the generator process was busy (its CPU time over wall time). */
  readonly busy: number;
  /** When the slot's schedule really started minus when it was planned to (ms; > 0 late). */
  readonly startSlipMs: number | null;
}

export interface GuardIssue {
  readonly slot: string;
  readonly what: 'lag' | 'start slip' | 'busy' | 'not sent';
  readonly value: number;
  readonly limit: number;
  /** True: the slot's figures are the generator's, not the suite's, and the run is invalid. */
  readonly invalidates: boolean;
}

export interface GuardResult {
  readonly valid: boolean;
  readonly issues: readonly GuardIssue[];
  readonly worstLagP99Ms: number;
  readonly worstStartSlipMs: number;
  /** Requests handed to the client over requests scheduled, the whole run. */
  readonly sentShare: number;
}

/**
 * Whether the generator kept the schedule. Invalid when, in any slot with at least `minSamples` requests, its
 * send lag p99 exceeds `maxLagMs` (latency counts from the scheduled time, so a late generator's delay would be
 * charged to the suite), or any slot started off plan by more than `maxStartSlip` of its length (the offered
 * rate was not the plan's). Warnings only: the lag of a slot with fewer requests (its p99 is its one latest
 * send, and such a slot's p99 is not judged either), a generator process over 90 % busy, and requests not sent
 * because the in-flight cap was reached (that cap is only reached when the suite holds every request until
 * its timeout: the suite's failure, counted as errors).
 */
export function generatorGuard(
  slots: readonly GeneratorSlot[],
  limits: { readonly maxLagMs: number; readonly maxStartSlip: number; readonly minSamples: number },
): GuardResult {
  const issues: GuardIssue[] = [];
  let worstLag = 0;
  let worstSlip = 0;
  let scheduled = 0;
  let sent = 0;
  for (const s of slots) {
    scheduled += s.scheduled;
    sent += s.sent;
    if (s.scheduled === 0) continue;
    worstLag = Math.max(worstLag, s.lagP99Ms);
    if (s.lagP99Ms > limits.maxLagMs) {
      issues.push({
        slot: s.label,
        what: 'lag',
        value: s.lagP99Ms,
        limit: limits.maxLagMs,
        invalidates: s.scheduled >= limits.minSamples,
      });
    }
    if (s.startSlipMs !== null) {
      if (Math.abs(s.startSlipMs) > Math.abs(worstSlip)) worstSlip = s.startSlipMs;
      const limit = limits.maxStartSlip * s.durationMs;
      if (Math.abs(s.startSlipMs) > limit) {
        issues.push({ slot: s.label, what: 'start slip', value: s.startSlipMs, limit, invalidates: true });
      }
    }
    if (s.busy > 0.9)
      issues.push({ slot: s.label, what: 'busy', value: s.busy, limit: 0.9, invalidates: false });
    if (s.sent < s.scheduled) {
      issues.push({
        slot: s.label,
        what: 'not sent',
        value: s.scheduled - s.sent,
        limit: 0,
        invalidates: false,
      });
    }
  }
  return {
    valid: !issues.some((i) => i.invalidates),
    issues,
    worstLagP99Ms: worstLag,
    worstStartSlipMs: worstSlip,
    sentShare: scheduled > 0 ? sent / scheduled : 1,
  };
}

export type Verdict = 'pass' | 'fail' | 'invalid';

/** Invalid wins: a generator that fell behind makes every figure doubtful, breaches included. */
export function verdictOf(breaches: readonly Breach[], guard: Pick<GuardResult, 'valid'>): Verdict {
  if (!guard.valid) return 'invalid';
  return breaches.length > 0 ? 'fail' : 'pass';
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)} %`;

export function describeBreach(b: Breach): string {
  const where = b.scope === 'slot' ? `slot ${b.slot}` : 'whole run';
  const value =
    b.metric === 'p99' ? `${b.value.toFixed(1)} ms > ${b.limit} ms` : `${pct(b.value)} > ${pct(b.limit)}`;
  return `${b.route} ${b.metric} ${value} (${where}, ${b.samples} requests)`;
}

export function describeIssue(i: GuardIssue): string {
  switch (i.what) {
    case 'lag':
      return (
        `slot ${i.slot}: generator send lag p99 ${i.value.toFixed(1)} ms > ${i.limit} ms` +
        (i.invalidates ? '' : ' (too few requests to judge)')
      );
    case 'start slip':
      return `slot ${i.slot}: started ${Math.abs(i.value).toFixed(0)} ms ${i.value > 0 ? 'late' : 'early'} (limit ${i.limit.toFixed(0)} ms)`;
    case 'busy':
      return `slot ${i.slot}: generator ${Math.round(i.value * 100)} % busy`;
    case 'not sent':
      return `slot ${i.slot}: ${i.value} requests not sent (in-flight cap reached; counted as errors)`;
  }
}
