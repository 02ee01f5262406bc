/**
 * The whole estimate chain as shipped: Geo, the ML proxy and the vendor BFF each in their own process, started
 * with exactly the README run command's configuration (scripts/suite.ts: ROLE=all on embedded PGlite with the
 * seeded Seoul stores, L1 caches, default TTLs) and called with the credential the README hands a calling
 * service (a service JWT from `pnpm -s dev:token --service`). Every precise request has a fresh destination,
 * so no layer answers from a cache; an answer counts as ok only when not degraded (a fallback is a failed
 * request here, however polite). Service keys set in the environment reach the services as they would reach
 * the run command, and the header lists them: a run with any is not "as shipped".
 *
 * In the same run, minutes apart, the hop floor (hop-floor.bench.ts): the same three-process layout with
 * handlers that do no work. The chain's p99 is reported as a ratio to it.
 *
 *   node loadtest/scenarios/bff-chain.bench.ts        (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench bff-chain
 *   BENCH_CREDENTIAL=static   a shared SERVICE_TOKENS token instead of the JWT (to price JWT checks; stated)
 *
 * Goals (issue 17): precise p99 <= 1.5 x the floor's p99 at 1,000/s and 2,000/s with 0 errors; the highest
 * precise rate with p99 <= 25 ms at least 4,000/s; rough (50 stores, all cache misses) p99 <= 15 ms at
 * 200/s; 500/s over 500 connections (each used in turn, as 500 callers) with 0 degraded answers and p99
 * within 2x of the 64-connection figure; at 2x and 3x capacity at least 90 % of the requests not refused
 * answered within the SLO (200, not degraded, within the 250 ms estimate budget of the scheduled time), the
 * refused ones refused with 503 in under 5 ms, and back to normal within 10 s. Figures are printed and returned; nothing here asserts on speed.
 */
