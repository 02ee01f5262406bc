import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createCacheRedis, createTieredCache, type TieredCache } from '../src/index.ts';
import { deleteByPrefix, redisUrl, testPrefix } from './support/redis.ts';

const prefix = testPrefix('invalidation');

/** Two cache instances with their own connections stand in for two pods. */
describe('cross-process L1 invalidation over pub/sub', () => {
  const clients: Redis[] = [];
  let a: TieredCache<string>;
  let b: TieredCache<string>;

  const run = randomUUID().slice(0, 8);
  const pod = (pod: string): TieredCache<string> => {
    // A unique connection name, so this test can find (and kill) its own subscriber in CLIENT LIST.
    const opts = { name: `invalidation-${pod}-${run}`, timeoutMs: 2_000, connectTimeoutMs: 2_000 };
    const redis = createCacheRedis(redisUrl(), 'commands', opts);
    const subscriber = createCacheRedis(redisUrl(), 'subscriber', opts);
    clients.push(redis, subscriber);
    return createTieredCache<string>({
      name: 'eta',
      ttlMs: 600_000,
      l1: { maxEntries: 100, maxBytes: 100_000 },
      l2: {
        redis,
        keyPrefix: prefix,
        timeoutMs: 2_000,
        breaker: { failureThreshold: 5, resetAfterMs: 1_000 },
      },
      invalidation: { subscriber },
    });
  };

  beforeAll(async () => {
    a = pod('a');
    b = pod('b');
    await Promise.all(clients.map((r) => new Promise((resolve) => r.once('ready', resolve))));
    await Promise.all([a.ready(), b.ready()]);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    if (clients[0] !== undefined) await deleteByPrefix(clients[0], prefix);
    await Promise.all(clients.map((r) => closeRedis(r)));
  });

  // The waits below are for a condition with a cap far above any busy machine (vitest polls every 20 ms):
  // a 1 s cap made these latency checks, which a shared 2-core runner can fail without anything wrong.
  it('a delete in one process empties the other L1', async () => {
    expect(await a.get('store:1', () => 'old')).toBe('old');
    await a.settled();
    expect(await b.get('store:1', () => 'b must read it from Redis')).toBe('old');
    // b now answers from its own L1 (TTL 10 min), so only the invalidation can change its answer.
    expect(await b.get('store:1', () => 'new')).toBe('old');

    expect(await a.delete('store:1')).toEqual({ l2: true, published: true });
    await expect.poll(() => b.get('store:1', () => 'new'), { timeout: 10_000, interval: 20 }).toBe('new');
    expect(await a.get('store:1', () => 'a recomputes')).toBe('new');
  });

  it('set() replaces the value in every process', async () => {
    await a.getMany(['store:2', 'store:3'], (keys) => new Map(keys.map((k) => [k, `v1-${k}`])));
    await a.settled();
    expect(await b.get('store:2', () => 'unexpected')).toBe('v1-store:2');
    await a.set('store:2', 'v2');
    await expect
      .poll(() => b.get('store:2', () => 'unexpected'), { timeout: 10_000, interval: 20 })
      .toBe('v2');
  });

  it('a process ignores its own messages (its fresh value survives its own broadcast)', async () => {
    await a.set('store:4', 'mine');
    // Pub/sub keeps per-channel order: once a hears b's later message, it has handled its own.
    await a.get('probe', () => 'p');
    await b.deleteMany(['probe']);
    await expect.poll(() => a.get('probe', () => 'gone'), { timeout: 10_000, interval: 20 }).toBe('gone');
    const before = a.stats().l1.hits;
    expect(await a.get('store:4', () => 'recomputed')).toBe('mine');
    expect(a.stats().l1.hits).toBe(before + 1);
  });

  it('after its subscriber reconnects, a process drops its whole L1: invalidations sent meanwhile are lost', async () => {
    await a.getMany(['store:5', 'store:6'], (keys) => new Map(keys.map((k) => [k, `v-${k}`])));
    expect(a.stats().l1Entries).toBeGreaterThan(0);
    const admin = clients[0]!;
    const list = String(await admin.client('LIST'));
    const id = /id=(\d+) [^\n]*name=invalidation-a-[^ ]*-cache-sub/.exec(list)?.[1];
    expect(id).toBeDefined();
    await admin.client('KILL', 'ID', id!);
    await expect.poll(() => a.stats().l1Entries, { timeout: 10_000 }).toBe(0);
    // Back to normal: the resubscribed process hears deletes again.
    await a.get('store:7', () => 'v');
    await expect
      .poll(async () => (await b.delete('store:7')).published && (await a.get('store:7', () => 'w')), {
        timeout: 10_000,
        interval: 100,
      })
      .toBe('w');
  });
});
