import {
  fromEnv,
  type CacheEnvConfig,
  type CacheLogger,
  type CacheRedisClients,
  type TieredCache,
} from '@eta/cache';
import type { Registry } from 'prom-client';
import { storeViewCodec } from '../../domain/catalog-codec.ts';
import type { StoreView } from '../../domain/stores.ts';

export interface StoreViewCacheOptions {
  /** Redis connections shared with the service's other caches; the caller closes them. */
  readonly clients?: CacheRedisClients;
  readonly registry?: Registry;
  readonly log?: CacheLogger;
  /** Overrides CACHE_TTL_MS for this cache. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * The tiered cache the store catalogue reads through: name "stores" (Redis keys `<prefix>stores:<id>`,
 * channel `<prefix>stores:invalidate`) and a codec that restores Dates and validates what Redis returns.
 */
export function createStoreViewCache(
  config: CacheEnvConfig,
  opts: StoreViewCacheOptions = {},
): TieredCache<StoreView> {
  return fromEnv<StoreView>(config, {
    name: 'stores',
    codec: storeViewCodec,
    ...(opts.clients !== undefined ? { clients: opts.clients } : {}),
    ...(opts.registry !== undefined ? { registry: opts.registry } : {}),
    ...(opts.log !== undefined ? { log: opts.log } : {}),
    ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
}
