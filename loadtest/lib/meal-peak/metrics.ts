/**
 * What the meal-peak report reads from the services' /metrics (Prometheus text) before and after each slot:
 * the @eta/cache counters per cache and tier (`cache_{hits,stale,misses,bypassed}_total{cache,tier}`: the BFF's
 * `stores` catalogue and `rough-estimates` caches, Geo's `geo-live` when it has Redis), and each process's CPU
 * seconds and resident set.
 */
import { parseSamples, sampleValue } from '@eta/service-kit';

export interface TierCounts {
  readonly hits: number;
  readonly stale: number;
  readonly misses: number;
  /** L2 calls skipped (no Redis, or its breaker open). */
  readonly bypassed: number;
}

export interface Scrape {
  /** By `<cache>/<tier>` (tier l1 or l2). */
  readonly caches: ReadonlyMap<string, TierCounts>;
  readonly cpuSeconds: number | null;
  readonly rssBytes: number | null;
}

const CACHE_COUNTER = /^cache_(hits|stale|misses|bypassed)_total$/;

export function parseScrape(text: string): Scrape {
  const caches = new Map<string, { hits: number; stale: number; misses: number; bypassed: number }>();
  for (const s of parseSamples(text)) {
    const kind = CACHE_COUNTER.exec(s.name)?.[1] as 'hits' | 'stale' | 'misses' | 'bypassed' | undefined;
    if (kind === undefined) continue;
    const { cache, tier } = s.labels;
    if (cache === undefined || (tier !== 'l1' && tier !== 'l2')) continue;
    const key = `${cache}/${tier}`;
    const entry = caches.get(key) ?? { hits: 0, stale: 0, misses: 0, bypassed: 0 };
    entry[kind] += s.value;
    caches.set(key, entry);
  }
  return {
    caches,
    cpuSeconds: sampleValue(text, 'process_cpu_seconds_total') ?? null,
    rssBytes: sampleValue(text, 'process_resident_memory_bytes') ?? null,
  };
}

export interface TierRatio {
  /** Lookups at this tier in the interval (hits + stale + misses). */
  readonly lookups: number;
  readonly hits: number;
  readonly stale: number;
  readonly misses: number;
  readonly bypassed: number;
  /** (hits + stale) / lookups: answered from this tier, fresh or within its grace; null without lookups. */
  readonly hitRatio: number | null;
}

/** Hit ratio per `<process>/<cache>/<tier>` between two scrapes of each process. */
export function hitRatios(
  before: Readonly<Record<string, Scrape>>,
  after: Readonly<Record<string, Scrape>>,
): Record<string, TierRatio> {
  const out: Record<string, TierRatio> = {};
  for (const [proc, a] of Object.entries(after)) {
    const b = before[proc];
    for (const [key, x] of a.caches) {
      const y = b?.caches.get(key) ?? { hits: 0, stale: 0, misses: 0, bypassed: 0 };
      const hits = x.hits - y.hits;
      const stale = x.stale - y.stale;
      const misses = x.misses - y.misses;
      const lookups = hits + stale + misses;
      out[`${proc}/${key}`] = {
        lookups,
        hits,
        stale,
        misses,
        bypassed: x.bypassed - y.bypassed,
        hitRatio: lookups > 0 ? (hits + stale) / lookups : null,
      };
    }
  }
  return out;
}

/** CPU cores each process used on average between two scrapes `seconds` apart. */
export function cpuCores(
  before: Readonly<Record<string, Scrape>>,
  after: Readonly<Record<string, Scrape>>,
  seconds: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [proc, a] of Object.entries(after)) {
    const b = before[proc]?.cpuSeconds;
    out[proc] =
      a.cpuSeconds === null || b === null || b === undefined || !(seconds > 0)
        ? null
        : Math.round(((a.cpuSeconds - b) / seconds) * 1000) / 1000;
  }
  return out;
}
