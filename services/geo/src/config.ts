import { baseServiceEnv, envInt, envPort, envUrl, z } from '@eta/config';
import { cacheEnv } from '@eta/cache';
import { DEFAULT_DATA_DIR } from './domain/index.ts';

/**
 * The cache settings Geo uses from @eta/cache's fragment. The live statistics already live in Redis (the
 * event pipeline writes them there), so the cache is L1 only in front of that Redis: a copy of a Redis
 * value in a second Redis key would only add a round trip. Hence no L2 on REDIS_URL and no CACHE_KEY_PREFIX or
 * CACHE_INVALIDATION; CACHE_L2_TIMEOUT_MS and the breaker keys bound the reads of REDIS_URL instead, the
 * role an L2 plays. Defaults are shorter than the package's because the figures are "live".
 */
const geoCacheEnv = cacheEnv
  .pick({
    CACHE_TTL_JITTER: true,
    CACHE_L1_MAX_ENTRIES: true,
    CACHE_L1_MAX_BYTES: true,
    CACHE_L2_TIMEOUT_MS: true,
    CACHE_CONNECT_TIMEOUT_MS: true,
    CACHE_BREAKER_FAILURES: true,
    CACHE_BREAKER_RESET_MS: true,
  })
  .extend({
    CACHE_TTL_MS: envInt(2_000, { min: 1, max: 300_000 }),
    CACHE_STALE_MS: envInt(3_000, { min: 0, max: 300_000 }),
  });

export const configSchema = baseServiceEnv.extend(geoCacheEnv.shape).extend({
  PORT: envPort(8081),
  /** Directory holding seoul-dongs.json and dong-food-density.json; the image copies data/ next to src/. */
  GEO_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  /** Where live per-dong statistics are read; without it Geo answers with `live: no-redis`. */
  REDIS_URL: envUrl(['redis', 'rediss']).optional(),
  /** Prepended to the live keys (`<ns>geo:live:dong:<code>`) when environments share a Redis. */
  GEO_LIVE_KEY_NAMESPACE: z.string().default(''),
  /** Older live values are answered as `stale`: a 20-minute mean from long ago is no longer live. */
  GEO_LIVE_MAX_AGE_SECONDS: envInt(300, { min: 1, max: 86_400 }),
});

export type Config = z.output<typeof configSchema>;
