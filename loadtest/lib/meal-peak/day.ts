/**
 * Runs the compressed day: one open-loop `runLoad` per 15-minute slot at that slot's rate, each launched on
 * an absolute schedule (slot k's first request is due at the day's start + k x slot length) without waiting
 * for the previous slot's stragglers, so arrivals never pause while the suite is slow: the open model holds
 * across slot boundaries. A slot's requests are sent by their own load-engine process; the previous one
 * finishes receiving meanwhile. Latency counts from each request's scheduled time, as in every benchmark.
 *
 * The engine runs at one fixed rate per call, so the rate is a step per slot, and each slot's schedule
 * starts when its engine process starts: the launch is moved earlier by the measured time the generator
 * takes to build a slot's requests, and what remains (the start slip) is measured and judged by the guard.
 */
import { performance } from 'node:perf_hooks';
import { runLoad } from '../generator.ts';
import { MicrosHistogram } from '../histogram.ts';
import type { MixEntry } from '../mix.ts';
import type { LoadResult } from '../result.ts';
import type { DayPlan, SlotPlan } from './demand.ts';
import { cpuCores, hitRatios, type Scrape, type TierRatio } from './metrics.ts';
import { answerCheck, newTallies, type AnswerTallies, type RouteLog } from './requests.ts';
import { ROUTES, type Route } from './routes.ts';
import type { GeneratorSlot, RouteFigures } from './slo.ts';

export interface SlotFigures {
  readonly index: number;
  readonly label: string;
  readonly plannedRate: number;
  readonly durationMs: number;
  readonly routes: Readonly<Record<Route, RouteFigures>>;
  readonly total: {
    readonly scheduled: number;
    readonly ok: number;
    readonly errors: number;
    readonly offeredRate: number;
    readonly achievedRate: number;
  };
  readonly generator: GeneratorSlot & { readonly peakInFlight: number; readonly warnings: readonly string[] };
  /** Hit ratio per `<process>/<cache>/<tier>` over the slot; null when /metrics was not read (remote target). */
  readonly caches: Readonly<Record<string, TierRatio>> | null;
  /** CPU cores used per process over the slot; null when not read. */
  readonly cpuCores: Readonly<Record<string, number | null>> | null;
  /** Resident set per process at the slot's end, MB; null when not read. */
  readonly rssMb: Readonly<Record<string, number | null>> | null;
}

export interface WarmupFigures {
  readonly rate: number;
  readonly durationMs: number;
  readonly scheduled: number;
  readonly ok: number;
  readonly errors: number;
  readonly p99Ms: number;
}

export interface DayRun {
  readonly slots: readonly SlotFigures[];
  readonly run: Readonly<Record<Route, RouteFigures>>;
  readonly warmup: WarmupFigures | null;
}

export interface DayOptions {
  readonly origin: string;
  readonly plan: DayPlan;
  readonly warmupMs: number;
  readonly timeoutMs: number;
  readonly seed: number;
  readonly pageSize: number;
  /** The slot's requests; writes each request's route code into `routes[i]` as it builds it. */
  readonly mixFor: (slot: SlotPlan, routes: RouteLog) => MixEntry[];
  /** Reads every process's /metrics, or null when they cannot be read (a remote target). */
  readonly scrape: (() => Promise<Record<string, Scrape>>) | null;
  readonly out?: (line: string) => void;
}

/** Time the load engine needs between being started and sending its first request (ms), taken as fixed. */
const ENGINE_START_MS = 2;
/** Time the generator takes to build and write one request before the engine starts (ms), taken as fixed. */
const PREP_PER_REQUEST_MS = 0.02;

