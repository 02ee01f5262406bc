/**
 * The meal-peak scenario's options. `pnpm bench meal-peak --peak-rate 300 --target http://...` hands the
 * options after the scenario name to it (loadtest/bench.ts puts them in BENCH_SCENARIO_ARGS); run alone,
 * `node loadtest/scenarios/meal-peak.bench.ts --peak-rate 300` reads them from its own argv. Secrets never
 * travel on the command line: the remote target's tokens come from the environment.
 */
import { parseArgs } from 'node:util';
import { ROUGH_MAX_STORES } from '@eta/contracts';
import { slotOf } from './demand.ts';
import { ROUTES, type Route } from './routes.ts';

export const MIX_ENTRIES = ['rough', 'detail', 'checkout', 'admin'] as const;
export type MixEntryName = (typeof MIX_ENTRIES)[number];

export interface RouteSlo {
  /** p99 of successful requests, from their scheduled time, at most this. */
  readonly p99Ms: number;
  /** Failed requests (any non-2xx, timeout, transport error, wrong body) over scheduled, at most this. */
  readonly maxErrorRate: number;
  /** Degraded answers over answers, at most this (estimate routes only). */
  readonly maxDegradedShare: number;
}

export interface MealPeakOptions {
  /** Base URL of a running suite (remote mode: nothing is started); null starts the suite here. */
  readonly target: string | null;
  readonly peakRate: number;
  readonly speed: number;
  readonly floor: number;
  readonly fromSlot: number;
  readonly toSlot: number;
  readonly warmupMs: number;
  /** Relative weights of the request mix's entries. */
  readonly mix: Readonly<Record<MixEntryName, number>>;
  readonly pageSize: number;
  readonly stores: number;
  readonly zipfExponent: number;
  readonly jitterM: number;
  /** Store owners (each its own token subject) the admin traffic is spread over, local mode. */
  readonly owners: number;
  readonly slo: Readonly<Record<Route, RouteSlo>>;
  /** A slot's p99 and error rate are judged only with at least this many requests of the route in it. */
  readonly minSamples: number;
  /** The generator's scheduling lag p99 above this in a slot makes the run invalid. */
  readonly maxLagMs: number;
  /** A slot starting later or earlier than planned by more than this share of its length makes the run invalid. */
  readonly maxStartSlip: number;
  readonly timeoutMs: number;
  readonly seed: number;
}

/**
 * Defaults. The SLOs are the suite's stated ones (terraform/README.md, "SLOs and monitors"): estimate p99 <=
 * 250 ms, the BFF's ESTIMATE_BUDGET_MS; <= 1 % errors; <= 5 % of estimates degraded. The admin API has no
 * stated latency SLO: 250 ms is the service kit's SLOW_REQUEST_MS, what its logs call slow.
 */
export const DEFAULT_SLO: Readonly<Record<Route, RouteSlo>> = {
  precise: { p99Ms: 250, maxErrorRate: 0.01, maxDegradedShare: 0.05 },
  rough: { p99Ms: 250, maxErrorRate: 0.01, maxDegradedShare: 0.05 },
  admin: { p99Ms: 250, maxErrorRate: 0.01, maxDegradedShare: 1 },
};

export const DEFAULT_MIX: Readonly<Record<MixEntryName, number>> = {
  rough: 60,
  detail: 30,
  checkout: 9.5,
  admin: 0.5,
};