import { samples, sampleValue } from '@eta/service-kit';
import {
  fmtMs,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  type LoadResult,
  type MixEntry,
  type RequestRecord,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';
import {
  bearerHeaders,
  preciseAnswered,
  preciseMix as buildPreciseMix,
  roughAnswered,
  roughMix as buildRoughMix,
} from '../lib/estimates.ts';
import { devServiceToken, startSuite, suiteOverrides, suiteRoot } from '../lib/suite.ts';
import {
  cpuUsPerRequest as cpuPerRequest,
  floorP99,
  fmtCpu,
  measureFloor,
  type FloorFigures,
} from './hop-floor.bench.ts';
import { scrape } from '../lib/events/metrics.ts';

const PRECISE_RATES = [500, 1000, 2000] as const;
const ROUGH_RATE = 200;
const ROUGH_STORES = 50;
const SEARCH_P99_MS = 25;
/** Precise p99 over the floor's p99 at the same rate. */
const FLOOR_RATIO_GOAL = 1.5;
const ROUGH_GOAL_P99_MS = 15;
/** The many-callers run: this rate over this many connections, each used in turn. */
const MANY = { rate: 500, connections: 500 } as const;
/**
 * An answer within the SLO under overload: 200, not degraded, within the estimate budget (ESTIMATE_BUDGET_MS,
 * 250 ms by default) of its scheduled time. The share within 25 ms is printed beside it.
 */
const SLO_MS = 250;
const FAST_MS = 25;
/** The seed's store ids are 1..SEED_STORES (5,000 by default). */
const STORES = Number(process.env.BENCH_BFF_STORES ?? 5000);

/** The BFF's dependency failures by `dependency/operation/kind`, to tell why a run had errors. */
function dependencyFailures(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const { labels, value } of samples(metrics, 'bff_dependency_failures_total')) {
    const { dependency, operation, kind } = labels;
    if (!dependency || !operation || !kind) continue;
    const key = `${dependency}/${operation}/${kind}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** Requests and calls of the BFF's coalesced dependency calls so far, per dependency (geo, ml-proxy). */
function coalesced(metrics: string): Record<string, { requests: number; calls: number }> {
  const out: Record<string, { requests: number; calls: number }> = {};
  const add = (series: string, field: 'requests' | 'calls') => {
    for (const { labels, value } of samples(metrics, series)) {
      if (!labels.dependency || !labels.operation) continue;
      (out[labels.dependency] ??= { requests: 0, calls: 0 })[field] += value;
    }
  };
  add('bff_coalesced_requests_sum', 'requests');
  add('bff_coalesced_requests_count', 'calls');
  return out;
}

export interface ChainRun extends LoadResult {
  readonly kind: 'cold' | 'precise' | 'rough' | 'many' | 'search' | 'overload' | 'recovery';
  /** CPU microseconds per offered request, per process, over warm-up and the measured window. */
  readonly cpuUsPerRequest: Readonly<Record<string, number>>;
  /** Dependency failures the BFF counted during the run (warm-up included), by dependency/operation/kind. */
  readonly dependencyFailures: Readonly<Record<string, number>>;
  /** Mean requests per coalesced call during the run (warm-up included), per dependency; 1 = no sharing. */
  readonly requestsPerCall: Readonly<Record<string, number>>;
  /** Resident set of each process right after the run, MB. */
  readonly rssMb: Readonly<Record<string, number>>;
}

/** What an overload run did with the requests it was offered (from every request's record). */
export interface OverloadFigures {
  readonly offeredRate: number;
  readonly scheduled: number;
  /** Share answered 200, not degraded, within SLO_MS of the scheduled time. */
  readonly withinSlo: number;
  /** Share answered 200, not degraded, within FAST_MS. */
  readonly withinFast: number;
  /** Share refused with 503. */
  readonly refused: number;
  /** Share neither (late answers, other errors). */
  readonly other: number;
  readonly refusalP50Ms: number;
  readonly refusalP99Ms: number;
  /** After the overload, seconds until the p99 of everything from then on was <= 2x the calm p99, no errors. */
  readonly recoverySeconds: number | null;
  /**
   * The stricter reading used until 2026-12-07: seconds until every following 1-s window on its own had
   * p99 <= 2x the calm p99 and no errors (see recoveredAfter).
   */
  readonly recoveryWindowsSeconds: number | null;
}

/**
 * Issue 17's overload goal: at least 90 % of the admitted requests within the SLO, the refused ones refused
 * in under 5 ms (p99), and back to the calm p99 within 10 s. A run that refused nothing meets the refusal
 * part (no refusal was slow); its 503 latencies are NaN, which no comparison passes.
 */
export function overloadGoalMet(o: OverloadFigures): boolean {
  const refusalsFast = o.refused === 0 || o.refusalP99Ms < 5;
  return (
    o.withinSlo >= 0.9 * (1 - o.refused) &&
    refusalsFast &&
    o.recoverySeconds !== null &&
    o.recoverySeconds <= 10
  );
}

export interface ChainFigures {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly configuration: {
    readonly credential: 'jwt' | 'static';
    readonly overrides: Readonly<Record<string, string>>;
    readonly asShipped: boolean;
  };
  readonly floor: FloorFigures;
  readonly runs: readonly ChainRun[];
  /** Highest precise rate tried whose p99 stayed <= 25 ms with no errors; null when none did. */
  readonly maxRateP99Within25ms: number | null;
  readonly overload: readonly OverloadFigures[];
  /** The calm 1,000/s row scored by the recovery rule (pooled) and by every 1-s window: a control. */
  readonly calmAsRecovery: { readonly pooled: number | null; readonly everyWindow: number | null };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** One second of the recovery run: the latencies of the requests scheduled in it answered as asked, and the rest. */
export interface RecoveryWindow {
  readonly second: number;
  readonly latenciesMs: readonly number[];
  readonly errors: number;
}

/** A run's requests by the second they were scheduled in (after its warm-up). */
class Windows {
  readonly #bySecond = new Map<number, { latenciesMs: number[]; errors: number }>();
  add(r: RequestRecord): void {
    if (r.scheduledMs < 0) return;
    const second = Math.floor(r.scheduledMs / 1000);
    let w = this.#bySecond.get(second);
    if (w === undefined) this.#bySecond.set(second, (w = { latenciesMs: [], errors: 0 }));
    if (r.kind === null) w.latenciesMs.push(r.latencyMs);
    else w.errors += 1;
  }
  list(): RecoveryWindow[] {
    return [...this.#bySecond].map(([second, w]) => ({ second, ...w }));
  }
}

/**
 * When the chain was back to normal after an overload: the first second T of the calm run that follows it
 * from which the requests scheduled at T and after, taken together, had p99 <= 2x the calm p99 (the
 * 1,000/s row's, itself the p99 of 20 s) and no errors; null if none. `windows: true` is the stricter
 * reading used before: every 1-s window from T on must meet that on its own. It compares the p99 of 1,000
 * requests with that of 20,000, so one 10-request stall anywhere in the run's last ten seconds failed it
 * (a scratch run on 2026-12-07, calm p99 6.87 ms: the recovery run's seconds 2.4-5.9 ms but one of 13.6).
 * The bench scores the calm row itself both ways as a control.
 */
export function recoveredAfter(
  runWindows: readonly RecoveryWindow[],
  calmP99Ms: number,
  { windows = false }: { windows?: boolean } = {},
): number | null {
  const ordered = [...runWindows].sort((a, b) => a.second - b.second);
  const healthy = (group: readonly RecoveryWindow[]): boolean => {
    if (group.some((w) => w.errors > 0)) return false;
    const all = group.flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
    return all.length > 0 && quantile(all, 0.99) <= 2 * calmP99Ms;
  };
  for (let i = 0; i < ordered.length; i++) {
    const rest = ordered.slice(i);
    if (windows ? rest.every((w) => healthy([w])) : healthy(rest)) return ordered[i]!.second;
  }
  return null;
}

function rssMb(metrics: string): number {
  return Math.round((sampleValue(metrics, 'process_resident_memory_bytes') ?? Number.NaN) / 2 ** 20);
}

export async function run(opts: ScenarioOptions): Promise<ChainFigures> {
  // 10 s at each rate before 20 s measured at it: when the rate steps up, the three processes take
  // several seconds to settle. The first load of all, right after start, is the `cold` row.
  const durationMs = opts.quick ? 2000 : 20_000;
  const warmupMs = opts.quick ? 500 : 10_000;
  const searchDurationMs = opts.quick ? 1000 : 10_000;
  const searchWarmupMs = opts.quick ? 500 : 5_000;

  const credential = process.env.BENCH_CREDENTIAL === 'static' ? 'static' : 'jwt';
  const staticToken = 'bench-chain-shared-token-0123456789abcdef';
  // BENCH_SUITE_ROOT: another checkout's services on this harness (a before/after comparison; said below).
  const root = suiteRoot(opts.root);
  const overrides = suiteOverrides(opts.root);
  if (root !== opts.root) overrides.BENCH_SUITE_ROOT = root;
  const extraBff: Record<string, string> = {};
  if (credential === 'static') extraBff.SERVICE_TOKENS = `bench:${staticToken}`;
  const asShipped = credential === 'jwt' && Object.keys(overrides).length === 0;
  const token = credential === 'static' ? staticToken : devServiceToken(root, 'bench');
  const headers = bearerHeaders(token);
  const preciseMix = buildPreciseMix(headers, STORES);
  const roughMix = buildRoughMix(headers, STORES, ROUGH_STORES);
  const roughCheck = roughAnswered(ROUGH_STORES);
  const said =
    (asShipped ? 'AS SHIPPED' : 'NOT AS SHIPPED') +
    ` (the run command's configuration; credential: ${credential === 'jwt' ? 'service JWT from pnpm dev:token' : 'static SERVICE_TOKENS token (BENCH_CREDENTIAL=static)'}` +
    `${Object.keys(overrides).length > 0 ? `; overrides from the environment: ${JSON.stringify(overrides)}` : ''})`;
  console.log(`bff-chain: ${said}`);

  // The floor first, alone on the machine, minutes before the chain.
  const floor = await measureFloor(opts.root, [1000, 2000], { durationMs, warmupMs });

  const suite = await startSuite({ root, extraEnv: { 'vendor-bff': extraBff } });
  try {
    const processes: Record<string, SpawnedService> = { bff: suite.bff, geo: suite.geo, ml: suite.ml };
    const runs: ChainRun[] = [];
    const measure = async (
      kind: ChainRun['kind'],
      mix: readonly MixEntry[],
      rate: number,
      duration: number,
      check: (res: { body: string }) => boolean,
      warmup = warmupMs,
      extra: { connections?: number; spread?: boolean; onRecord?: (r: RequestRecord) => void } = {},
    ): Promise<ChainRun> => {
      // processes.bff is first: index 0 of each scrape list.
      const before = await Promise.all(Object.values(processes).map((p) => scrape(p.origin)));
      const result = await runLoad({
        origin: suite.bff.origin,
        mix,
        rate,
        durationMs: duration,
        warmupMs: warmup,
        timeoutMs: 2000,
        label: `${kind}@${rate}${extra.spread ? `x${extra.connections}conn` : ''}`,
        seed: rate + runs.length,
        check,
        ...extra,
      });
      const after = await Promise.all(Object.values(processes).map((p) => scrape(p.origin)));
      const offered = (rate * (duration + warmup)) / 1000;
      const names = Object.keys(processes);
      const cpuUsPerRequest = cpuPerRequest(names, before, after, offered);
      const rss = Object.fromEntries(names.map((name, i) => [name, rssMb(after[i]!)]));
      const sharedBefore = coalesced(before[0]!);
      const requestsPerCall = Object.fromEntries(
        Object.entries(coalesced(after[0]!)).map(([dep, a]) => {
          const b = sharedBefore[dep] ?? { requests: 0, calls: 0 };
          const calls = a.calls - b.calls;
          return [dep, calls > 0 ? Math.round(((a.requests - b.requests) / calls) * 100) / 100 : 0];
        }),
      );
      const failuresBefore = dependencyFailures(before[0]!);
      const failures = Object.fromEntries(
        [...dependencyFailures(after[0]!)]
          .map(([k, v]) => [k, v - (failuresBefore.get(k) ?? 0)] as const)
          .filter(([, v]) => v > 0),
      );
      printSummary(result);
      if (Object.keys(failures).length > 0) console.log(`  dependency failures: ${JSON.stringify(failures)}`);
      const r = {
        ...result,
        kind,
        cpuUsPerRequest,
        dependencyFailures: failures,
        requestsPerCall,
        rssMb: rss,
      };
      runs.push(r);
      return r;
    };

    // Start-up, reported as the `cold` row and not judged: the catalogue fills from the database, V8 grows
    // its heaps and the JIT settles over the first tens of thousands of requests.
    await measure('cold', preciseMix, 1000, opts.quick ? 1000 : 40_000, preciseAnswered, 0);

    // The calm row's own seconds are kept, to score it by the recovery rule as a control.
    const calmWindows = new Windows();
    for (const rate of PRECISE_RATES) {
      await measure('precise', preciseMix, rate, durationMs, preciseAnswered, warmupMs, {
        ...(rate === 1000 ? { onRecord: (r: RequestRecord) => calmWindows.add(r) } : {}),
      });
    }
    await measure('rough', roughMix, ROUGH_RATE, durationMs, roughCheck);
    await measure('many', preciseMix, MANY.rate, durationMs, preciseAnswered, warmupMs, {
      connections: MANY.connections,
      spread: true,
    });

    // Step search: up from 2,000/s in steps while p99 holds, down while it does not.
    const within = (r: LoadResult) => r.errors === 0 && r.latencyMs.p99 <= SEARCH_P99_MS;
    const base = runs.find((r) => r.kind === 'precise' && r.offeredRate === 2000);
    let best: number | null = base !== undefined && within(base) ? 2000 : null;
    const up = [3000, 4000, 5000, 6000];
    const down = [1500, 1000];
    for (const rate of best === null ? down : up) {
      const r = await measure('search', preciseMix, rate, searchDurationMs, preciseAnswered, searchWarmupMs);
      if (within(r)) best = Math.max(best ?? 0, rate);
      else if (best !== null) break;
      if (opts.quick) break;
    }

    // Overload: 2x and 3x the capacity just found, each followed by a calm run that times the recovery.
    const capacity = best ?? 1000;
    const calm = runs.find((r) => r.kind === 'precise' && r.offeredRate === 1000);
    const calmP99 = calm?.latencyMs.p99 ?? SEARCH_P99_MS;
    const overload: OverloadFigures[] = [];
    for (const factor of [2, 3]) {
      const rate = capacity * factor;
      const records: RequestRecord[] = [];
      // Connections for many callers (a quarter of the rate), so requests wait at the server, where the
      // admission control can see and refuse them, rather than in the generator's own queue.
      await measure('overload', preciseMix, rate, opts.quick ? 2000 : 20_000, preciseAnswered, 0, {
        connections: Math.min(4096, Math.ceil(rate / 4)),
        onRecord: (r) => records.push(r),
      });
      const windows = new Windows();
      await measure('recovery', preciseMix, 1000, opts.quick ? 2000 : 20_000, preciseAnswered, 0, {
        onRecord: (r) => windows.add(r),
      });
      const recovery = windows.list();
      const inSlo = records.filter((r) => r.kind === null && r.latencyMs <= SLO_MS).length;
      const fast = records.filter((r) => r.kind === null && r.latencyMs <= FAST_MS).length;
      const refusals = records
        .filter((r) => r.status === 503)
        .map((r) => r.latencyMs)
        .sort((a, b) => a - b);
      const n = records.length;
      overload.push({
        offeredRate: rate,
        scheduled: n,
        withinSlo: n > 0 ? inSlo / n : 0,
        withinFast: n > 0 ? fast / n : 0,
        refused: n > 0 ? refusals.length / n : 0,
        other: n > 0 ? (n - inSlo - refusals.length) / n : 0,
        refusalP50Ms: quantile(refusals, 0.5),
        refusalP99Ms: quantile(refusals, 0.99),
        recoverySeconds: recoveredAfter(recovery, calmP99),
        recoveryWindowsSeconds: recoveredAfter(recovery, calmP99, { windows: true }),
      });
    }

    console.log(
      `\nvendor-bff chain, ${said}: cold = the first ${opts.quick ? 1 : 40}s of load after start; then ` +
        `${durationMs / 1000}s per rate after ${warmupMs / 1000}s at that rate; search steps ` +
        `${searchDurationMs / 1000}s after ${searchWarmupMs / 1000}s${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}`,
    );
    const p64 = runs.find((r) => r.kind === 'precise' && r.offeredRate === MANY.rate);
    printTable(
      runs.map((x) => {
        const f = x.kind === 'precise' ? floorP99(floor, x.offeredRate) : undefined;
        let goal = '';
        if (x.kind === 'rough') {
          goal = `p99<=${ROUGH_GOAL_P99_MS}ms: ${x.errors === 0 && x.latencyMs.p99 <= ROUGH_GOAL_P99_MS ? 'met' : 'MISSED'}`;
        } else if (f !== undefined) {
          const ratio = x.latencyMs.p99 / f;
          goal = `${ratio.toFixed(2)}x floor (${fmtMs(f)}), <=${FLOOR_RATIO_GOAL}x: ${x.errors === 0 && ratio <= FLOOR_RATIO_GOAL ? 'met' : 'MISSED'}`;
        } else if (x.kind === 'many' && p64 !== undefined) {
          const ratio = x.latencyMs.p99 / p64.latencyMs.p99;
          goal = `${ratio.toFixed(2)}x the 64-conn p99, <=2x and 0 degraded: ${x.errors === 0 && ratio <= 2 ? 'met' : 'MISSED'}`;
        }
        return {
          kind: x.kind === 'rough' ? `rough x${ROUGH_STORES}` : x.kind,
          rate: x.offeredRate,
          conns: x.connections,
          achieved: Math.round(x.achievedRate),
          p50: fmtMs(x.latencyMs.p50),
          p95: fmtMs(x.latencyMs.p95),
          p99: fmtMs(x.latencyMs.p99),
          'p99.9': fmtMs(x.latencyMs.p999),
          errors: x.errors,
          goal,
          'cpu us/req bff/geo/ml': fmtCpu(x.cpuUsPerRequest),
          'req/call geo/ml': `${x.requestsPerCall.geo ?? '-'}/${x.requestsPerCall['ml-proxy'] ?? '-'}`,
          'rss MB bff/geo/ml': `${x.rssMb.bff}/${x.rssMb.geo}/${x.rssMb.ml}`,
        };
      }),
    );
    console.log('\nfloor (three empty Fastify processes, same layout, same run):');
    printTable(
      floor.runs.map((x) => ({
        rate: x.offeredRate,
        p50: fmtMs(x.latencyMs.p50),
        p95: fmtMs(x.latencyMs.p95),
        p99: fmtMs(x.latencyMs.p99),
        errors: x.errors,
        'cpu us/req bff/geo/ml': fmtCpu(x.cpuUsPerRequest),
      })),
    );
    console.log(
      `\nhighest precise rate with p99 <= ${SEARCH_P99_MS} ms and no errors: ${best ?? 'none tried'} (goal >= 4000)`,
    );
    console.log(`\noverload (capacity taken as ${capacity}/s; SLO: 200, not degraded, within ${SLO_MS} ms):`);
    printTable(
      overload.map((o) => ({
        offered: o.offeredRate,
        [`<=${FAST_MS}ms`]: `${(o.withinFast * 100).toFixed(1)}%`,
        [`<=${SLO_MS}ms (SLO)`]: `${(o.withinSlo * 100).toFixed(1)}%`,
        'refused 503': `${(o.refused * 100).toFixed(1)}%`,
        other: `${(o.other * 100).toFixed(1)}%`,
        '503 p50/p99': o.refused === 0 ? 'none refused' : `${fmtMs(o.refusalP50Ms)}/${fmtMs(o.refusalP99Ms)}`,
        recovery: o.recoverySeconds === null ? 'not within 20s' : `${o.recoverySeconds}s`,
        'every 1-s window':
          o.recoveryWindowsSeconds === null ? 'not within 20s' : `${o.recoveryWindowsSeconds}s`,
        goal: `>=90% of the admitted in SLO, 503 p99 <5ms, recovery <=10s: ${overloadGoalMet(o) ? 'met' : 'MISSED'}`,
      })),
    );
    // The control: the calm row scored as if it followed an overload. A rule that fails it measures noise.
    const calmAsRecovery = {
      pooled: recoveredAfter(calmWindows.list(), calmP99),
      everyWindow: recoveredAfter(calmWindows.list(), calmP99, { windows: true }),
    };
    const secs = (s: number | null) => (s === null ? 'not within 20s' : `${s}s`);
    console.log(
      `recovery = the first second from which the rest of the 1,000/s run after the overload had p99 <= 2x ` +
        `the calm row's (${fmtMs(calmP99)}) and no errors; "every 1-s window" = each second on its own. The ` +
        `calm row itself, scored the same way: ${secs(calmAsRecovery.pooled)} / ${secs(calmAsRecovery.everyWindow)}.`,
    );
    return {
      durationMs,
      warmupMs,
      configuration: { credential, overrides, asShipped },
      floor,
      runs,
      maxRateP99Within25ms: best,
      overload,
      calmAsRecovery,
    };
  } finally {
    await suite.stop();
  }
}

// Standalone: `node loadtest/scenarios/bff-chain.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
