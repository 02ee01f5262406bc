/**
 * The capacity scenario's options, from the environment (BENCH_CAPACITY_*), as the other scenarios take
 * theirs. The request mix's shape (store-list page size, stores, Zipf exponent, hot-spot jitter) and the
 * estimate routes' p99 SLOs are the meal-peak scenario's own defaults (lib/meal-peak/options.ts), so both
 * benchmarks judge the same thing.
 */
import { DEFAULT_MIX, DEFAULT_SLO, parseOptions } from '../meal-peak/options.ts';

export const CAPACITY_ROLES = ['precise', 'rough', 'admin', 'geo', 'ml-proxy'] as const;
export type CapacityRole = (typeof CAPACITY_ROLES)[number];

/** The suite chart's scaling target of each role: the capacity file's keys. */
export const TARGET_OF: Readonly<Record<CapacityRole, string>> = {
  precise: 'vendor-bff-precise',
  rough: 'vendor-bff-rough',
  admin: 'vendor-bff-admin',
  geo: 'geo',
  'ml-proxy': 'ml-proxy',
};

/** The BFF roles run twice for the cache effect: unique destinations (cold) and the meal-peak mix (warm). */
export type CacheCase = 'cold' | 'warm';
export const CACHE_ROLES: readonly CapacityRole[] = ['precise', 'rough'];

export interface RoleSlo {
  readonly p99Ms: number;
  /** Failed requests over scheduled at most this (degraded estimates count as failed). Default 0. */
  readonly maxErrorRate: number;
}

export interface RoleBounds {
  readonly start: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Where each search starts and the rates it may try. Starts near what one process of each holds on a
 * two-core machine (docs/benchmarks.md), so the ramp is short; bounds wide enough for a much faster machine.
 */
export const DEFAULT_BOUNDS: Readonly<Record<CapacityRole, RoleBounds>> = {
  precise: { start: 1000, min: 25, max: 32_000 },
  rough: { start: 100, min: 5, max: 8_000 },
  // Owners for the admin search: max ÷ 1.5/s, which must stay under the BFF's verified-token cache
  // (AUTH_VERIFIED_CACHE_ENTRIES, 10,000) or every request would pay a signature check.
  admin: { start: 500, min: 10, max: 8_000 },
  geo: { start: 1000, min: 25, max: 32_000 },
  'ml-proxy': { start: 1000, min: 25, max: 32_000 },
};

/**
 * p99 SLOs. Estimate routes and admin: the meal-peak scenario's (the suite's stated SLO, the BFF's
 * ESTIMATE_BUDGET_MS). Geo and the ML proxy have no SLO of their own: they are held to the BFF's per-call
 * timeouts (GEO_TIMEOUT_MS 50, ML_TIMEOUT_MS 80 by default), past which the BFF gives up on the call and
 * answers degraded.
 */
export const DEFAULT_CAPACITY_SLO: Readonly<Record<CapacityRole, RoleSlo>> = {
  precise: { p99Ms: DEFAULT_SLO.precise.p99Ms, maxErrorRate: 0 },
  rough: { p99Ms: DEFAULT_SLO.rough.p99Ms, maxErrorRate: 0 },
  admin: { p99Ms: DEFAULT_SLO.admin.p99Ms, maxErrorRate: 0 },
  geo: { p99Ms: 50, maxErrorRate: 0 },
  'ml-proxy': { p99Ms: 80, maxErrorRate: 0 },
};

/** Where a full run writes the capacity file, relative to the repository root. */
export const DEFAULT_OUT = 'deploy/capacity.json';
/** A BENCH_QUICK run's file: gitignored, never mistaken for a measurement. */
export const QUICK_OUT = 'loadtest/results/capacity.quick.json';

export interface CapacityOptions {
  readonly roles: readonly CapacityRole[];
  readonly cacheCases: readonly CacheCase[];
  readonly slo: Readonly<Record<CapacityRole, RoleSlo>>;
  readonly bounds: Readonly<Record<CapacityRole, RoleBounds>>;
  readonly factor: number;
  readonly resolution: number;
  readonly maxSteps: number;
  /** Per step: unmeasured load at the rate, then the measured window, then a pause. */
  readonly warmupMs: number;
  readonly stepMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  /** A step whose generator send lag p99 is above this is not a measurement of the server: counted a miss. */
  readonly maxLagMs: number;
  /** Stores per store-list (rough) call. */
  readonly pageSize: number;
  readonly stores: number;
  readonly zipfExponent: number;
  readonly jitterM: number;
  /**
   * Geo and ML proxy calls: the precise path's (one pair, one row) and the rough path's (one origin and
   * pageSize + 1 points, pageSize rows) in this proportion; by default the meal-peak mix's precise (detail +
   * checkout) and rough shares, every rough request a cache miss (the conservative case).
   */
  readonly callMix: { readonly precise: number; readonly rough: number };
  readonly seed: number;
  /** Where the capacity file goes (absolute or relative to the repository root); null: not written. */
  readonly out: string | null;
}

function num(name: string, v: string | undefined, fallback: number, ok: (n: number) => boolean): number {
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n)) throw new Error(`${name}: invalid value ${v}`);
  return n;
}