export const USAGE = `pnpm bench meal-peak [options]     (or: node loadtest/scenarios/meal-peak.bench.ts [options])
  --target <url>           a running suite's base URL (http://); nothing is started. Needs BENCH_TARGET_TOKEN
                           (a service credential); BENCH_TARGET_OWNER_TOKENS (comma-separated owner JWTs) for
                           the admin traffic, which is left out without them
  --peak-rate <n>          requests/s in the busiest slot (default 400; BENCH_QUICK 100)
  --speed <n>              simulated seconds per real second (default 432: a day in 200 s; BENCH_QUICK 1800)
  --floor <share>          lowest rate as a share of the peak (default 0.05; the data has no night orders)
  --from <HH:MM>, --to <HH:MM>   only the slots from..to, Seoul time (default the whole day)
  --warmup-s <n>           unmeasured load before the day at the first slot's rate (default 10; quick 2)
  --mix <k=v,...>          weights of rough, detail, checkout, admin (default rough=60,detail=30,checkout=9.5,admin=0.5)
  --page-size <n>          stores per store-list (rough) call, 1..${ROUGH_MAX_STORES} (default 50)
  --stores <n>             store ids 1..n exist (default 5000, the seed)
  --zipf <s>               store popularity exponent (default 1.0)
  --jitter-m <n>           destinations within this radius of a hot spot, metres (default 800)
  --owners <n>             store owners the admin traffic comes from, local mode (default 8)
  --slo-p99-ms <v>         per route or one for all: precise=250,rough=250,admin=250
  --slo-error-rate <v>     per route or one for all (default 0.01)
  --slo-degraded <v>       estimate routes' degraded share (default 0.05)
  --slo-min-samples <n>    judge a slot's route only with this many requests in it (default 100)
  --max-lag-ms <n>         generator send lag p99 above this in a judged slot: run invalid (default 25)
  --max-start-slip <share> a slot starting off plan by more than this share of it: invalid (default 0.1;
                           BENCH_QUICK 0.25: its half-second slots are a few scheduler delays long)
  --timeout-ms <n>         per-request deadline (default 2000)
  --seed <n>               requests and store ranks (default 1)`;

function num(name: string, v: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`--${name}: invalid value ${v}`);
  return n;
}

/** `precise=250,rough=300` or `250` (all routes). */
export function perRoute(
  name: string,
  v: string | undefined,
  fallback: Readonly<Record<Route, number>>,
): Record<Route, number> {
  const out = { ...fallback };
  if (v === undefined) return out;
  if (/^[\d.e+-]+$/.test(v)) {
    const n = num(name, v, 0, (x) => x >= 0);
    for (const r of ROUTES) out[r] = n;
    return out;
  }
  for (const part of v.split(',')) {
    const [k, val] = part.split('=');
    if (!ROUTES.includes(k as Route) || val === undefined) {
      throw new Error(`--${name}: expected route=value with a route of ${ROUTES.join(', ')}, got ${part}`);
    }
    out[k as Route] = num(name, val, 0, (x) => x >= 0);
  }
  return out;
}

function parseMix(v: string | undefined): Record<MixEntryName, number> {
  const out = { ...DEFAULT_MIX };
  if (v === undefined) return out;
  for (const part of v.split(',')) {
    const [k, val] = part.split('=');
    if (!MIX_ENTRIES.includes(k as MixEntryName) || val === undefined) {
      throw new Error(`--mix: expected name=weight with a name of ${MIX_ENTRIES.join(', ')}, got ${part}`);
    }
    out[k as MixEntryName] = num('mix', val, 0, (x) => x >= 0);
  }
  if (Object.values(out).every((w) => w === 0)) throw new Error('--mix: every weight is 0');
  return out;
}

/** The scenario's arguments: BENCH_SCENARIO_ARGS (a JSON array, from bench.ts), else none. */
export function scenarioArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.BENCH_SCENARIO_ARGS;
  if (raw === undefined || raw === '') return [];
  const parsed = JSON.parse(raw) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error('BENCH_SCENARIO_ARGS must be a JSON array of strings');
  }
  return parsed;
}

