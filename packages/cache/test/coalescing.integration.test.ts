import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createCacheRedis, createTieredCache, type TieredCache } from '../src/index.ts';
import { deferred, deleteByPrefix, redisUrl, testPrefix } from './support/redis.ts';

const prefix = testPrefix('coalescing');
const clients: Redis[] = [];
const caches: TieredCache<unknown>[] = [];

const newCache = <V>(): TieredCache<V> => {
  const redis = createCacheRedis(redisUrl(), 'commands', {
    name: 'coalescing',
    timeoutMs: 2_000,
    connectTimeoutMs: 2_000,
  });
  clients.push(redis);
  const cache = createTieredCache<V>({
    name: 'eta',
    ttlMs: 60_000,
    l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
    l2: { redis, keyPrefix: prefix, timeoutMs: 2_000, breaker: { failureThreshold: 5, resetAfterMs: 1_000 } },
  });
  caches.push(cache as TieredCache<unknown>);
  return cache;
};

describe('coalescing against real Redis', () => {
  let first: TieredCache<{ eta: number }>;
  let second: TieredCache<{ eta: number }>;

  beforeAll(async () => {
    first = newCache();
    second = newCache();
    // The command clients fail fast until connected; wait so the test measures coalescing, not startup.
    await Promise.all(clients.map((c) => new Promise((resolve) => c.once('ready', resolve))));
  });

  afterAll(async () => {
    for (const cache of caches) await cache.close();
    if (clients[0] !== undefined) await deleteByPrefix(clients[0], prefix);
    await Promise.all(clients.map((c) => closeRedis(c)));
  });

  it('100 concurrent misses on one key: one Redis GET, one compute', async () => {
    const gate = deferred<{ eta: number }>();
    let computes = 0;
    const compute = () => {
      computes += 1;
      return gate.promise;
    };
    const burst = Array.from({ length: 100 }, () => first.get('store:42', compute));
    gate.resolve({ eta: 1_260 });
    const values = await Promise.all(burst);
    expect(values.every((v) => v.eta === 1_260)).toBe(true);
    expect(computes).toBe(1);
    expect(first.stats().l1.misses).toBe(100);
    // All 100 waited on one load, which asked Redis once.
    expect(first.stats().l2).toMatchObject({ misses: 1, hits: 0, errors: 0, timeouts: 0 });
    await first.settled();
  });

  it('another process coalesces onto one L2 read and computes nothing', async () => {
    let computes = 0;
    const values = await Promise.all(
      Array.from({ length: 100 }, () => second.get('store:42', () => ({ eta: ++computes }))),
    );
    expect(values.every((v) => v.eta === 1_260)).toBe(true);
    expect(computes).toBe(0);
    expect(second.stats().l2).toMatchObject({ hits: 1, misses: 0 });
  });
});
