import { closeRedis, createCacheRedis, type CacheLogger } from '@eta/cache';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';

export interface LiveRedis {
  readonly redis: Redis;
  close(): Promise<void>;
}

/**
 * The Redis connection live statistics are read from, or undefined without REDIS_URL. It is the cache
 * package's command client: no offline queue, a command timeout of CACHE_L2_TIMEOUT_MS, endless capped
 * reconnects, so an outage costs a request nothing more than a fast failure and heals by itself.
 *
 * Waits for the first connection attempt to settle (connected, refused, or CACHE_CONNECT_TIMEOUT_MS), so
 * the first requests after start do not answer `redis-unavailable` only because the socket was still
 * opening; it never fails: Geo serves without Redis.
 */
export async function createLiveRedis(config: Config, log: CacheLogger): Promise<LiveRedis | undefined> {
  const url = config.REDIS_URL;
  if (url === undefined) return undefined;
  const redis = createCacheRedis(url, 'commands', {
    name: 'geo-live',
    timeoutMs: config.CACHE_L2_TIMEOUT_MS,
    connectTimeoutMs: config.CACHE_CONNECT_TIMEOUT_MS,
    log,
  });
  await firstAttempt(redis, config.CACHE_CONNECT_TIMEOUT_MS);
  if (redis.status !== 'ready') {
    log.warn(
      { status: redis.status },
      'live statistics Redis not reachable at start; serving without live features until it is',
    );
  }
  return { redis, close: () => closeRedis(redis) };
}

async function firstAttempt(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let settle: () => void = () => {};
  await new Promise<void>((resolve) => {
    settle = resolve;
    timer = setTimeout(resolve, timeoutMs);
    redis.once('ready', settle);
    redis.once('error', settle);
  });
  clearTimeout(timer);
  redis.off('ready', settle);
  redis.off('error', settle);
}