export function parseOptions(args: readonly string[], quick: boolean): MealPeakOptions {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      target: { type: 'string' },
      'peak-rate': { type: 'string' },
      speed: { type: 'string' },
      floor: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'warmup-s': { type: 'string' },
      mix: { type: 'string' },
      'page-size': { type: 'string' },
      stores: { type: 'string' },
      zipf: { type: 'string' },
      'jitter-m': { type: 'string' },
      owners: { type: 'string' },
      'slo-p99-ms': { type: 'string' },
      'slo-error-rate': { type: 'string' },
      'slo-degraded': { type: 'string' },
      'slo-min-samples': { type: 'string' },
      'max-lag-ms': { type: 'string' },
      'max-start-slip': { type: 'string' },
      'timeout-ms': { type: 'string' },
      seed: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument: ${positionals.join(' ')}`);

  let target: string | null = null;
  if (values.target !== undefined) {
    const url = new URL(values.target);
    // The generator speaks plain HTTP/1.1 (loadtest/loadgen); a TLS front needs a plain-HTTP address inside.
    if (url.protocol !== 'http:') throw new Error(`--target must be an http:// URL, got ${values.target}`);
    if (url.pathname !== '/' || url.search !== '') {
      throw new Error(`--target is a base URL (scheme, host, port), got ${values.target}`);
    }
    target = url.origin;
  }
  const p99 = perRoute('slo-p99-ms', values['slo-p99-ms'], {
    precise: DEFAULT_SLO.precise.p99Ms,
    rough: DEFAULT_SLO.rough.p99Ms,
    admin: DEFAULT_SLO.admin.p99Ms,
  });
  const errorRate = perRoute('slo-error-rate', values['slo-error-rate'], {
    precise: DEFAULT_SLO.precise.maxErrorRate,
    rough: DEFAULT_SLO.rough.maxErrorRate,
    admin: DEFAULT_SLO.admin.maxErrorRate,
  });
  const degraded = perRoute('slo-degraded', values['slo-degraded'], {
    precise: DEFAULT_SLO.precise.maxDegradedShare,
    rough: DEFAULT_SLO.rough.maxDegradedShare,
    admin: DEFAULT_SLO.admin.maxDegradedShare,
  });
  const slo = Object.fromEntries(
    ROUTES.map((r) => [r, { p99Ms: p99[r], maxErrorRate: errorRate[r], maxDegradedShare: degraded[r] }]),
  ) as Record<Route, RouteSlo>;
  const fromSlot = values.from === undefined ? 0 : slotOf(values.from);
  const toSlot = values.to === undefined ? 95 : slotOf(values.to);
  if (fromSlot > toSlot) throw new Error(`--from ${values.from} is after --to ${values.to}`);
  const pageSize = num(
    'page-size',
    values['page-size'],
    50,
    (n) => Number.isInteger(n) && n >= 1 && n <= ROUGH_MAX_STORES,
  );
  const stores = num('stores', values.stores, 5000, (n) => Number.isInteger(n) && n >= 1);
  if (pageSize > stores) throw new Error(`--page-size ${pageSize} is more than the ${stores} stores`);
  return {
    target,
    peakRate: num('peak-rate', values['peak-rate'], quick ? 100 : 400, (n) => n > 0),
    speed: num('speed', values.speed, quick ? 1800 : 432, (n) => n > 0),
    floor: num('floor', values.floor, 0.05, (n) => n > 0 && n <= 1),
    fromSlot,
    toSlot,
    warmupMs: num('warmup-s', values['warmup-s'], quick ? 2 : 10, (n) => n >= 0) * 1000,
    mix: parseMix(values.mix),
    pageSize,
    stores,
    zipfExponent: num('zipf', values.zipf, 1.0, (n) => n >= 0),
    jitterM: num('jitter-m', values['jitter-m'], 800, (n) => n >= 0),
    owners: num('owners', values.owners, 8, (n) => Number.isInteger(n) && n >= 1 && n <= 1000),
    slo,
    minSamples: num('slo-min-samples', values['slo-min-samples'], 100, (n) => Number.isInteger(n) && n >= 1),
    maxLagMs: num('max-lag-ms', values['max-lag-ms'], 25, (n) => n > 0),
    maxStartSlip: num('max-start-slip', values['max-start-slip'], quick ? 0.25 : 0.1, (n) => n > 0),
    timeoutMs: num('timeout-ms', values['timeout-ms'], 2000, (n) => n > 0),
    seed: num('seed', values.seed, 1, (n) => Number.isInteger(n)),
  };
}
