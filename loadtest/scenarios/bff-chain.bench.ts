/**
 * The whole estimate chain: Geo, the ML proxy and the vendor BFF each in their own process (as deployed),
 * the BFF on its embedded defaults (PGlite with the seeded Seoul stores, L1 caches) or on real Postgres and
 * Redis when DATABASE_URL / REDIS_URL are set. Every precise request has a fresh destination, so no
 * layer answers from a cache; an answer counts as ok only when not degraded (a fallback is a failed
 * request here, however polite).
 *
 *   node loadtest/scenarios/bff-chain.bench.ts        (standalone; BENCH_QUICK=1 for a short run)
 *   pnpm bench bff-chain
 *
 * Goals: precise p99 <= 5 ms at 1,000 rps and <= 10 ms at 2,000 rps; rough (50 stores, all cache misses)
 * p99 <= 15 ms at 200 rps; zero errors. Also: the highest precise rate whose p99 stays <= 25 ms (a short
 * step search). Figures are printed and returned; nothing here asserts on speed.
 */
import { join } from 'node:path';
import { request } from 'undici';
import {
  fmtMs,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  spawnService,
  type LoadResult,
  type MixEntry,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';

const PRECISE_RATES = [500, 1000, 2000] as const;
const ROUGH_RATE = 200;
const ROUGH_STORES = 50;
const SEARCH_P99_MS = 25;
const GOALS_P99_MS: Readonly<Record<number, number>> = { 1000: 5, 2000: 10 };
const ROUGH_GOAL_P99_MS = 15;
/** The seed's store ids are 1..SEED_STORES (5,000 by default). */
const STORES = Number(process.env.BENCH_BFF_STORES ?? 5000);

/**
 * A box wholly inside Seoul (Guro to Jungnang, Eunpyeong to Songpa), so every destination is in the
 * service area and no request is a 422.
 */
const BOX = { minLat: 37.49, maxLat: 37.61, minLng: 126.91, maxLng: 127.09 } as const;

function point(random: () => number) {
  return {
    lat: Number((BOX.minLat + random() * (BOX.maxLat - BOX.minLat)).toFixed(6)),
    lng: Number((BOX.minLng + random() * (BOX.maxLng - BOX.minLng)).toFixed(6)),
  };
}

/** The estimate API takes a service credential; the BFF is started with this one (SERVICE_TOKENS). */
const SERVICE_TOKEN = 'bench-chain-shared-token-0123456789abcdef';
const JSON_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${SERVICE_TOKEN}` };

const preciseMix: readonly MixEntry[] = [
  {
    name: 'precise',
    weight: 1,
    build: ({ random }) => ({
      method: 'POST',
      path: '/v1/estimates/precise',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        storeId: 1 + Math.floor(random() * STORES),
        destination: point(random),
        rider: {
          vehicleType: 'motorcycle',
          vehicleCondition: Math.floor(random() * 3),
          age: 30,
          rating: 4.6,
        },
      }),
    }),
  },
];

const roughMix: readonly MixEntry[] = [
  {
    name: 'rough',
    weight: 1,
    build: ({ random }) => {
      const ids = new Set<number>();
      while (ids.size < ROUGH_STORES) ids.add(1 + Math.floor(random() * STORES));
      return {
        method: 'POST',
        path: '/v1/estimates/rough',
        headers: JSON_HEADERS,
        body: JSON.stringify({ destination: point(random), storeIds: [...ids] }),
      };
    },
  },
];

// Manual answers are the stores' own setting (some seeded stores have auto prediction off), not a fallback:
// a fallback is always `degraded: true`.
const modelAnswer = (res: { body: string }) => {
  const body = JSON.parse(res.body) as { source?: string; degraded?: boolean };
  return (body.source === 'model' || body.source === 'manual') && body.degraded === false;
};
const roughAnswer = (res: { body: string }) => {
  const body = JSON.parse(res.body) as { estimates?: { source?: string; degraded?: boolean }[] };
  return (
    body.estimates?.length === ROUGH_STORES &&
    body.estimates.every((e) => (e.source === 'rough' || e.source === 'manual') && e.degraded === false)
  );
};

/** One scrape of a process's /metrics; the readers below take what they need from the text. */
async function metricsText(svc: SpawnedService): Promise<string> {
  const res = await request(`${svc.origin}/metrics`);
  return res.body.text();
}

/** The BFF's dependency failures by `dependency/operation/kind`, to tell why a run had errors. */
function dependencyFailures(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(
    /^bff_dependency_failures_total\{dependency="([^"]+)",operation="([^"]+)",kind="([^"]+)"\} (\S+)$/gm,
  )) {
    out.set(`${m[1]}/${m[2]}/${m[3]}`, Number(m[4]));
  }
  return out;
}

/** Requests and calls of the BFF's coalesced dependency calls so far, per dependency (geo, ml-proxy). */
function coalesced(metrics: string): Record<string, { requests: number; calls: number }> {
  const out: Record<string, { requests: number; calls: number }> = {};
  for (const m of metrics.matchAll(
    /^bff_coalesced_requests_(sum|count)\{dependency="([^"]+)",operation="[^"]+"\} (\S+)$/gm,
  )) {
    const entry = (out[m[2]!] ??= { requests: 0, calls: 0 });
    if (m[1] === 'sum') entry.requests += Number(m[3]);
    else entry.calls += Number(m[3]);
  }
  return out;
}

function cpuSeconds(metrics: string): number {
  const m = /^process_cpu_seconds_total (\S+)$/m.exec(metrics);
  return m?.[1] === undefined ? Number.NaN : Number(m[1]);
}

export interface ChainRun extends LoadResult {
  readonly kind: 'cold' | 'precise' | 'rough' | 'search';
  /** CPU microseconds per offered request, per process, over warm-up and the measured window. */
  readonly cpuUsPerRequest: Readonly<Record<string, number>>;
  /** Dependency failures the BFF counted during the run (warm-up included), by dependency/operation/kind. */
  readonly dependencyFailures: Readonly<Record<string, number>>;
  /** Mean requests per coalesced call during the run (warm-up included), per dependency; 1 = no sharing. */
  readonly requestsPerCall: Readonly<Record<string, number>>;
}

export interface ChainFigures {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly backing: { readonly database: string; readonly cache: string };
  readonly runs: readonly ChainRun[];
  /** Highest precise rate tried whose p99 stayed <= 25 ms with no errors; null when none did. */
  readonly maxRateP99Within25ms: number | null;
}

export async function run(opts: ScenarioOptions): Promise<ChainFigures> {
  const durationMs = opts.quick ? 2000 : 10_000;
  // Each rate is measured after 10 s at that rate, as geo-http and ml-proxy are: when the rate steps up,
  // the three processes take several seconds to settle (recorded runs at 2,000/s: p99 7-11 ms in the first
  // 5 s windows after 1,000/s, 5-7 ms later). The first load of all, right after start, is reported as
  // the `cold` row.
  const warmupMs = opts.quick ? 500 : 10_000;
  const searchDurationMs = opts.quick ? 1000 : 5000;
  const services = join(opts.root, 'services');
  const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';
  const common = { LOG_LEVEL: logLevel, SHUTDOWN_DELAY_MS: '0' };

  const started: SpawnedService[] = [];
  try {
    const [geo, ml] = await Promise.all([
      spawnService({
        entry: 'src/main.ts',
        cwd: join(services, 'geo'),
        name: 'geo',
        env: common,
        stdout: 'ignore',
      }),
      spawnService({
        entry: 'src/main.ts',
        cwd: join(services, 'ml-proxy'),
        name: 'ml-proxy',
        env: { ...common, MODEL_POLL_INTERVAL_SECONDS: '0' },
        stdout: 'ignore',
        readyTimeoutMs: 60_000,
      }),
    ]);
    started.push(geo, ml);
    const bff = await spawnService({
      entry: 'src/main.ts',
      cwd: join(services, 'vendor-bff'),
      name: 'vendor-bff',
      env: {
        ...common,
        ROLE: 'all',
        GEO_URL: geo.origin,
        ML_PROXY_URL: ml.origin,
        SERVICE_TOKENS: `bench:${SERVICE_TOKEN}`,
        // ROLE=all includes the admin API, which refuses to start without a token issuer.
        AUTH_DEV_KEYS: 'true',
        // The catalogue's 30 s default TTL would make the 5,000 stores loaded below expire together and
        // be re-read from PGlite one by one, in WASM on the BFF's own event loop, in the middle of a run:
        // a cost of the embedded database (production reads Postgres through Redis), not of the estimate
        // path this scenario measures. Overridable like every env key.
        CACHE_TTL_MS: process.env.CACHE_TTL_MS ?? '600000',
      },
      stdout: 'ignore',
      readyTimeoutMs: 120_000,
    });
    started.push(bff);
    const processes = { bff, geo, ml };

    const runs: ChainRun[] = [];
    const measure = async (
      kind: ChainRun['kind'],
      mix: readonly MixEntry[],
      rate: number,
      duration: number,
      check: (res: { body: string }) => boolean,
      warmup = warmupMs,
    ): Promise<ChainRun> => {
      // processes.bff is first: index 0 of each scrape list.
      const before = await Promise.all(Object.values(processes).map(metricsText));
      const result = await runLoad({
        origin: bff.origin,
        mix,
        rate,
        durationMs: duration,
        warmupMs: warmup,
        timeoutMs: 2000,
        label: `${kind}@${rate}`,
        seed: rate + runs.length,
        check,
      });
      const after = await Promise.all(Object.values(processes).map(metricsText));
      const offered = (rate * (duration + warmup)) / 1000;
      const cpuUsPerRequest = Object.fromEntries(
        Object.keys(processes).map((name, i) => [
          name,
          Math.round(((cpuSeconds(after[i]!) - cpuSeconds(before[i]!)) * 1e6) / offered),
        ]),
      );
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
      const r = { ...result, kind, cpuUsPerRequest, dependencyFailures: failures, requestsPerCall };
      runs.push(r);
      return r;
    };

    // Every store through the catalogue once (200 per rough call), so the runs measure the estimate path
    // and not the first read of each store from the database; then a short run lets JIT and pools settle.
    // Each call reads up to 200 stores from the database on the BFF's event loop, which can trip its load
    // shedding (503 OVERLOADED) for the next call: such a call is repeated until it is answered, or the
    // runs would read the stores it missed from the database in the middle of a measurement.
    let shed = 0;
    for (let first = 1; first <= STORES; first += 200) {
      const storeIds = Array.from({ length: Math.min(200, STORES - first + 1) }, (_, i) => first + i);
      for (let attempt = 1; ; attempt++) {
        const res = await request(`${bff.origin}/v1/estimates/rough`, {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify({ destination: { lat: 37.55, lng: 127.0 }, storeIds }),
        });
        const body = await res.body.text();
        if (res.statusCode === 200) break;
        if (res.statusCode !== 503 || attempt >= 100) {
          throw new Error(
            `loading stores ${first}..: HTTP ${res.statusCode} after ${attempt} tries: ${body}`,
          );
        }
        shed++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    if (shed > 0) console.log(`store warm-up: ${shed} calls shed by the BFF and repeated`);
    // Start-up, reported as the `cold` row and not judged: V8 grows its young generation and old space,
    // and the JIT settles, over the first tens of thousands of requests; before that every process GCs
    // far more often, and recorded runs show one or two 30-80 ms stalls in the first ~15 s of load at the
    // same offsets every time (not GC). The rates below are measured after it.
    await measure('cold', preciseMix, 1000, opts.quick ? 1000 : 40_000, modelAnswer, 0);

    for (const rate of PRECISE_RATES) await measure('precise', preciseMix, rate, durationMs, modelAnswer);
    await measure('rough', roughMix, ROUGH_RATE, durationMs, roughAnswer);

    // Step search: up from the last rate while p99 holds, down while it does not; a few short steps.
    const within = (r: LoadResult) => r.errors === 0 && r.latencyMs.p99 <= SEARCH_P99_MS;
    const base = runs.find((r) => r.kind === 'precise' && r.offeredRate === 2000);
    let best: number | null = base !== undefined && within(base) ? 2000 : null;
    let rate = best === null ? 1500 : 2500;
    for (let step = 0; step < (opts.quick ? 2 : 4); step++) {
      const r = await measure('search', preciseMix, rate, searchDurationMs, modelAnswer);
      if (within(r)) {
        best = Math.max(best ?? 0, rate);
        rate = Math.round(rate * 1.25);
      } else {
        if (best !== null) break;
        rate = Math.round(rate * 0.7);
      }
    }

    const backing = {
      database: process.env.DATABASE_URL ? 'postgres (DATABASE_URL)' : 'embedded PGlite',
      cache: process.env.REDIS_URL ? 'L1 + Redis (REDIS_URL)' : 'L1 only',
    };
    console.log(
      `\nvendor-bff chain (geo, ml-proxy, bff: separate processes; ${backing.database}, ${backing.cache}; ` +
        `LOG_LEVEL=${logLevel}; DEPENDENCY_COALESCE=${process.env.DEPENDENCY_COALESCE ?? 'true'}): ` +
        `cold = the first ${opts.quick ? 1 : 40}s of load after start; then ${durationMs / 1000}s per rate after ` +
        `${warmupMs / 1000}s at that rate` +
        `${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}`,
    );
    printTable(
      runs.map((x) => {
        const goal =
          x.kind === 'rough'
            ? ROUGH_GOAL_P99_MS
            : x.kind === 'precise'
              ? GOALS_P99_MS[x.offeredRate]
              : undefined;
        return {
          kind: x.kind === 'rough' ? `rough x${ROUGH_STORES}` : x.kind,
          rate: x.offeredRate,
          achieved: Math.round(x.achievedRate),
          p50: fmtMs(x.latencyMs.p50),
          p95: fmtMs(x.latencyMs.p95),
          p99: fmtMs(x.latencyMs.p99),
          'sent→done p99': fmtMs(x.serviceLatencyMs.p99),
          'p99.9': fmtMs(x.latencyMs.p999),
          errors: x.errors,
          goal:
            goal === undefined
              ? ''
              : `p99<=${goal}ms: ${x.errors === 0 && x.latencyMs.p99 <= goal ? 'met' : 'MISSED'}`,
          'cpu us/req bff/geo/ml': `${x.cpuUsPerRequest.bff}/${x.cpuUsPerRequest.geo}/${x.cpuUsPerRequest.ml}`,
          'req/call geo/ml': `${x.requestsPerCall.geo ?? '-'}/${x.requestsPerCall['ml-proxy'] ?? '-'}`,
        };
      }),
    );
    console.log(
      `\nhighest precise rate with p99 <= ${SEARCH_P99_MS} ms and no errors: ${best ?? 'none tried'}`,
    );
    return { durationMs, warmupMs, backing, runs, maxRateP99Within25ms: best };
  } finally {
    for (const svc of started.reverse()) {
      const status = await svc.stop();
      if (status.code !== 0) process.stderr.write(`${svc.name} exited with ${JSON.stringify(status)}\n`);
    }
  }
}

// Standalone: `node loadtest/scenarios/bff-chain.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