const sleepUntil = (t: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

class RouteCounter {
  readonly estimates: boolean;
  scheduled = 0;
  ok = 0;
  errors = 0;
  readonly errorsByKind: Record<string, number> = {};
  readonly latency = new MicrosHistogram();

  constructor(route: Route) {
    this.estimates = route !== 'admin';
  }

  figures(
    t: { answers: number; degraded: number; bySource: Record<string, number> },
    seconds: number,
  ): RouteFigures {
    const l = this.latency.figures();
    const has = l.count > 0;
    return {
      scheduled: this.scheduled,
      ok: this.ok,
      errors: this.errors,
      errorsByKind: { ...this.errorsByKind },
      errorRate: this.scheduled > 0 ? this.errors / this.scheduled : null,
      p50Ms: has ? l.p50 : null,
      p95Ms: has ? l.p95 : null,
      p99Ms: has ? l.p99 : null,
      maxMs: has ? l.max : null,
      answers: t.answers,
      degraded: t.degraded,
      // The admin API answers settings, never an estimate: it has no degraded answers to count.
      degradedShare: t.answers > 0 && this.estimates ? t.degraded / t.answers : null,
      bySource: { ...t.bySource },
      offeredRate: Math.round((this.scheduled / seconds) * 100) / 100,
      achievedRate: Math.round((this.ok / seconds) * 100) / 100,
    };
  }
}

const newCounters = () =>
  Object.fromEntries(ROUTES.map((r) => [r, new RouteCounter(r)])) as Record<Route, RouteCounter>;

function addTallies(into: AnswerTallies, from: AnswerTallies): void {
  for (const r of ROUTES) {
    into[r].answers += from[r].answers;
    into[r].degraded += from[r].degraded;
    for (const [k, v] of Object.entries(from[r].bySource))
      into[r].bySource[k] = (into[r].bySource[k] ?? 0) + v;
  }
}

const mb = (bytes: number | null) => (bytes === null ? null : Math.round(bytes / 2 ** 20));

export async function runDay(opts: DayOptions): Promise<DayRun> {
  const out = opts.out ?? console.log;
  const { plan } = opts;
  const first = plan.slots[0];
  if (first === undefined) throw new Error('the plan has no slots');
  const runCounters = newCounters();
  const runTallies = newTallies();

  // Time from calling runLoad to the engine's start: building and writing the slot's requests (about
  // PREP_PER_REQUEST_MS each) plus a fixed part (a temporary folder, the files, the process), learnt as the
  // median of the last finished slots, so one slot prepared on a starved CPU does not launch the next ones early.
  const recentFixed: number[] = [];
  let fixedMs = 10;
  const leadMs = (requests: number) => fixedMs + PREP_PER_REQUEST_MS * requests + ENGINE_START_MS;
  const learn = (calledAtEpoch: number, startedAt: string, requests: number) => {
    const prep = Date.parse(startedAt) - calledAtEpoch;
    if (!Number.isFinite(prep) || prep < 0) return;
    recentFixed.push(Math.max(0, prep - PREP_PER_REQUEST_MS * requests));
    if (recentFixed.length > 5) recentFixed.shift();
    const sorted = [...recentFixed].sort((a, b) => a - b);
    fixedMs = Math.min(200, sorted[Math.floor(sorted.length / 2)]!);
  };

  let failure: unknown = null;
  const launch = <T>(p: Promise<T>): Promise<T | null> =>
    p.catch((err: unknown) => {
      failure ??= err;
      return null;
    });

  // Warm-up: unmeasured load at the first slot's rate, right before the day.
  const t0 = performance.now() + 50;
  let warmup: Promise<LoadResult | null> = Promise.resolve(null);
  if (opts.warmupMs > 0) {
    const routes: RouteLog = [];
    warmup = launch(
      runLoad({
        origin: opts.origin,
        mix: opts.mixFor(first, routes),
        rate: first.rate,
        durationMs: opts.warmupMs,
        timeoutMs: opts.timeoutMs,
        seed: opts.seed * 1000 + 999,
        label: 'meal-peak warm-up',
        check: answerCheck(newTallies(), opts.pageSize),
      }),
    );
  }
  const dayStart = t0 + opts.warmupMs;

  const scrapes: Promise<Record<string, Scrape> | null>[] = [];
  const scrape = () =>
    opts.scrape === null
      ? Promise.resolve(null)
      : opts.scrape().catch(() => null as Record<string, Scrape> | null);

  const runSlot = async (
    slot: SlotPlan,
    plannedPerf: number,
  ): Promise<{
    slot: SlotPlan;
    result: LoadResult;
    routes: Record<Route, RouteFigures>;
    tallies: AnswerTallies;
    slipMs: number | null;
  }> => {
    const routeLog: RouteLog = [];
    const tallies = newTallies();
    const counters = newCounters();
    const calledAtEpoch = Date.now();
    const plannedEpoch = calledAtEpoch + (plannedPerf - performance.now());
    const interval = 1000 / slot.rate;
    const result = await runLoad({
      origin: opts.origin,
      mix: opts.mixFor(slot, routeLog),
      rate: slot.rate,
      durationMs: slot.durationMs,
      timeoutMs: opts.timeoutMs,
      seed: opts.seed * 1000 + slot.index,
      label: `meal-peak ${slot.label}`,
      check: answerCheck(tallies, opts.pageSize),
      onRecord: (rec) => {
        const route = ROUTES[routeLog[Math.round(rec.scheduledMs / interval)] ?? -1];
        if (route === undefined)
          throw new Error(`no route recorded for the request due at ${rec.scheduledMs} ms`);
        for (const c of [counters[route], runCounters[route]]) {
          c.scheduled += 1;
          if (rec.kind === null) {
            c.ok += 1;
            c.latency.recordMs(rec.latencyMs);
          } else {
            c.errors += 1;
            c.errorsByKind[rec.kind] = (c.errorsByKind[rec.kind] ?? 0) + 1;
          }
        }
      },
    });
    learn(calledAtEpoch, result.startedAt, slot.requests);
    const started = Date.parse(result.startedAt);
    const slipMs = Number.isFinite(started) ? Math.round(started + ENGINE_START_MS - plannedEpoch) : null;
    const seconds = slot.durationMs / 1000;
    const routes = Object.fromEntries(
      ROUTES.map((r) => [r, counters[r].figures(tallies[r], seconds)]),
    ) as Record<Route, RouteFigures>;
    out(progressLine(slot, routes, result, slipMs));
    return { slot, result, routes, tallies, slipMs };
  };

  const pending: Promise<Awaited<ReturnType<typeof runSlot>> | null>[] = [];
  for (const slot of plan.slots) {
    if (failure !== null) break;
    const planned = dayStart + slot.startMs;
    await sleepUntil(planned - leadMs(slot.requests));
    pending.push(launch(runSlot(slot, planned)));
    await sleepUntil(planned);
    scrapes.push(scrape());
  }
  await sleepUntil(dayStart + plan.dayMs);
  scrapes.push(scrape());

  const warm = await warmup;
  const done = await Promise.all(pending);
  const snaps = await Promise.all(scrapes);
  if (failure !== null) throw failure;

  const slots: SlotFigures[] = [];
  done.forEach((d, k) => {
    if (d === null) return;
    const { slot, result, routes, tallies, slipMs } = d;
    addTallies(runTallies, tallies);
    const seconds = slot.durationMs / 1000;
    const before = snaps[k] ?? null;
    const after = snaps[k + 1] ?? null;
    const scheduled = ROUTES.reduce((a, r) => a + routes[r].scheduled, 0);
    const ok = ROUTES.reduce((a, r) => a + routes[r].ok, 0);
    const figures: SlotFigures = {
      index: slot.index,
      label: slot.label,
      plannedRate: slot.rate,
      durationMs: slot.durationMs,
      routes,
      total: {
        scheduled,
        ok,
        errors: scheduled - ok,
        offeredRate: Math.round((scheduled / seconds) * 100) / 100,
        achievedRate: Math.round((ok / seconds) * 100) / 100,
      },
      generator: {
        index: slot.index,
        label: slot.label,
        durationMs: slot.durationMs,
        scheduled: result.scheduled,
        sent: result.sent,
        lagP99Ms: result.schedulingLagMs.p99,
        lagMaxMs: result.schedulingLagMs.max,
        busy: result.generatorBusy,
        startSlipMs: slipMs,
        peakInFlight: result.peakInFlight,
        warnings: result.warnings,
      },
      caches: before !== null && after !== null ? hitRatios(before, after) : null,
      cpuCores: before !== null && after !== null ? cpuCores(before, after, seconds) : null,
      rssMb:
        after !== null
          ? Object.fromEntries(Object.entries(after).map(([p, s]) => [p, mb(s.rssBytes)]))
          : null,
    };
    slots.push(figures);
  });

  const daySeconds = plan.dayMs / 1000;
  const run = Object.fromEntries(
    ROUTES.map((r) => [r, runCounters[r].figures(runTallies[r], daySeconds)]),
  ) as Record<Route, RouteFigures>;
  return {
    slots,
    run,
    warmup:
      warm === null
        ? null
        : {
            rate: warm.offeredRate,
            durationMs: warm.durationMs,
            scheduled: warm.scheduled,
            ok: warm.ok,
            errors: warm.errors,
            p99Ms: warm.latencyMs.p99,
          },
  };
}

const f1 = (x: number | null) => (x === null ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));

function progressLine(
  slot: SlotPlan,
  r: Readonly<Record<Route, RouteFigures>>,
  result: LoadResult,
  slipMs: number | null,
): string {
  const ok = ROUTES.reduce((a, k) => a + r[k].ok, 0);
  const n = ROUTES.reduce((a, k) => a + r[k].scheduled, 0);
  return (
    `[${slot.label}] ${slot.rate}/s ok ${ok}/${n}` +
    ` | p99 ms precise ${f1(r.precise.p99Ms)} rough ${f1(r.rough.p99Ms)} admin ${f1(r.admin.p99Ms)}` +
    ` | lag p99 ${f1(result.schedulingLagMs.p99)} ms, start ${slipMs === null ? '?' : `${slipMs >= 0 ? '+' : ''}${slipMs}`} ms`
  );
}
