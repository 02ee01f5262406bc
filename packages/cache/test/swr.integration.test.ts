import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createCacheRedis, createTieredCache, type TieredCache } from '../src/index.ts';
import { deferred, deleteByPrefix, redisUrl, testPrefix } from './support/redis.ts';

const prefix = testPrefix('swr');

/**
 * Freshness is decided by the wall-clock instants stored with each value, so the processes here share
 * one injected clock and time moves without waiting. Redis' own expiry (PX = TTL + grace) is far away.
 */
describe('stale-while-revalidate across tiers', () => {
  let t = 1_700_000_000_000;
  const now = () => t;
  const clients: Redis[] = [];
  const caches: TieredCache<string>[] = [];

  const instance = (): TieredCache<string> => {
    const redis = createCacheRedis(redisUrl(), 'commands', {
      name: 'swr',
      timeoutMs: 2_000,
      connectTimeoutMs: 2_000,
    });
    clients.push(redis);
    const cache = createTieredCache<string>({
      name: 'swr',
      ttlMs: 1_000,
      jitter: 0,
      staleMs: 60_000,
      now,
      l1: { maxEntries: 100, maxBytes: 100_000 },
      l2: {
        redis,
        keyPrefix: prefix,
        timeoutMs: 2_000,
        breaker: { failureThreshold: 5, resetAfterMs: 1_000 },
      },
    });
    caches.push(cache);
    return cache;
  };
  let a: TieredCache<string>;
  let b: TieredCache<string>;
  let c: TieredCache<string>;

  beforeAll(async () => {
    a = instance();
    b = instance();
    c = instance();
    await Promise.all(clients.map((r) => new Promise((resolve) => r.once('ready', resolve))));
  });

  afterAll(async () => {
    for (const cache of caches) await cache.close();
    if (clients[0] !== undefined) await deleteByPrefix(clients[0], prefix);
    await Promise.all(clients.map((r) => closeRedis(r)));
  });

  it('serves the stale value to every caller while one refresh runs, then the new one everywhere', async () => {
    expect(await a.get('route:7', () => 'v1')).toBe('v1');
    await a.settled();
    t += 1_500;

    const gate = deferred<string>();
    let refreshes = 0;
    const refresh = () => {
      refreshes += 1;
      return gate.promise;
    };
    const during = await Promise.all(Array.from({ length: 20 }, () => a.get('route:7', refresh)));
    expect(during).toEqual(Array(20).fill('v1'));
    // The refresh first checks Redis (another process may have refreshed already), then computes.
    await expect.poll(() => refreshes, { timeout: 10_000 }).toBe(1);
    expect(await a.get('route:7', refresh)).toBe('v1');

    gate.resolve('v2');
    await a.settled();
    expect(await a.get('route:7', refresh)).toBe('v2');
    expect(refreshes).toBe(1);
    // The refresh was written through: a process with a cold L1 reads v2 from Redis, fresh.
    expect(await b.get('route:7', () => 'must not compute')).toBe('v2');
    expect(b.stats().l2).toMatchObject({ hits: 1, stale: 0 });
  });

  it('a stale value found in Redis is served at once and refreshed in the background', async () => {
    t += 1_500;
    let computes = 0;
    const compute = async () => `v3-${++computes}`;
    expect(await c.get('route:7', compute)).toBe('v2');
    expect(c.stats().l2.stale).toBe(1);
    await c.settled();
    expect(computes).toBe(1);
    expect(await c.get('route:7', compute)).toBe('v3-1');
    expect(await b.get('route:7', compute)).toBe('v2');
    // b still holds v2 in L1 and it is stale there too: b refreshes from Redis, where c's v3 now is.
    await b.settled();
    expect(await b.get('route:7', compute)).toBe('v3-1');
    expect(computes).toBe(1);
  });
});
