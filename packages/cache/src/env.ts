import { envBool, envInt, envNumber, envUrl, z } from '@eta/config';
import { Redis } from 'ioredis';
import { createTieredCache, type L1Options, type TieredCache, type TieredCacheOptions } from './cache.ts';
import { silentLogger, type CacheLogger } from './logger.ts';

/**
 * The cache's env keys, to merge into a service schema: `baseServiceEnv.extend(cacheEnv.shape)`.
 * Without REDIS_URL the cache is L1 only, which is the safe local default.
 */
export const cacheEnv = z.object({
  REDIS_URL: envUrl(['redis', 'rediss']).optional(),
  CACHE_KEY_PREFIX: z.string().default('eta:'),
  CACHE_TTL_MS: envInt(30_000, { min: 1 }),
  CACHE_TTL_JITTER: envNumber(0.1, { min: 0, max: 1 }),
  CACHE_STALE_MS: envInt(10_000, { min: 0 }),
  CACHE_L1_MAX_ENTRIES: envInt(10_000, { min: 1 }),
  CACHE_L1_MAX_BYTES: envInt(64 * 1024 * 1024, { min: 1 }),
  CACHE_L2_TIMEOUT_MS: envInt(50, { min: 1, max: 10_000 }),
  CACHE_CONNECT_TIMEOUT_MS: envInt(2_000, { min: 1 }),
  CACHE_BREAKER_FAILURES: envInt(5, { min: 1 }),
  CACHE_BREAKER_RESET_MS: envInt(5_000, { min: 1 }),
  CACHE_INVALIDATION: envBool(true),
});

export type CacheEnvConfig = z.output<typeof cacheEnv>;

export interface CacheRedisClients {
  /** Commands (GET/MGET/SET/DEL/PUBLISH): fails fast, never queues behind an outage. */
  readonly redis: Redis;
  /** SUBSCRIBE only; undefined when CACHE_INVALIDATION is off. */
  readonly subscriber: Redis | undefined;
  close(): Promise<void>;
}

export interface CacheRedisOptions {
  /** Shows up in CLIENT LIST as `<name>-cache` / `<name>-cache-sub`, which makes a busy Redis debuggable. */
  readonly name: string;
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly log?: CacheLogger;
}

/**
 * An ioredis client tuned for a cache, where an answer later than the timeout is worth nothing:
 * - enableOfflineQueue false: while disconnected a command fails at once instead of waiting for a
 *   reconnect that may take seconds (the cache then computes);
 * - commandTimeout = the L2 timeout, so ioredis itself drops a command a hung Redis never answers;
 * - maxRetriesPerRequest 0 and no resend after reconnect: a retried read would land after its caller left;
 * - reconnect forever with capped backoff, so L2 comes back by itself after an outage.
 * The subscriber is the exception: it queues SUBSCRIBE until connected and resubscribes on reconnect.
 */
export function createCacheRedis(
  url: string,
  role: 'commands' | 'subscriber',
  opts: CacheRedisOptions,
): Redis {
  const log = opts.log ?? silentLogger;
  const commands = role === 'commands';
  const client = new Redis(url, {
    connectionName: commands ? `${opts.name}-cache` : `${opts.name}-cache-sub`,
    connectTimeout: opts.connectTimeoutMs,
    enableOfflineQueue: !commands,
    maxRetriesPerRequest: commands ? 0 : null,
    autoResendUnfulfilledCommands: !commands,
    autoResubscribe: true,
    ...(commands ? { commandTimeout: opts.timeoutMs } : {}),
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  });
  // One warning per outage, not one per reconnect attempt; ioredis would print unhandled errors to stderr.
  let healthy = true;
  client.on('error', (err: Error) => {
    if (healthy) log.warn({ err, role, cache: opts.name }, 'cache Redis connection failed; retrying');
    healthy = false;
  });
  client.on('ready', () => {
    if (!healthy) log.info({ role, cache: opts.name }, 'cache Redis connection restored');
    healthy = true;
  });
  return client;
}

/** Quits politely when connected (bounded by `ms`), then drops the socket either way. */
export async function closeRedis(client: Redis, ms = 1_000): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
      }),
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}

/** The connections a cache needs, for sharing among several caches of one process; undefined without REDIS_URL. */
export function createCacheRedisClients(
  config: CacheEnvConfig,
  opts: { readonly name: string; readonly log?: CacheLogger },
): CacheRedisClients | undefined {
  const url = config.REDIS_URL;
  if (url === undefined) return undefined;
  const clientOpts: CacheRedisOptions = {
    name: opts.name,
    timeoutMs: config.CACHE_L2_TIMEOUT_MS,
    connectTimeoutMs: config.CACHE_CONNECT_TIMEOUT_MS,
    ...(opts.log !== undefined ? { log: opts.log } : {}),
  };
  const redis = createCacheRedis(url, 'commands', clientOpts);
  const subscriber = config.CACHE_INVALIDATION ? createCacheRedis(url, 'subscriber', clientOpts) : undefined;
  return {
    redis,
    subscriber,
    close: async () => {
      await Promise.all([closeRedis(redis), subscriber === undefined ? undefined : closeRedis(subscriber)]);
    },
  };
}

export type FromEnvOptions<V> = Omit<
  TieredCacheOptions<V>,
  'l1' | 'l2' | 'invalidation' | 'ttlMs' | 'onClose'
> & {
  /** Per-cache overrides of the CACHE_* values (one service may hold caches with different lifetimes). */
  readonly ttlMs?: number;
  readonly l1?: Partial<L1Options<V>>;
  /**
   * Connections shared with other caches; the caller closes them. Without them, and with
   * REDIS_URL set, the cache opens its own and closes them in close().
   */
  readonly clients?: CacheRedisClients;
};

/** Builds a cache from parsed CACHE_* config: L1 only without REDIS_URL, L1 over Redis with it. */
export function fromEnv<V>(config: CacheEnvConfig, opts: FromEnvOptions<V>): TieredCache<V> {
  const { clients: shared, l1, ttlMs, ...rest } = opts;
  const clients =
    shared ?? createCacheRedisClients(config, { name: opts.name, ...(opts.log ? { log: opts.log } : {}) });
  const owned = shared === undefined ? clients : undefined;
  return createTieredCache<V>({
    jitter: config.CACHE_TTL_JITTER,
    staleMs: config.CACHE_STALE_MS,
    ...rest,
    ttlMs: ttlMs ?? config.CACHE_TTL_MS,
    l1: {
      maxEntries: l1?.maxEntries ?? config.CACHE_L1_MAX_ENTRIES,
      maxBytes: l1?.maxBytes ?? config.CACHE_L1_MAX_BYTES,
      ...(l1?.sizeOf !== undefined ? { sizeOf: l1.sizeOf } : {}),
    },
    l2:
      clients === undefined
        ? undefined
        : {
            redis: clients.redis,
            keyPrefix: config.CACHE_KEY_PREFIX,
            timeoutMs: config.CACHE_L2_TIMEOUT_MS,
            breaker: {
              failureThreshold: config.CACHE_BREAKER_FAILURES,
              resetAfterMs: config.CACHE_BREAKER_RESET_MS,
            },
          },
    invalidation: clients?.subscriber === undefined ? undefined : { subscriber: clients.subscriber },
    ...(owned !== undefined ? { onClose: () => owned.close() } : {}),
  });
}
