// Issue 12, defect 4 for the cache: its L2 breaker (and `cache_breaker_state`) stayed open after Redis had
// recovered, until a lookup happened to probe it, and that lookup skipped L2. A private redis-server is
// frozen (SIGSTOP: connected but silent) until the breaker opens, then thawed; with no lookup at all the
// breaker must find Redis back by itself (a background PING).
import { startPrivateRedis, type PrivateRedis } from '@eta/testing';
import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeRedis,
  createCacheRedis,
  createTieredCache,
  type CacheLogger,
  type TieredCache,
} from '../src/index.ts';
import { testPrefix } from './support/redis.ts';

const prefix = testPrefix('breaker-recovery');
const TIMEOUT_MS = 200;

describe('regression: the L2 breaker stays open after Redis recovered, until a lookup probes it', () => {
  let server: PrivateRedis;
  const clients: Redis[] = [];
  const caches: TieredCache<string>[] = [];
  const transitions: string[] = [];
  const log: CacheLogger = {
    debug: () => undefined,
    info: (obj) => record(obj),
    warn: (obj) => record(obj),
    error: () => undefined,
  };
  const record = (obj: object) => {
    const { from, to } = obj as { from?: string; to?: string };
    if (from !== undefined && to !== undefined) transitions.push(`${from}->${to}`);
  };

  const connect = async (timeoutMs = TIMEOUT_MS) => {
    const redis = createCacheRedis(server.url, 'commands', {
      name: 'recovery',
      timeoutMs,
      connectTimeoutMs: 1_000,
    });
    clients.push(redis);
    await new Promise((resolve) => redis.once('ready', resolve));
    return redis;
  };
  const cache = (redis: Redis, registry: Registry, logger?: CacheLogger, timeoutMs = TIMEOUT_MS) => {
    const c = createTieredCache<string>({
      name: 'recovery',
      ttlMs: 600_000,
      l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
      l2: {
        redis,
        keyPrefix: prefix,
        timeoutMs,
        breaker: { failureThreshold: 2, resetAfterMs: 100 },
      },
      registry,
      ...(logger ? { log: logger } : {}),
    });
    caches.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startPrivateRedis();
  });
  afterAll(async () => {
    server?.thaw();
    for (const c of caches) await c.close();
    await Promise.all(clients.map((r) => closeRedis(r)));
    await server?.stop();
  });

  /** `cache_breaker_state{cache="recovery"}` as a scrape reads it: 0 closed, 1 half-open, 2 open. */
  const gauge = async (registry: Registry) => {
    const text = await registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('cache_breaker_state{cache="recovery"}'));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('closes by itself once Redis answers again; the first lookup after that reads L2', async () => {
    const registry = new Registry();
    const c = cache(await connect(), registry, log);

    server.freeze();
    try {
      let n = 0;
      // Lookups time out against the frozen Redis until the breaker opens; each is still answered.
      const answers = new Set<string>();
      await expect
        .poll(
          async () => {
            answers.add(await c.get(`frozen:${n++}`, async () => 'computed'));
            return c.stats().breaker;
          },
          { timeout: 15_000 },
        )
        .not.toBe('closed');
      expect([...answers]).toEqual(['computed']);
      expect(await gauge(registry)).toBeGreaterThan(0);
      // While Redis is frozen a background PING goes out and fails: half-open, then open again.
      await expect.poll(() => transitions.includes('half-open->open'), { timeout: 15_000 }).toBe(true);
    } finally {
      server.thaw();
    }

    const before = c.stats();
    // No lookup at all from here on: the metric alone goes to closed.
    await expect.poll(() => gauge(registry), { timeout: 20_000 }).toBe(0);
    expect(c.stats().breaker).toBe('closed');
    expect(c.stats().compute.calls).toBe(before.compute.calls);

    // A peer (its own connection and breaker) writes a value to Redis; the first lookup after the
    // recovery must read it from L2, not skip L2 and compute.
    // The peer only writes to a healthy Redis: a generous timeout, so a busy machine cannot fail its write.
    const peer = cache(await connect(10_000), new Registry(), undefined, 10_000);
    expect(await peer.get('shared', async () => 'from-peer')).toBe('from-peer');
    await peer.settled();
    expect(await c.get('shared', async () => 'computed-again')).toBe('from-peer');
    expect(c.stats().l2.hits).toBe(before.l2.hits + 1);
    expect(c.stats().l2.bypassed).toBe(before.l2.bypassed);
  });
});