/** `precise=250,geo=50` (per role) or `100` (every role). Role names as CAPACITY_ROLES or target ids. */
export function perRole(
  name: string,
  v: string | undefined,
  fallback: Readonly<Record<CapacityRole, number>>,
  ok: (n: number) => boolean,
): Record<CapacityRole, number> {
  const out = { ...fallback };
  if (v === undefined || v.trim() === '') return out;
  if (!v.includes('=')) {
    const n = num(name, v, 0, ok);
    for (const r of CAPACITY_ROLES) out[r] = n;
    return out;
  }
  for (const part of v.split(',')) {
    const [k = '', val] = part.split('=');
    const role = roleOf(k.trim());
    if (role === undefined || val === undefined) {
      throw new Error(
        `${name}: expected role=value with a role of ${CAPACITY_ROLES.join(', ')}, got ${part}`,
      );
    }
    out[role] = num(name, val, 0, ok);
  }
  return out;
}

/** `precise` or `vendor-bff-precise`; `ml` for the ML proxy. */
export function roleOf(s: string): CapacityRole | undefined {
  if ((CAPACITY_ROLES as readonly string[]).includes(s)) return s as CapacityRole;
  if (s === 'ml') return 'ml-proxy';
  const bff = s.replace(/^vendor-bff-/, '');
  return (CAPACITY_ROLES as readonly string[]).includes(bff) ? (bff as CapacityRole) : undefined;
}

const pick = <T>(f: (r: CapacityRole) => T): Record<CapacityRole, T> =>
  Object.fromEntries(CAPACITY_ROLES.map((r) => [r, f(r)])) as Record<CapacityRole, T>;

export const CAPACITY_USAGE = `pnpm bench capacity    (BENCH_QUICK=1 for a short functional run)
  BENCH_CAPACITY_ROLES        roles to measure, in order (default precise,rough,admin,geo,ml-proxy)
  BENCH_CAPACITY_CACHE        cold, warm or both (default both): precise and rough with unique destinations
                              (cold caches) and with the meal-peak mix (Zipf stores, hot-spot destinations)
  BENCH_CAPACITY_SLO_P99_MS   per role or one for all (default precise=250,rough=250,admin=250,geo=50,ml-proxy=80)
  BENCH_CAPACITY_MAX_ERROR_RATE  per role or one for all (default 0: any failed or degraded answer is a miss)
  BENCH_CAPACITY_START, _MIN, _MAX   per role: first rate of the ramp and the rates it may try
  BENCH_CAPACITY_FACTOR       ramp multiplier (default 2)
  BENCH_CAPACITY_RESOLUTION   bisection stops when (hi - lo) / lo <= this (default 0.05)
  BENCH_CAPACITY_MAX_STEPS    steps per search at most (default 14)
  BENCH_CAPACITY_WARMUP_S, _STEP_S, _COOLDOWN_S   per step (default 5, 10, 2)
  BENCH_CAPACITY_MAX_LAG_MS   generator send lag p99 above this makes a step a miss (default 25)
  BENCH_CAPACITY_PAGE_SIZE, _STORES, _ZIPF, _JITTER_M   the meal-peak mix's shape (default 50, 5000, 1, 800)
  BENCH_CAPACITY_CALL_MIX     Geo and ML proxy calls, precise=<w>,rough=<w> (default the meal-peak mix's shares)
  BENCH_CAPACITY_SEED         (default 1)
  BENCH_CAPACITY_OUT          the capacity file (default deploy/capacity.json; BENCH_QUICK:
                              loadtest/results/capacity.quick.json); none: not written`;

