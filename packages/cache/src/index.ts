export {
  createTieredCache,
  type Compute,
  type ComputeMany,
  type DeleteResult,
  type InvalidationOptions,
  type L1Options,
  type TieredCache,
  type TieredCacheOptions,
} from './cache.ts';
// The breaker itself is @eta/service-kit's (createBreaker); CacheStats reports its state.
export type { BreakerState } from './breaker.ts';
export { jsonCodec, type Codec } from './codec.ts';
export {
  cacheEnv,
  closeRedis,
  createCacheRedis,
  createCacheRedisClients,
  fromEnv,
  type CacheEnvConfig,
  type CacheRedisClients,
  type CacheRedisOptions,
  type FromEnvOptions,
} from './env.ts';
export { computeExpiry, freshness, type Expiry, type ExpiryPolicy, type Freshness } from './expiry.ts';
export type { L2TierOptions } from './l2.ts';
export { silentLogger, type CacheLogger } from './logger.ts';
export { cacheMetricNames, type CacheStats } from './metrics.ts';
// The kit's gauge values (0 closed, 1 half-open, 2 open), re-exported for the cache's users.
export { breakerStateValue } from './breaker.ts';
