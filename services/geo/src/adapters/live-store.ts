import { createTieredCache, type CacheLogger, type TieredCache } from '@eta/cache';
import {
  GEO_LIVE_LOOKUPS_TOTAL,
  GEO_LIVE_REDIS_UP,
  LiveDongStats,
  liveDongKey,
  type LiveDongFeatures,
} from '@eta/contracts';
import { createBreaker } from '@eta/service-kit';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Live per-dong statistics, as Geo answers them. Reads go through an L1-only tiered cache whose compute
 * is one MGET on the Redis the event pipeline writes, so a burst of requests for the same dongs costs one
 * round trip per TTL, and a batch of 500 points costs at most one.
 */
export interface LiveStore {
  /** The live block of each dong code, by code. Never rejects: a Redis failure is an answer too. */
  read(dongCodes: readonly string[]): Promise<ReadonlyMap<string, LiveDongFeatures>>;
  close(): Promise<void>;
}

export interface LiveStoreOptions {
  /** Absent: no REDIS_URL, every answer is `no-redis`. */
  readonly redis: Redis | undefined;
  readonly namespace: string;
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly jitter: number;
  readonly l1MaxEntries: number;
  readonly l1MaxBytes: number;
  readonly breakerFailures: number;
  readonly breakerResetMs: number;
  readonly maxAgeSeconds: number;
  readonly log: CacheLogger;
  readonly registry: Registry;
  readonly now?: () => number;
}

/** What the cache holds per dong: the parsed value, or null when Redis has none (cached too, briefly). */
interface Cached {
  readonly stats: LiveDongStats | null;
  readonly updatedAtMs: number;
}

type Outcome = 'available' | 'no-data' | 'stale' | 'redis-unavailable' | 'invalid';
const OUTCOMES: readonly Outcome[] = ['available', 'no-data', 'stale', 'redis-unavailable', 'invalid'];

const NO_REDIS: LiveDongFeatures = Object.freeze({ available: false, reason: 'no-redis' });
const NO_DATA: LiveDongFeatures = Object.freeze({ available: false, reason: 'no-data' });
const UNAVAILABLE: LiveDongFeatures = Object.freeze({ available: false, reason: 'redis-unavailable' });
const ABSENT: Cached = Object.freeze({ stats: null, updatedAtMs: 0 });

export function createLiveStore(opts: LiveStoreOptions): LiveStore {
  const { redis, log } = opts;
  const now = opts.now ?? Date.now;

  if (redis === undefined) {
    return {
      read: async (codes) => new Map(codes.map((c) => [c, NO_REDIS])),
      close: async () => undefined,
    };
  }

  // Plain numbers on the hot path, read by the registry at scrape time (as @eta/cache does).
  const counts: Record<Outcome, number> = {
    available: 0,
    'no-data': 0,
    stale: 0,
    'redis-unavailable': 0,
    invalid: 0,
  };
  new Counter({
    name: GEO_LIVE_LOOKUPS_TOTAL,
    help: 'Live statistics looked up per dong, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [opts.registry],
    collect() {
      this.reset();
      for (const o of OUTCOMES) this.inc({ outcome: o }, counts[o]);
    },
  });
  let healthy = true;
  const breaker = createBreaker({
    failureThreshold: opts.breakerFailures,
    resetAfterMs: opts.breakerResetMs,
    onStateChange: (to) => log.info({ breaker: to }, 'live statistics Redis breaker changed state'),
  });
  new Gauge({
    name: GEO_LIVE_REDIS_UP,
    help: '1 while the live statistics Redis answers reads, 0 while Geo serves without live features.',
    registers: [opts.registry],
    collect() {
      this.set(redis.status === 'ready' && breaker.state === 'closed' && healthy ? 1 : 0);
    },
  });

  const invalidSeen = new Set<string>();
  const decode = (code: string, text: string | null): Cached => {
    if (text === null) return ABSENT;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = LiveDongStats.safeParse(parsed);
    if (result.success) return { stats: result.data, updatedAtMs: Date.parse(result.data.updatedAt) };
    counts.invalid += 1;
    // Once per dong per process: a broken writer would otherwise log on every cache refill.
    if (!invalidSeen.has(code)) {
      invalidSeen.add(code);
      log.warn(
        { dong: code, issues: result.error.issues.slice(0, 3) },
        'live statistics value does not match the contract; answering no-data',
      );
    }
    return ABSENT;
  };

  const cache: TieredCache<Cached> = createTieredCache<Cached>({
    name: 'geo-live',
    ttlMs: opts.ttlMs,
    staleMs: opts.staleMs,
    jitter: opts.jitter,
    l1: { maxEntries: opts.l1MaxEntries, maxBytes: opts.l1MaxBytes, sizeOf: () => 256 },
    registry: opts.registry,
    log,
    now,
  });

  /**
   * One MGET for every code the cache misses. A failure returns no entry at all rather than throwing:
   * keys left out are not cached (the next request tries again, within the breaker's limits), a stale
   * copy keeps being served through its grace, and the cache does not log a warning per failed refresh.
   */
  const fetchMissing = async (codes: readonly string[]): Promise<ReadonlyMap<string, Cached>> => {
    if (!breaker.tryAcquire()) return new Map();
    let texts: (string | null)[];
    try {
      texts = await redis.mget(codes.map((c) => liveDongKey(c, opts.namespace)));
    } catch (err) {
      breaker.failure();
      if (healthy) log.warn({ err }, 'live statistics Redis read failed; answering without live features');
      healthy = false;
      return new Map();
    }
    breaker.success();
    if (!healthy) log.info({}, 'live statistics Redis reads work again');
    healthy = true;
    return new Map(codes.map((code, i) => [code, decode(code, texts[i] ?? null)]));
  };

  const answer = (cached: Cached | undefined, at: number): LiveDongFeatures => {
    if (cached === undefined) {
      counts['redis-unavailable'] += 1;
      return UNAVAILABLE;
    }
    const { stats } = cached;
    if (stats === null) {
      counts['no-data'] += 1;
      return NO_DATA;
    }
    // A writer whose clock runs ahead would give a negative age; no figure is younger than now.
    const ageSeconds = Math.max(0, Math.round((at - cached.updatedAtMs) / 100) / 10);
    if (ageSeconds > opts.maxAgeSeconds) {
      counts.stale += 1;
      return { available: false, reason: 'stale', ageSeconds };
    }
    counts.available += 1;
    return {
      available: true,
      avgDeliveryMinutes20m: stats.avgDeliveryMinutes20m,
      deliveries20m: stats.deliveries20m,
      ordersInFlight: stats.ordersInFlight,
      updatedAt: stats.updatedAt,
      ageSeconds,
    };
  };

  return {
    async read(codes) {
      const found = await cache.getMany(codes, fetchMissing);
      const at = now();
      const out = new Map<string, LiveDongFeatures>();
      for (const code of codes) if (!out.has(code)) out.set(code, answer(found.get(code), at));
      return out;
    },
    async close() {
      await cache.close();
      opts.registry.removeSingleMetric(GEO_LIVE_LOOKUPS_TOTAL);
      opts.registry.removeSingleMetric(GEO_LIVE_REDIS_UP);
    },
  };
}