export function parseCapacityOptions(env: NodeJS.ProcessEnv, quick: boolean): CapacityOptions {
  const mp = parseOptions([], quick);
  const roles = (env.BENCH_CAPACITY_ROLES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const r = roleOf(s);
      if (r === undefined)
        throw new Error(`BENCH_CAPACITY_ROLES: unknown role ${s} (${CAPACITY_ROLES.join(', ')})`);
      return r;
    });
  const cache = (env.BENCH_CAPACITY_CACHE ?? 'both').trim();
  if (!['both', 'cold', 'warm'].includes(cache)) {
    throw new Error(`BENCH_CAPACITY_CACHE: cold, warm or both, got ${cache}`);
  }
  const p99 = perRole(
    'BENCH_CAPACITY_SLO_P99_MS',
    env.BENCH_CAPACITY_SLO_P99_MS,
    pick((r) => DEFAULT_CAPACITY_SLO[r].p99Ms),
    (n) => n > 0,
  );
  const errorRate = perRole(
    'BENCH_CAPACITY_MAX_ERROR_RATE',
    env.BENCH_CAPACITY_MAX_ERROR_RATE,
    pick((r) => DEFAULT_CAPACITY_SLO[r].maxErrorRate),
    (n) => n >= 0 && n < 1,
  );
  const positive = (n: number) => n > 0;
  // BENCH_QUICK: a quarter of the usual start, gentler on a machine that is doing other work.
  const start = perRole(
    'BENCH_CAPACITY_START',
    env.BENCH_CAPACITY_START,
    pick((r) =>
      Math.max(DEFAULT_BOUNDS[r].min, quick ? DEFAULT_BOUNDS[r].start / 4 : DEFAULT_BOUNDS[r].start),
    ),
    positive,
  );
  const min = perRole(
    'BENCH_CAPACITY_MIN',
    env.BENCH_CAPACITY_MIN,
    pick((r) => DEFAULT_BOUNDS[r].min),
    positive,
  );
  const max = perRole(
    'BENCH_CAPACITY_MAX',
    env.BENCH_CAPACITY_MAX,
    pick((r) => DEFAULT_BOUNDS[r].max),
    positive,
  );
  const bounds = pick((r) => {
    if (!(min[r] <= start[r] && start[r] <= max[r])) {
      throw new Error(`${r}: expected min <= start <= max, got ${min[r]} / ${start[r]} / ${max[r]}`);
    }
    return { start: start[r], min: min[r], max: max[r] };
  });
  const pageSize = num(
    'BENCH_CAPACITY_PAGE_SIZE',
    env.BENCH_CAPACITY_PAGE_SIZE,
    mp.pageSize,
    (n) => Number.isInteger(n) && n >= 1 && n <= 200,
  );
  const stores = num(
    'BENCH_CAPACITY_STORES',
    env.BENCH_CAPACITY_STORES,
    mp.stores,
    (n) => Number.isInteger(n) && n >= 1,
  );
  if (pageSize > stores) throw new Error(`page size ${pageSize} is more than the ${stores} stores`);

  let callMix = { precise: DEFAULT_MIX.detail + DEFAULT_MIX.checkout, rough: DEFAULT_MIX.rough };
  const cm = env.BENCH_CAPACITY_CALL_MIX;
  if (cm !== undefined && cm.trim() !== '') {
    const parsed: Record<string, number> = { precise: 0, rough: 0 };
    for (const part of cm.split(',')) {
      const [k = '', v] = part.split('=');
      if (!(k.trim() in parsed) || v === undefined) {
        throw new Error(`BENCH_CAPACITY_CALL_MIX: expected precise=<w>,rough=<w>, got ${part}`);
      }
      parsed[k.trim()] = num('BENCH_CAPACITY_CALL_MIX', v, 0, (n) => n >= 0);
    }
    if (parsed.precise! + parsed.rough! <= 0) throw new Error('BENCH_CAPACITY_CALL_MIX: both weights are 0');
    callMix = { precise: parsed.precise!, rough: parsed.rough! };
  }

  const out = env.BENCH_CAPACITY_OUT;
  return {
    roles: roles.length > 0 ? [...new Set(roles)] : [...CAPACITY_ROLES],
    cacheCases: cache === 'both' ? ['cold', 'warm'] : [cache as CacheCase],
    slo: pick((r) => ({ p99Ms: p99[r], maxErrorRate: errorRate[r] })),
    bounds,
    factor: num('BENCH_CAPACITY_FACTOR', env.BENCH_CAPACITY_FACTOR, 2, (n) => n > 1 && n <= 10),
    resolution: num(
      'BENCH_CAPACITY_RESOLUTION',
      env.BENCH_CAPACITY_RESOLUTION,
      quick ? 0.5 : 0.05,
      (n) => n > 0,
    ),
    maxSteps: num(
      'BENCH_CAPACITY_MAX_STEPS',
      env.BENCH_CAPACITY_MAX_STEPS,
      quick ? 3 : 14,
      (n) => Number.isInteger(n) && n >= 1,
    ),
    warmupMs:
      num('BENCH_CAPACITY_WARMUP_S', env.BENCH_CAPACITY_WARMUP_S, quick ? 0.5 : 5, (n) => n >= 0) * 1000,
    stepMs: num('BENCH_CAPACITY_STEP_S', env.BENCH_CAPACITY_STEP_S, quick ? 1.5 : 10, (n) => n > 0) * 1000,
    cooldownMs:
      num('BENCH_CAPACITY_COOLDOWN_S', env.BENCH_CAPACITY_COOLDOWN_S, quick ? 0.2 : 2, (n) => n >= 0) * 1000,
    timeoutMs: 2000,
    maxLagMs: num('BENCH_CAPACITY_MAX_LAG_MS', env.BENCH_CAPACITY_MAX_LAG_MS, mp.maxLagMs, (n) => n > 0),
    pageSize,
    stores,
    zipfExponent: num('BENCH_CAPACITY_ZIPF', env.BENCH_CAPACITY_ZIPF, mp.zipfExponent, (n) => n >= 0),
    jitterM: num('BENCH_CAPACITY_JITTER_M', env.BENCH_CAPACITY_JITTER_M, mp.jitterM, (n) => n >= 0),
    callMix,
    seed: num('BENCH_CAPACITY_SEED', env.BENCH_CAPACITY_SEED, mp.seed, (n) => Number.isInteger(n)),
    out:
      out === undefined || out.trim() === ''
        ? quick
          ? QUICK_OUT
          : DEFAULT_OUT
        : out.trim() === 'none'
          ? null
          : out.trim(),
  };
}
