import { startPrivateRedis, type PrivateRedis } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createCacheRedis, createTieredCache, type TieredCache } from '../src/index.ts';
import { testPrefix } from './support/redis.ts';

const prefix = testPrefix('outage');
const TIMEOUT_MS = 200;
// Generous on purpose: this checks that a call is bounded by the L2 timeout instead of hanging on a
// dead Redis, not how fast it is; a shared 2-core CI box must not make it flaky.
const BOUND_MS = TIMEOUT_MS + 1_500;

/**
 * A private redis-server that is frozen (SIGSTOP: connected but silent, the worst case), killed and
 * restarted on the same port, while the cache keeps answering.
 */
describe('Redis outage', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let cache: TieredCache<string>;
  const extra: Redis[] = [];
  const extraCaches: TieredCache<string>[] = [];

  // The cache under test has the short timeout the frozen Redis is about; a peer that only reads a
  // healthy Redis gets a generous one, so a busy machine cannot make its read miss and compute instead.
  const options = (r: Redis, timeoutMs = TIMEOUT_MS) => ({
    name: 'outage',
    ttlMs: 600_000,
    l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
    l2: {
      redis: r,
      keyPrefix: prefix,
      timeoutMs,
      breaker: { failureThreshold: 2, resetAfterMs: 1_000 },
    },
  });
  const open = (timeoutMs = TIMEOUT_MS) =>
    createCacheRedis(server.url, 'commands', {
      name: 'outage',
      timeoutMs,
      connectTimeoutMs: 1_000,
    });

  /** Runs one get and reports how long it took; the value must come back whatever Redis does. */
  const timedGet = async (key: string) => {
    const started = performance.now();
    const value = await cache.get(key, async (k) => `computed:${k}`);
    return { value, ms: performance.now() - started };
  };

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = open();
    await new Promise((resolve) => redis.once('ready', resolve));
    cache = createTieredCache<string>(options(redis));
  });

  afterAll(async () => {
    server?.thaw();
    for (const c of [cache, ...extraCaches]) await c?.close();
    await Promise.all([redis, ...extra].filter(Boolean).map((r) => closeRedis(r)));
    await server?.stop();
  });

  it('uses Redis while it is healthy', async () => {
    expect(await cache.get('warm', async () => 'warm-value')).toBe('warm-value');
    await cache.settled();
    const raw = new Redis(server.url);
    extra.push(raw);
    // Waited for rather than read once: a write-back that took longer than the 200 ms timeout on a busy
    // machine still reaches Redis, a moment later.
    await expect.poll(() => raw.get(`${prefix}outage:warm`), { timeout: 10_000 }).toMatch(/\|"warm-value"$/);
    raw.disconnect();
  });

  it('a frozen Redis costs each call at most about the timeout, then the breaker keeps calls off it', async () => {
    server.freeze();
    const before = cache.stats().l2;
    const calls = [];
    for (let i = 0; i < 10; i++) calls.push(await timedGet(`frozen:${i}`));
    await cache.settled();

    expect(calls.map((c) => c.value)).toEqual(calls.map((_, i) => `computed:frozen:${i}`));
    for (const call of calls) expect(call.ms).toBeLessThan(BOUND_MS);
    const after = cache.stats().l2;
    const attempts = after.timeouts + after.errors - (before.timeouts + before.errors);
    // Two failures open the breaker; a write-back racing them may add one or two more. Never ten.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(4);
    expect(after.bypassed - before.bypassed).toBeGreaterThanOrEqual(6);
    // Open, or half-open while a background PING (which the frozen Redis never answers) is out.
    expect(cache.stats().breaker).not.toBe('closed');
    // What was cached before the outage is still served from L1.
    expect((await timedGet('warm')).value).toBe('warm-value');
  });

  it('a stopped Redis: calls skip L2 at once and still answer', async () => {
    await server.stop();
    await expect.poll(() => redis.status, { timeout: 10_000 }).not.toBe('ready');
    const before = cache.stats();
    const calls = [];
    for (let i = 0; i < 5; i++) calls.push(await timedGet(`stopped:${i}`));
    expect(calls.map((c) => c.value)).toEqual(calls.map((_, i) => `computed:stopped:${i}`));
    for (const call of calls) expect(call.ms).toBeLessThan(BOUND_MS);
    expect(cache.stats().compute.calls - before.compute.calls).toBe(5);
    expect(cache.stats().l2.timeouts).toBe(before.l2.timeouts);
    expect((await timedGet('warm')).value).toBe('warm-value');
  });

  it('recovers when Redis is back on the same port: writes reach it and other processes read them', async () => {
    await server.start();
    // ioredis reconnects with backoff; the breaker probes after resetAfterMs and closes on success.
    let n = 0;
    const raw = new Redis(server.url);
    extra.push(raw);
    await expect
      .poll(
        async () => {
          const key = `back:${n++}`;
          await cache.get(key, async (k) => `computed:${k}`);
          await cache.settled();
          return raw.get(`${prefix}outage:${key}`);
        },
        { timeout: 20_000, interval: 200 },
      )
      .toMatch(/\|"computed:back:\d+"$/);
    expect(cache.stats().breaker).toBe('closed');

    const peerRedis = open(10_000);
    extra.push(peerRedis);
    await new Promise((resolve) => peerRedis.once('ready', resolve));
    const peer = createTieredCache<string>(options(peerRedis, 10_000));
    extraCaches.push(peer);
    const lastKey = `back:${n - 1}`;
    expect(await peer.get(lastKey, async () => 'peer must not compute')).toBe(`computed:${lastKey}`);
    expect(peer.stats().l2.hits).toBe(1);
  });
});
