import { Counter, Gauge, type Registry } from 'prom-client';
import { breakerStateValue, type BreakerState } from './breaker.ts';

/** Metric names, one place (labels: `cache` = the cache's name, `tier` = l1 | l2 | compute). */
export const cacheMetricNames = {
  hits: 'cache_hits_total',
  misses: 'cache_misses_total',
  stale: 'cache_stale_total',
  errors: 'cache_errors_total',
  timeouts: 'cache_timeouts_total',
  bypassed: 'cache_bypassed_total',
  computes: 'cache_computes_total',
  breakerState: 'cache_breaker_state',
  l1Entries: 'cache_l1_entries',
  l1Bytes: 'cache_l1_bytes',
} as const;

/**
 * Plain counters, bumped on the hot path. An L1 hit costs well under a microsecond, and a prom-client
 * `inc(labels)` (which hashes the label set each call) would be a large share of it; instead the
 * registry reads these numbers at scrape time through `collect`.
 */
export interface TierCounters {
  hits: number;
  misses: number;
  stale: number;
  errors: number;
  timeouts: number;
  /** L2 calls not made because the breaker was open or the client was not connected. */
  bypassed: number;
}

export interface CacheStats {
  readonly l1: Readonly<Pick<TierCounters, 'hits' | 'misses' | 'stale'>>;
  readonly l2: Readonly<TierCounters>;
  /** Calls of the caller's compute function (a batch call counts once) and how many threw. */
  readonly compute: { readonly calls: number; readonly errors: number };
  readonly breaker: BreakerState;
  readonly l1Entries: number;
  readonly l1Bytes: number;
}

export interface StatsSource {
  readonly name: string;
  stats(): CacheStats;
}

export const newCounters = (): TierCounters => ({
  hits: 0,
  misses: 0,
  stale: 0,
  errors: 0,
  timeouts: 0,
  bypassed: 0,
});

const attached = new WeakMap<Registry, Map<string, StatsSource>>();

type CounterKey = 'hits' | 'misses' | 'stale' | 'errors' | 'timeouts' | 'bypassed';

/**
 * Exposes a cache's stats on `registry`. Several caches share one set of metrics per registry (told apart
 * by the `cache` label), so the metrics are created once per registry and each collect walks every
 * cache attached to it. Returns the detach function for close().
 */
export function attachMetrics(registry: Registry, source: StatsSource): () => void {
  let sources = attached.get(registry);
  if (sources === undefined) {
    sources = new Map();
    attached.set(registry, sources);
    registerMetrics(registry, sources);
  }
  if (sources.has(source.name)) {
    throw new Error(`a cache named "${source.name}" is already registered on this metrics registry`);
  }
  sources.set(source.name, source);
  const own = sources;
  return () => {
    if (own.get(source.name) === source) own.delete(source.name);
  };
}

function registerMetrics(registry: Registry, sources: Map<string, StatsSource>): void {
  const tierCounter = (key: CounterKey, help: string): void => {
    new Counter({
      name: cacheMetricNames[key],
      help,
      labelNames: ['cache', 'tier'],
      registers: [registry],
      collect() {
        this.reset();
        for (const source of sources.values()) {
          const s = source.stats();
          if (key === 'hits' || key === 'misses' || key === 'stale') {
            this.inc({ cache: source.name, tier: 'l1' }, s.l1[key]);
          }
          this.inc({ cache: source.name, tier: 'l2' }, s.l2[key]);
          if (key === 'errors') this.inc({ cache: source.name, tier: 'compute' }, s.compute.errors);
        }
      },
    });
  };
  tierCounter('hits', 'Cache lookups answered by a fresh value, per tier.');
  tierCounter('misses', 'Cache lookups that found nothing usable, per tier.');
  tierCounter('stale', 'Lookups answered by a stale value within the grace period (a refresh was started).');
  tierCounter('errors', 'Failed L2 calls (besides timeouts) and failed compute calls.');
  tierCounter('timeouts', 'L2 calls abandoned after the L2 timeout.');
  tierCounter('bypassed', 'L2 calls skipped because the breaker was open or Redis was not connected.');

  new Counter({
    name: cacheMetricNames.computes,
    help: 'Calls of the compute function (a batch compute counts once).',
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const source of sources.values()) this.inc({ cache: source.name }, source.stats().compute.calls);
    },
  });
  const gauge = (name: string, help: string, read: (s: CacheStats) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['cache'],
      registers: [registry],
      collect() {
        this.reset();
        for (const source of sources.values()) this.set({ cache: source.name }, read(source.stats()));
      },
    });
  };
  gauge(cacheMetricNames.breakerState, 'L2 circuit breaker: 0 closed, 1 half-open, 2 open.', (s) => {
    return breakerStateValue[s.breaker];
  });
  gauge(cacheMetricNames.l1Entries, 'Entries held in L1.', (s) => s.l1Entries);
  gauge(cacheMetricNames.l1Bytes, 'Estimated bytes held in L1 (as measured by sizeOf).', (s) => s.l1Bytes);
}
